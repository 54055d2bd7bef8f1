"""The request an audit event happens in: request id, client IP, actor.

Services are called from views, the admin, Celery tasks and commands; only
the first two have a request. A contextvar carries what the middleware saw
to `audit.services.record` without threading a request through every
service signature, and stays empty (None) outside a request.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agencies.actors import Actor

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None
    request: Any = None

    @property
    def user(self) -> Actor | None:
        """The authenticated user, read late: DRF authenticates inside the view."""
        user: Actor | None = getattr(self.request, "user", None)
        return user if getattr(user, "is_authenticated", False) else None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "audit_request_context", default=None
)


def current() -> RequestContext | None:
    return _current.get()


def activate(ctx: RequestContext | None) -> contextvars.Token[RequestContext | None]:
    return _current.set(ctx)


def deactivate(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)


def new_request_id(incoming: str | None = None) -> str:
    """Keep a well-formed id from an upstream proxy so logs line up; make one otherwise."""
    if incoming and _REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex
