"""Throttling per API client: one budget per token (per user for sessions).

Rates come from settings (`API_THROTTLE_RATE`, `API_ANON_THROTTLE_RATE`,
environment-driven) and are read on every request, so they can be changed
without a code change. Counters live in the default cache: configure a shared
cache (`CACHE_URL=redis://…`) when running several processes; while it is
unreachable the counts are kept per process (`config.cache`), never a 500.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from agencies.models import ApiToken
from config.cache import FallbackCache


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"
    cache = FallbackCache()

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATE or None

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(SimpleRateThrottle):
    """Unauthenticated callers (failed logins, bad tokens), by client address."""

    scope = "anonymous"
    cache = FallbackCache()

    def get_rate(self) -> str | None:
        return settings.API_ANON_THROTTLE_RATE or None

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
