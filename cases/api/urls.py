"""Routes of the case API, merged into the v1 router by `config.api.urls`."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from . import deconfliction, documents, graph, mla, networks, search, trace, uploads, views

router = SimpleRouter()
# Before `cases`, whose detail route would take `tombstones` for a case id.
router.register("cases/tombstones", views.CaseTombstoneViewSet, basename="case-tombstone")
router.register("cases", views.CaseViewSet, basename="case")
router.register(
    r"cases/(?P<case_id>[^/]+)/participants", views.ParticipantViewSet, basename="participant"
)
router.register(
    r"cases/(?P<case_id>[^/]+)/share-proposals",
    views.CaseShareProposalViewSet,
    basename="case-share-proposal",
)
router.register("share-proposals", views.ShareProposalViewSet, basename="share-proposal")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("notes", views.NoteViewSet, basename="note")
router.register("mla-requests", mla.MLARequestViewSet, basename="mla-request")
router.register("documents", documents.DocumentViewSet, basename="document")
router.register("uploads", uploads.UploadViewSet, basename="upload")
router.register("identifiers", deconfliction.IdentifierViewSet, basename="identifier")
router.register("deconfliction", deconfliction.DeconflictionViewSet, basename="deconfliction")
router.register(
    r"cases/(?P<case_id>[^/.]+)/stix", deconfliction.CaseStixViewSet, basename="case-stix"
)
router.register("search", search.SearchViewSet, basename="search")
router.register("entities", networks.EntityViewSet, basename="entity")
router.register("links", networks.LinkViewSet, basename="link")
router.register("transactions", networks.TransactionViewSet, basename="transaction")
router.register("assets", networks.AssetViewSet, basename="asset")
router.register("trace", trace.TraceViewSet, basename="trace")

# One picture per case, read like an object (not a page of a list).
urlpatterns = [
    re_path(
        r"^cases/(?P<case_id>[^/.]+)/graph/$",
        graph.CaseGraphViewSet.as_view({"get": "retrieve"}),
        name="case-graph-detail",
    ),
]
