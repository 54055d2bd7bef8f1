"""Put the request's id, IP and user where `audit.services.record` finds them."""

from __future__ import annotations

import ipaddress

from django.conf import settings

from . import context


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the first X-Forwarded-For hop only when the deployment
    says a trusted proxy sets it (a client can write that header itself)."""
    if getattr(settings, "AUDIT_TRUST_X_FORWARDED_FOR", False):
        hop = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            pass  # absent or not an address: the connection's own
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # One id per request: reuse the one `config.requestid` gave the logs.
        request_id = getattr(request, "request_id", None) or context.new_request_id(
            request.META.get("HTTP_X_REQUEST_ID")
        )
        request.request_id = request_id
        token = context.activate(
            context.RequestContext(request_id=request_id, ip=client_ip(request), request=request)
        )
        try:
            response = self.get_response(request)
        finally:
            context.deactivate(token)
        response["X-Request-ID"] = request_id
        return response
