"""Liveness and readiness probes for the orchestrator.

`/healthz` answers as long as the process serves requests and touches
nothing else, so a database outage does not get every web process killed.
`/readyz` says whether this process can do useful work (database, and the
broker when one is configured); a 503 takes it out of the load balancer. It
also names the cache's state, which does not make it unready.
The JSON names the failing dependency but never the error text, which could
carry host names or credentials to an anonymous caller; the error is logged.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.cache import cache_state

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("readiness: database unreachable")
        return False


def _broker_ok(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        return True
    except Exception:
        logger.exception("readiness: broker unreachable")
        return False


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": "ok" if _database_ok() else "unavailable"}
    # The cache only holds counters (config.cache falls back without it), so
    # it is reported for the operator but does not take the process out.
    checks["cache"] = cache_state()
    if settings.CELERY_BROKER_URL:
        checks["broker"] = "ok" if _broker_ok(settings.CELERY_BROKER_URL) else "unavailable"
    ready = all(value == "ok" for name, value in checks.items() if name != "cache")
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


class ProbeMiddleware:
    """Answer /healthz and /readyz before anything reads the Host header.

    Probes come from inside the network, addressed by IP (a container's
    127.0.0.1, a pod's address), which is never in ALLOWED_HOSTS; host
    validation would answer 400 and mark a healthy process dead. The probes
    return no data, so skipping host validation for them exposes nothing.
    First in MIDDLEWARE.
    """

    PROBES = {"/healthz": healthz, "/readyz": readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        probe = self.PROBES.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)
