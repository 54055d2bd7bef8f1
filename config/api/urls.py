"""`/api/v1/`, `/api/schema/`, `/api/docs/`.

To add endpoints: give your app an `api/urls.py` with a `router`
(SimpleRouter) and optionally `urlpatterns`, and list the module in `APPS`.
"""

from importlib import import_module

from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import APIRootView, DefaultRouter

from .base import StrictQueryMixin
from .problems import not_found_view


class RootView(StrictQueryMixin, APIRootView):
    """The links to every list, taking no query parameter (as every endpoint)."""


APPS = [
    "agencies.api.urls",
    "cases.api.urls",
    "audit.api.urls",
    "notifications.api.urls",
]

router = DefaultRouter()
router.APIRootView = RootView
extra_patterns: list[URLPattern | URLResolver] = []
for module_name in APPS:
    module = import_module(module_name)
    router.registry.extend(module.router.registry)
    extra_patterns += getattr(module, "urlpatterns", [])

app_name = "api"
urlpatterns = [
    path("v1/", include((extra_patterns + router.urls, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Unknown API paths answer in the API's error shape, not with an HTML page.
    re_path(r"^.*$", not_found_view),
]
