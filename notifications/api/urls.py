"""Routes of the notification API, merged into the v1 router by `config.api.urls`."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("notifications", views.NotificationViewSet, basename="notification")
