"""The counters' cache, which degrades instead of failing the request.

Throttles and rate limits count in the shared cache (Redis in production).
When that cache is unreachable, a 500 on every authenticated call would turn
a lost counter into a lost service, so each operation falls back to a cache
local to the process: limits then count per process, a bounded weakening that
lasts only while Redis is down, and the outage is logged once per minute.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from config.outages import unreachable

logger = logging.getLogger("casebridge.cache")

try:  # the Redis client comes with celery[redis]; other caches raise OSError
    from redis.exceptions import RedisError

    UNREACHABLE: tuple[type[Exception], ...] = (OSError, RedisError)
except ImportError:  # pragma: no cover
    UNREACHABLE = (OSError,)

_local = LocMemCache("casebridge-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_last_warning = 0.0


def _warn(alias: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        reason = type(exc).__name__
        logger.error("cache %r unreachable (%s): counting in this process", alias, reason)


class FallbackCache:
    """The named cache's get/set/add/incr, served locally while it is down."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return getattr(caches[self.alias], name)(*args, **kwargs)
            except UNREACHABLE as exc:
                _warn(self.alias, exc)
                return getattr(_local, name)(*args, **kwargs)

        return call


def cache_state(alias: str = "default") -> str | None:
    """None when the cache answers, else why not (safe to show: `config.outages`)."""
    try:
        caches[alias].get("casebridge:readyz")
    except UNREACHABLE as exc:
        return unreachable(exc) or type(exc).__name__
    return None
