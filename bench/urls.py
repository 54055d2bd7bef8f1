"""The application's URLs plus `/bench/ping/`, served only by the load benchmark.

The trivial view goes through the same middleware, bearer-token
authentication and permission class as the API, and renders a constant: the
floor that the list endpoint's throughput is compared with.
"""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as app_urlpatterns


class Ping(APIView):
    def get(self, request, *args, **kwargs):
        return Response({"ok": True})


urlpatterns = [path("bench/ping/", Ping.as_view()), *app_urlpatterns]
