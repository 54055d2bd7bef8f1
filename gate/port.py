"""The permission gate as the layers below `cases` reach it.

The gate is `cases.access`: it reads the models of cases, agencies and
audit, so it lives in `cases`, above them. Yet the API and admin bases in
`config`, the agency services, audit's and notifications' pages must ask
it who a user is and what they may see. They ask here, and
`cases.apps.CasesConfig.ready()` connects this port to `cases.access`
(`install`): the imports point down, and every call still reaches the one
gate. Attributes are looked up on each call, so the gate's own module stays
the single place to change (or, in a test, to patch).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from django.db.models import QuerySet

_gate: ModuleType | None = None


def install(gate: ModuleType) -> None:
    """Connect the port to the gate's module (once, from `cases`' `ready()`)."""
    global _gate
    _gate = gate


def _installed() -> ModuleType:
    if _gate is None:
        raise RuntimeError("the permission gate is not installed: the cases app is not ready")
    return _gate


def membership_of(user) -> Any:
    """The user's active membership in an active agency, or None."""
    return _installed().membership_of(user)


def agency_of(user) -> Any:
    """The agency of `membership_of(user)`, or None."""
    return _installed().agency_of(user)


def has_role(user, role: str) -> bool:
    """Whether the user's role ranks at least `role` (`gate.roles.ROLE_RANK`)."""
    return _installed().has_role(user, role)


def can(user, action: str, obj) -> bool:
    """Whether the gate allows `action` on `obj` to the user."""
    return _installed().can(user, action, obj)


def selector(name: str) -> Callable[[Any], QuerySet]:
    """The gate's selector called `name` (e.g. "visible_cases"): user -> rows."""
    try:
        return getattr(_installed(), name)
    except AttributeError:
        raise LookupError(f"the permission gate has no selector {name!r}") from None
