"""Request ids: one id per request, in every log line and in the response.

First in MIDDLEWARE so that every log line, even from middleware before
authentication, carries the id; `audit.middleware.AuditContextMiddleware`
reuses `request.request_id`, so the log and the audit event agree.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# An id from the proxy is kept only if it is short and plain, so a client
# cannot inject line breaks or megabytes into the logs.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Not reset on the way out: Django logs the response ("django.request")
        # after the middleware chain returns, and that line needs the id too.
        # The next request on this thread or task sets its own.
        _request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
