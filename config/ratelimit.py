"""A reusable sliding-window rate limit on Django's cache.

Used for the per-address login throttle and meant for the deconfliction
search, where an unlimited caller could enumerate which wallets or phone
numbers some agency holds by asking one at a time (enumeration defence).

The window slides by weighting the previous fixed window's count by how much
of it still overlaps the sliding window (the "sliding window counter"): two
cache keys per caller, atomic `incr`, no lists to trim. It needs a shared
cache (CACHE_URL=redis://…) to count across processes.

How to apply it:

* in a service, before doing the work (counts every attempt, hit or miss)::

      from config.ratelimit import enforce
      enforce("deconfliction-search", str(user.pk),
              limit=settings.DECONFLICTION_SEARCH_RATE_LIMIT,
              window=settings.DECONFLICTION_SEARCH_RATE_WINDOW)

  `RateLimited` carries `retry_after`; the API's exception handler maps it to
  DRF's `Throttled` (429 with Retry-After), the admin to a form error;
* on a plain Django view: `@ratelimit("scope", limit=10, window=60)`, keyed by
  the authenticated user or, for anonymous requests, the client address.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from config.cache import FallbackCache


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: float
    limit: int
    retry_after: int


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(_("Too many requests; try again later."))
        self.retry_after = retry_after


def _key(scope: str, ident: str, bucket: int) -> str:
    # Hashed so an identifier (an address, a username) never sits in the cache
    # in clear and cannot break the key syntax of the backend.
    digest = hashlib.sha256(f"{scope}\x00{ident}".encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{bucket}"


def hit(
    scope: str,
    ident: str,
    *,
    limit: int,
    window: int,
    now: float | None = None,
    cache_alias: str = "default",
) -> RateLimitResult:
    """Count one attempt and say whether it is within `limit` per `window` s."""
    cache = FallbackCache(cache_alias)
    now = time.time() if now is None else now
    bucket = int(now // window)
    into_bucket = now - bucket * window
    key = _key(scope, ident, bucket)
    cache.add(key, 0, timeout=window * 2)
    try:
        current = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window * 2)
        current = 1
    previous = cache.get(_key(scope, ident, bucket - 1), 0)
    count = previous * (window - into_bucket) / window + current
    allowed = count <= limit
    retry_after = 0 if allowed else max(1, math.ceil(window - into_bucket))
    return RateLimitResult(allowed=allowed, count=count, limit=limit, retry_after=retry_after)


def enforce(scope: str, ident: str, *, limit: int, window: int) -> RateLimitResult:
    """Like `hit`, but raise `RateLimited` when over the limit."""
    result = hit(scope, ident, limit=limit, window=window)
    if not result.allowed:
        raise RateLimited(result.retry_after)
    return result


def too_many_requests(retry_after: int) -> HttpResponse:
    response = JsonResponse({"detail": str(_("Too many requests; try again later."))}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def client_address(request: HttpRequest) -> str:
    """The address axes uses too, so both limits agree on who the client is."""
    return get_client_ip_address(request) or "unknown"


def ratelimit(scope: str, *, limit: int, window: int) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                ident = f"user:{user.pk}"
            else:
                ident = f"ip:{client_address(request)}"
            result = hit(scope, ident, limit=limit, window=window)
            if not result.allowed:
                return too_many_requests(result.retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
