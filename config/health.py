"""Liveness and readiness probes for the orchestrator.

`/healthz` answers as long as the process serves requests and touches
nothing else, so a database outage does not get every web process killed.
`/readyz` names the state of each dependency, `{"state": "ok"}` or
`{"state": "error", "reason": …}`, and answers 503 only when one the API
cannot serve without is down: the database. The cache (throttle counters,
config.cache falls back to local counting) and the broker (notifications
wait in the outbox and are swept out when it returns) degrade the service
without stopping it: "status" says "degraded", and the process stays in the
load balancer, since taking every web process out because Redis is down
would turn a degraded API into none.
The reasons come from the exception's type (`config.outages`), never its
text, which could carry host names or credentials to an anonymous caller.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

from config.cache import cache_state
from config.outages import unreachable

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2
REQUIRED = frozenset({"database"})
# The last state logged per dependency: a probe every few seconds logs a
# change, not every failure.
_logged: dict[str, str | None] = {}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_error() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                return "unexpected answer"
    except Exception as exc:
        return unreachable(exc) or f"unreachable ({type(exc).__name__})"
    return None


def _broker_error(url: str) -> str | None:
    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:
        return unreachable(exc) or f"unreachable ({type(exc).__name__})"
    return None


def _state(name: str, error: str | None) -> dict[str, str]:
    if _logged.get(name) != error:
        if error:
            logger.warning("readiness: %s unavailable: %s", name, error)
        elif name in _logged:
            logger.warning("readiness: %s available again", name)
        _logged[name] = error
    return {"state": "error", "reason": error} if error else {"state": "ok"}


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _state("database", _database_error())}
    checks["cache"] = _state("cache", cache_state())
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _state("broker", _broker_error(settings.CELERY_BROKER_URL))
    down = {name for name, check in checks.items() if check["state"] != "ok"}
    status = "unavailable" if down & REQUIRED else "degraded" if down else "ok"
    return JsonResponse(
        {"status": status, "checks": checks}, status=503 if status == "unavailable" else 200
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
