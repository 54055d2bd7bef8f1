"""Routes of the agency API, merged into the v1 router by `config.api.urls`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("agencies", views.AgencyViewSet, basename="agency")

urlpatterns = [path("me/", views.MeView.as_view(), name="me")]
