"""Routes of the notification API, merged into the v1 router by `config.api.urls`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views, webhooks

router = SimpleRouter()
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("webhooks", webhooks.WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("events/catalogue/", webhooks.EventCatalogueView.as_view(), name="event-catalogue"),
]
