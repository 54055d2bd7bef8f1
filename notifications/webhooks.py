"""Signing and sending webhook POSTs to partner systems.

The body carries identifiers only (event id, type, version, time, object
type, id and API URL; `notifications.catalogue` has its JSON Schema per
event type), the headers the same event id, type and version: the partner
fetches the object through the API, where the gate decides again. The
signature is HMAC-SHA256 over "<timestamp>.<body>" so a captured request
cannot be replayed later with a fresh timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings

from .catalogue import version_of
from .models import OutboxMessage
from .registry import ObjectType

SIGNATURE_HEADER = "X-Casebridge-Signature"
TIMESTAMP_HEADER = "X-Casebridge-Timestamp"


def payload_for(message: OutboxMessage, object_type: ObjectType) -> dict:
    base = settings.CASEBRIDGE_BASE_URL.rstrip("/")
    return {
        "id": str(message.pk),
        "type": message.event_type,
        "version": version_of(message.event_type),
        "time": message.created_at.isoformat(),
        "object": {
            "type": message.object_type,
            "id": str(message.object_id),
            "url": f"{base}/api/v1/{object_type.api_path.format(id=message.object_id)}",
        },
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and what the tests do)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass
class PostResult:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would send the signed body somewhere the agency did not register.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, *, secret: str, payload: dict, delivery_id: int) -> PostResult:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (scheme checked by the endpoint's validation)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Casebridge-Webhooks/1",
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            "X-Casebridge-Event": payload["type"],
            "X-Casebridge-Event-Id": payload["id"],
            "X-Casebridge-Event-Version": str(payload["version"]),
            "X-Casebridge-Delivery": str(delivery_id),
        },
    )
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=settings.NOTIFICATIONS_WEBHOOK_TIMEOUT) as response:
            status, error = response.status, ""
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        status, error = None, str(getattr(exc, "reason", exc))[:500]
    return PostResult(status, error, int((time.monotonic() - started) * 1000))
