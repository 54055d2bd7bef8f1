from django.contrib import admin
from django.urls import include, path

from cases.views_mla import mla_request_letter, mla_request_letter_pdf
from config import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("account/", include("security.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("config.api.urls")),
    path(
        "mla-requests/<uuid:public_id>/letter/",
        mla_request_letter,
        name="mla-request-letter",
    ),
    path(
        "mla-requests/<uuid:public_id>/letter.pdf",
        mla_request_letter_pdf,
        name="mla-request-letter-pdf",
    ),
    path("", include("cases.urls")),
]
