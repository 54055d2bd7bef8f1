"""The lines of `bench.lists`: every list endpoint x each documented filter.

Pure data and plain functions, with no module-level setup (no environment
defaults, no `django.setup()`): `bench.lists` times these lines at scale,
and tests/cases/access/test_list_plans.py, which imports this module (the
one module of `bench/` a test may import), checks each line's plan at small
size. One table, so a line added here is both timed and checked.

A line's query string is written with placeholders (`<own>`, `<30d ago>`…),
which are also its label; `Values` says what they stand for for one reader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone

from cases.models import CaseParticipation

#: The list endpoints serving case data, in the order lines are listed.
ENDPOINTS = ("cases", "tasks", "notes", "identifiers", "participants", "mla-requests", "documents")


@dataclass(frozen=True)
class Values:
    """What a line's placeholders stand for, for one reader's agency. A line
    naming a value left empty here is not one of the reader's lines."""

    own: str  # <own>: the reader's agency code
    lead: str = ""  # <lead>: an agency leading cases the reader sees
    partner: str = ""  # <partner>: another agency taking part in them
    case: str = ""  # <id>: the public id of a case the reader sees
    task: str = ""  # <task>: the public id of a task of that case
    mla_request: str = ""  # <mla>: the public id of an MLA request the reader sees
    sha256: str = ""  # <sha256>: the hash of a document the reader sees
    now: dt.datetime = field(default_factory=timezone.now)

    def placeholders(self) -> dict[str, str]:
        today = self.today()
        return {
            "<own>": self.own,
            "<lead>": self.lead,
            "<partner>": self.partner,
            "<id>": self.case,
            "<task>": self.task,
            "<mla>": self.mla_request,
            "<sha256>": self.sha256,
            "<30d ago>": self.since().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "<today>": today.isoformat(),
            "<+7d>": (today + dt.timedelta(days=7)).isoformat(),
        }

    def since(self) -> dt.datetime:
        return self.now - dt.timedelta(days=30)

    def today(self) -> dt.date:
        return self.now.date()


def _no_filter(values: Values) -> Q:
    return Q()


@dataclass(frozen=True)
class Line:
    """One request of a list endpoint: its query string (placeholders as
    written) and the same filter as a plain ORM filter on the gated queryset
    (the stock approach `bench.lists` times beside it)."""

    endpoint: str
    params: tuple[tuple[str, str], ...] = ()
    stock: Callable[[Values], Q] = _no_filter

    @property
    def label(self) -> str:
        return "&".join(f"{key}={value}" for key, value in self.params)

    @property
    def name(self) -> str:
        """`endpoint label`, as the benchmark's table and the tests name it."""
        return f"{self.endpoint} {self.label or '(no filter)'}"

    def query(self, values: Values) -> list[tuple[str, str]]:
        """The query string's pairs with the placeholders filled in."""
        filled = values.placeholders()
        return [(key, filled.get(value, value)) for key, value in self.params]

    def applies_to(self, values: Values) -> bool:
        """Every placeholder the line names has a value for this reader."""
        filled = values.placeholders()
        needed = [value for _, value in self.params if value in filled]
        if self.endpoint == "participants":
            needed.append("<id>")
        return all(filled[value] for value in needed)

    def url(self, values: Values, page_size: int) -> str:
        if self.endpoint == "participants":
            path = f"/api/v1/cases/{values.case}/participants/"
        else:
            path = f"/api/v1/{self.endpoint}/"
        return f"{path}?{urlencode([('page_size', str(page_size)), *self.query(values)])}"


OPEN = ("open", "active")
FRAUD = "investment_fraud"

