"""Routes of the audit API, merged into the v1 router by `config.api.urls`."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
