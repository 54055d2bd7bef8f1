"""One answer to "is this exception a broker or Redis refusing us, and why?".

Publishing (notifications.outbox), the webhook retries and the readiness
probe (config.health) all meet the same failures in different clothes: the
Redis client's `ConnectionError` or `AuthenticationError`, RabbitMQ's
`NotAllowed` (unknown virtual host, no permission), `AccessRefused` (bad
password) or `ConnectionForced` (broker shutting down), kombu's
`OperationalError` wrapping any of these, or a plain socket error. They all
mean "the dependency is not serving us now": the caller degrades (pauses
publishing, reports the dependency down) instead of failing the request.

The reason is built from the exception's type only, never its text, which
names hosts and sometimes credentials; it is safe in logs and in /readyz.
Anything else (a serialization bug, a programming error) is not an outage
and gets None: the caller logs it with its traceback.
"""

from __future__ import annotations

import errno

from amqp import exceptions as amqp_errors
from kombu.exceptions import KombuError, SerializationError

try:  # the Redis client comes with celery[redis]
    from redis import exceptions as redis_errors
except ImportError:  # pragma: no cover
    redis_errors = None

# Most specific first: the first match names the reason.
_REASONS: list[tuple[type[BaseException], str]] = [
    (amqp_errors.NotAllowed, "not allowed (virtual host or permissions)"),
    (amqp_errors.AccessRefused, "access refused (credentials or permissions)"),
    (amqp_errors.ConnectionForced, "connection closed by the broker"),
    (amqp_errors.ResourceLocked, "resource locked"),
    (amqp_errors.AMQPError, "refused by the broker"),
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset"),
    (TimeoutError, "timed out"),
]
if redis_errors is not None:
    _REASONS[:0] = [
        (redis_errors.AuthenticationError, "authentication refused"),
        (redis_errors.BusyLoadingError, "loading its data"),
        (redis_errors.TimeoutError, "timed out"),
        (redis_errors.NoPermissionError, "no permission"),
        (redis_errors.ReadOnlyError, "read-only replica"),
        (redis_errors.ResponseError, "refused the command"),
    ]
    _GENERIC_REDIS: tuple[type[BaseException], ...] = (redis_errors.RedisError,)
else:  # pragma: no cover
    _GENERIC_REDIS = ()


def unreachable(exc: BaseException) -> str | None:
    """Why a broker or Redis is not serving us, in words safe to show;
    None when `exc` is not such an outage (a bug to log with its traceback)."""
    if isinstance(exc, SerializationError):
        return None  # the message, not the broker
    seen: set[int] = set()
    current: BaseException | None = exc
    generic: str | None = None
    # kombu re-raises the client's error as its own OperationalError "from"
    # the original: the original says more.
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for kind, reason in _REASONS:
            if isinstance(current, kind):
                return f"{reason} ({type(current).__name__})"
        if generic is None:
            generic = _generic(current)
        current = current.__cause__ or current.__context__
    return generic


def _generic(exc: BaseException) -> str | None:
    name = type(exc).__name__
    if isinstance(exc, (*_GENERIC_REDIS, KombuError)):
        return f"unreachable ({name})"
    if isinstance(exc, OSError):
        code = errno.errorcode.get(exc.errno or 0)
        return f"network error ({code or name})"
    return None