LINES: tuple[Line, ...] = (
    Line("cases"),
    Line("cases", (("ordering", "-updated_at"),)),
    Line("cases", (("ordering", "-created_at"),)),
    Line("cases", (("status", "open"), ("status", "active")), lambda v: Q(status__in=OPEN)),
    Line(
        "cases",
        (("status", "open"), ("status", "active"), ("ordering", "-updated_at")),
        lambda v: Q(status__in=OPEN),
    ),
    Line("cases", (("status", "closed"),), lambda v: Q(status__in=["closed"])),
    Line("cases", (("handling_code", "RED"),), lambda v: Q(handling_code__in=["RED"])),
    Line("cases", (("crime_type", FRAUD),), lambda v: Q(crime_types__contains=[FRAUD])),
    Line("cases", (("lead_agency", "<lead>"),), lambda v: Q(lead_agency__code=v.lead)),
    Line(
        "cases",
        (("agency", "<partner>"),),
        lambda v: Q(
            pk__in=CaseParticipation.objects.filter(
                agency__code=v.partner, revoked_at__isnull=True
            ).values("case_id")
        ),
    ),
    Line("cases", (("updated_since", "<30d ago>"),), lambda v: Q(updated_at__gte=v.since())),
    Line("cases", (("updated_after", "<30d ago>"),), lambda v: Q(updated_at__gte=v.since())),
    Line("cases", (("updated_before", "<30d ago>"),), lambda v: Q(updated_at__lt=v.since())),
    Line("cases", (("created_after", "<30d ago>"),), lambda v: Q(created_at__gte=v.since())),
    Line("cases", (("created_before", "<30d ago>"),), lambda v: Q(created_at__lt=v.since())),
    Line(
        "cases",
        (("q", "fraud"),),
        lambda v: Q(title__icontains="fraud") | Q(summary__icontains="fraud"),
    ),
    Line(
        "cases",
        (("status", "open"), ("crime_type", FRAUD), ("lead_agency", "<lead>")),
        lambda v: Q(status__in=["open"], crime_types__contains=[FRAUD], lead_agency__code=v.lead),
    ),
    Line("tasks"),
    Line("tasks", (("ordering", "-updated_at"),)),
    Line("tasks", (("ordering", "-created_at"),)),
    Line(
        "tasks",
        (("status", "todo"), ("status", "in_progress")),
        lambda v: Q(status__in=["todo", "in_progress"]),
    ),
    Line("tasks", (("status", "blocked"),), lambda v: Q(status__in=["blocked"])),
    Line(
        "tasks",
        (("priority", "high"), ("priority", "critical")),
        lambda v: Q(priority__in=["high", "critical"]),
    ),
    Line("tasks", (("assigned_agency", "<own>"),), lambda v: Q(assigned_agency__code=v.own)),
    Line(
        "tasks",
        (("due_before", "<+7d>"),),
        lambda v: Q(due_date__lte=v.today() + dt.timedelta(days=7)),
    ),
    Line("tasks", (("due_after", "<today>"),), lambda v: Q(due_date__gte=v.today())),
    Line("tasks", (("q", "fraud"),), lambda v: Q(title__icontains="fraud")),
    Line("tasks", (("updated_since", "<30d ago>"),), lambda v: Q(updated_at__gte=v.since())),
    Line(
        "tasks",
        (
            ("assigned_agency", "<own>"),
            ("status", "todo"),
            ("status", "in_progress"),
            ("due_before", "<+7d>"),
        ),
        lambda v: Q(
            assigned_agency__code=v.own,
            status__in=["todo", "in_progress"],
            due_date__lte=v.today() + dt.timedelta(days=7),
        ),
    ),
    Line("tasks", (("case", "<id>"),), lambda v: Q(case__public_id=v.case)),
    Line("notes"),
    Line("notes", (("ordering", "-created_at"),)),
    Line("notes", (("agency", "<own>"),), lambda v: Q(agency__code=v.own)),
    Line("notes", (("created_since", "<30d ago>"),), lambda v: Q(created_at__gte=v.since())),
    Line("notes", (("case", "<id>"),), lambda v: Q(case__public_id=v.case)),
    Line(
        "notes",
        (("case", "<id>"), ("ordering", "-created_at")),
        lambda v: Q(case__public_id=v.case),
    ),
    Line("identifiers"),
    Line("identifiers", (("ordering", "-created_at"),)),
    Line("identifiers", (("kind", "phone"),), lambda v: Q(kind__in=["phone"])),
    Line(
        "identifiers",
        (("kind", "crypto_wallet"), ("kind", "bank_account")),
        lambda v: Q(kind__in=["crypto_wallet", "bank_account"]),
    ),
    Line("identifiers", (("case", "<id>"),), lambda v: Q(case__public_id=v.case)),
    Line("participants"),
    Line("participants", (("active", "true"),), lambda v: Q(revoked_at__isnull=True)),
    Line(
        "participants",
        (("updated_since", "<30d ago>"),),
        lambda v: Q(updated_at__gte=v.since()),
    ),
    Line("participants", (("ordering", "-granted_at"),)),
    Line("mla-requests"),
    Line("mla-requests", (("ordering", "-updated_at"),)),
    Line("documents"),
    Line("documents", (("handling_code", "RED"),), lambda v: Q(handling_code__in=["RED"])),
    Line("documents", (("created_after", "<30d ago>"),), lambda v: Q(created_at__gte=v.since())),
    Line("documents", (("created_before", "<30d ago>"),), lambda v: Q(created_at__lt=v.since())),
    Line("documents", (("sha256", "<sha256>"),), lambda v: Q(sha256=v.sha256)),
    Line("documents", (("case", "<id>"),), lambda v: Q(case__public_id=v.case)),
    Line("documents", (("task", "<task>"),), lambda v: Q(task__public_id=v.task)),
    Line(
        "documents",
        (("mla_request", "<mla>"),),
        lambda v: Q(mla_request__public_id=v.mla_request),
    ),
)


def lines(values: Values, only: str | None = None) -> list[Line]:
    """The reader's lines: every list endpoint x each documented filter alone,
    and the combinations investigators use; a line naming a value the reader
    has none of (no visible case, no MLA request…) is left out."""
    return [
        line
        for line in LINES
        if (only is None or line.endpoint == only) and line.applies_to(values)
    ]
