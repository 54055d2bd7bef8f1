from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

from cases.views_mla import mla_request_letter, mla_request_letter_pdf
from config import health


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """The icon, resolved at request time (the static storage may hash names)."""
    return HttpResponsePermanentRedirect(static("casebridge/favicon.svg"))


urlpatterns = [
    # The landing page is the admin's "My work" (the investigator's workspace).
    path("", RedirectView.as_view(url=reverse_lazy("admin:index")), name="home"),
    # Browsers ask for /favicon.ico on pages without a <link rel=icon> (API, printables).
    path("favicon.ico", favicon, name="favicon"),
    # Django's set_language: the language picker before sign-in (admin/base_site.html).
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("account/", include("security.urls")),
    # Sign in through an agency's identity provider (OpenID Connect).
    path("account/sso/", include("agencies.urls")),
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
