"""A case with its children, read in one go (`GET /api/v1/cases/{id}/?expand=…`).

Partner systems that show a case page asked for the case, its participants,
its tasks and its latest notes in one request rather than four. Which
children may be asked for, in what order and how many of each come with the
case is decided here; the API only renders and links what this returns.

The case is read once through the gate (`access.require_many`: its
visibility and the reader's level, one query), and that read is the case
layer of every child's rule: each child list then keeps only its rows' own
layer (`access.visible_on_case`: disclosure of confidential participants,
RED and AMBER+STRICT of other agencies), the same rows as the child
endpoints' selectors. One query per child list, whatever the case holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agencies.actors import AnyUser
from gate.errors import ValidationFailed

from . import access
from .models import Case, CaseParticipation, Note, Task

_Child = TypeVar("_Child", CaseParticipation, Task, Note)
_T = TypeVar("_T")


@dataclass(frozen=True)
class ChildOrder:
    """How one child list comes with the case: ordered as its own endpoint
    orders it with `?ordering=<ordering>` (keyset order: `field`, then the
    public id), at most `limit` rows."""

    field: str
    descending: bool
    limit: int

    @property
    def ordering(self) -> str:
        """The child endpoint's `ordering` parameter giving the same order."""
        return f"-{self.field}" if self.descending else self.field

    def order_by(self) -> tuple[str, str]:
        prefix = "-" if self.descending else ""
        return f"{prefix}{self.field}", f"{prefix}public_id"


#: The children a case may be read with, in the order they are listed.
#: Participants and tasks are few per case: all of them up to a bound that
#: real cases stay under; notes grow with the investigation: the newest 20.
#: The bounds keep the answer's cost fixed; beyond them the child endpoint
#: continues where the expansion stopped (`ChildPage.more`).
CHILD_ORDERS: dict[str, ChildOrder] = {
    "participants": ChildOrder("granted_at", descending=False, limit=100),
    "tasks": ChildOrder("created_at", descending=False, limit=100),
    "notes": ChildOrder("created_at", descending=True, limit=20),
}
EXPANSIONS: tuple[str, ...] = tuple(CHILD_ORDERS)


@dataclass(frozen=True)
class ChildPage(Generic[_T]):
    """The first rows of one child list of the case, and whether more follow."""

    rows: list[_T]
    order: ChildOrder
    more: bool


@dataclass(frozen=True)
class CaseWithChildren:
    """The case as the reader sees it, with the child lists asked for (by name,
    in `EXPANSIONS` order)."""

    case: Case
    participants: ChildPage[CaseParticipation] | None = None
    tasks: ChildPage[Task] | None = None
    notes: ChildPage[Note] | None = None
    expanded: tuple[str, ...] = ()


def expansions(names: Iterable[str]) -> tuple[str, ...]:
    """The child lists named, each once, in `EXPANSIONS` order; an unknown or
    empty name is a field error on `expand`, raised before anything is read
    (a hidden case and a missing one get the same answer)."""
    wanted = set()
    for name in names:
        if name not in CHILD_ORDERS:
            raise ValidationFailed(
                {
                    "expand": [
                        _("Unknown expansion “%(name)s”: give any of %(names)s, comma-separated.")
                        % {"name": name, "names": ", ".join(EXPANSIONS)}
                    ]
                }
            )
        wanted.add(name)
    return tuple(name for name in EXPANSIONS if name in wanted)


def case_with_children(
    user: AnyUser, public_id: uuid.UUID, expand: Sequence[str]
) -> CaseWithChildren:
    """The case `public_id` with the child lists `expand` names, as `user`
    may see them: one query for the case, one per child list.

    Raises `NotFound` if the case is invisible or does not exist (the same
    answer), `ValidationFailed` on `expand` for a name not in `EXPANSIONS`.
    """
    names = expansions(expand)
    one_case = Case.objects.select_related("lead_agency").filter(public_id=public_id)
    (case,) = access.require_many(user, "view", one_case, count=1)

    def page(model: type[_Child], name: str, *related: str) -> ChildPage[_Child] | None:
        if name not in names:
            return None
        order = CHILD_ORDERS[name]
        rows = _first_rows(
            access.visible_on_case(user, model, case).select_related(*related), order, case
        )
        return ChildPage(rows[: order.limit], order, more=len(rows) > order.limit)

    return CaseWithChildren(
        case=case,
        participants=page(CaseParticipation, "participants", "agency", "granted_by_agency"),
        tasks=page(Task, "tasks", "assigned_agency", "assigned_user__membership"),
        notes=page(Note, "notes", "agency", "author"),
        expanded=names,
    )


def _first_rows(queryset: QuerySet[_Child], order: ChildOrder, case: Case) -> list[_Child]:
    """One row more than the bound (to know whether more follow). Each row's
    case is the one read through the gate: no join, no second read of it."""
    rows = list(queryset.order_by(*order.order_by())[: order.limit + 1])
    for row in rows:
        row.case = case
    return rows
