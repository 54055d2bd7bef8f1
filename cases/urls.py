from django.urls import path

from . import document_views

app_name = "cases"

urlpatterns = [
    path("documents/upload/", document_views.upload, name="document-upload"),
    path("documents/<uuid:public_id>/download/", document_views.download, name="document-download"),
    path(
        "documents/<uuid:public_id>/custody/",
        document_views.custody_report,
        name="document-custody",
    ),
]
