"""`Idempotency-Key` on POST: a retried request has one effect.

A partner system that times out on `POST /cases/` cannot know whether the
case was created; with an `Idempotency-Key` it retries safely:

* same key, same request → the first response is replayed (with
  `Idempotent-Replayed: true`), nothing new is created;
* same key, different method/path/body → 422, nothing done;
* keys are scoped per user (a partner system's service account), kept for
  `API_IDEMPOTENCY_TTL_HOURS`.

Exactly once, also under concurrent retries: the whole request runs in one
transaction that starts by inserting the key's row (unique per user and key)
and ends by storing the response in it. A concurrent retry's INSERT waits on
the unique index until the first transaction ends, then either finds the
stored response and replays it, or (if the first rolled back) proceeds
itself. The write and its recorded response commit together or not at all;
a 5xx rolls both back so the client may retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from agencies.models import IdempotencyRecord

from .problems import ConflictError, UnprocessableError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
_KEPT_HEADERS = ("ETag", "Location")


class Replay(Exception):
    """Raised from `begin` to answer with the stored response."""

    def __init__(self, response: Response):
        self.response = response


def applies(request: Any) -> bool:
    return request.method == "POST" and HEADER in request.headers


def _fingerprint(request: Request) -> str:
    """What makes two requests "the same": method, path with query, and the
    parsed body in canonical form (key order and whitespace do not matter).
    Uploaded files count by name, size and type, so large bodies are not
    re-read."""
    data = request.data
    if hasattr(data, "lists"):  # QueryDict (form or multipart)
        body: Any = {k: sorted(map(str, v)) for k, v in data.lists()}
        body["__files__"] = sorted(
            (name, f.name, f.size, f.content_type)
            for name, files in request.FILES.lists()
            for f in files
        )
    else:
        body = data
    canonical = json.dumps(
        [request.method, request.get_full_path(), body],
        sort_keys=True,
        separators=(",", ":"),
        cls=JSONEncoder,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _validate_key(key: str) -> str:
    key = key.strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [_("Give 1 to 255 printable characters, e.g. a UUID.")]}
        )
    return key


def begin(request: Request) -> IdempotencyRecord | None:
    """Claim the key for this request, or raise Replay / 422. Runs inside the
    request's transaction (see `GatedViewSet.dispatch`)."""
    if not applies(request):
        return None
    key = _validate_key(request.headers[HEADER])
    fingerprint = _fingerprint(request)
    now = timezone.now()
    ttl = dt.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    # An expired key may be reused: forget its old response first.
    IdempotencyRecord.objects.filter(user=request.user, key=key, created_at__lt=now - ttl).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                fingerprint=fingerprint,
                method=request.method,
                path=request.path[:500],
                created_at=now,
            )
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.get(user=request.user, key=key)
    if existing.fingerprint != fingerprint:
        raise UnprocessableError(
            _("This Idempotency-Key was used for a different request."),
            code="idempotency_key_reused",
        )
    if existing.status_code is None:  # cannot commit so, but never replay a non-response
        raise ConflictError(
            _("A request with this Idempotency-Key is in progress."),
            code="idempotency_key_in_progress",
        )
    headers = {**existing.response_headers, REPLAYED_HEADER: "true"}
    content_type = headers.pop("Content-Type", None)
    raise Replay(
        Response(
            existing.response_body,
            status=existing.status_code,
            headers=headers,
            content_type=content_type,
        )
    )


def finish(record: IdempotencyRecord, response: Response) -> None:
    """Store the response with the key, in the same transaction as the write."""
    if response.status_code >= 500:
        transaction.set_rollback(True)
        return
    if not isinstance(response, Response):
        # A stream (an evidence download) cannot be kept to replay: the key
        # is released, and a retry downloads again (recorded again).
        record.delete()
        return
    record.status_code = response.status_code
    record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
    headers = {h: response[h] for h in _KEPT_HEADERS if response.has_header(h)}
    if response.content_type:  # set explicitly for problem details
        headers["Content-Type"] = response.content_type
    record.response_headers = headers
    record.save(update_fields=["status_code", "response_body", "response_headers"])
