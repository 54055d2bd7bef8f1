"""HTTP caching semantics of every `/api/` response, in one place.

* `Cache-Control: no-store` on every API response, errors included: case
  data must not linger in a proxy, a browser cache or a partner's HTTP
  library's disk cache. The OpenAPI document and its viewer (`/api/schema/`,
  `/api/docs/`) hold no case data and change only with a release: they get
  `Cache-Control: private, no-cache` instead, so a client may keep them and
  revalidate with their `ETag` (private: they are served to authenticated
  users, in their language).
* Conditional GET: a JSON answer without an `ETag` of its own (lists, `me/`)
  gets one from its bytes, and a GET whose `If-None-Match` names the current
  `ETag` (an object's version, or that hash) is answered `304 Not Modified`
  without a body (RFC 9110 §13.1.2, weak comparison). The object is still
  read through the gate first, so a 304 says nothing a 200 would not.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, set_response_etag

API_PREFIX = "/api/"
#: Documents about the API rather than answers of it: cacheable, revalidated.
DOCUMENT_PREFIXES = ("/api/schema/", "/api/docs/")


class ApiCachingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX):
            return response
        document = request.path.startswith(DOCUMENT_PREFIXES)
        response["Cache-Control"] = "private, no-cache" if document else "no-store"
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        if response.streaming:
            return response
        if not document and not response.get("Content-Type", "").startswith("application/json"):
            return response
        if not response.has_header("ETag"):
            set_response_etag(response)
        return get_conditional_response(request, etag=response["ETag"], response=response)
