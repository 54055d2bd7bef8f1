"""Statistics for coordinators: what an agency's cases add up to, and what
the agencies that agreed to pool their figures add up to together (what
UNODC reports on: cases by crime type and country, mutual legal assistance
and its delays, assets frozen, seized and returned, victims, and the
identifiers that link cases of different agencies).

Two scopes, both for coordinators only (the figures describe the agency's
work, as its other management views do):

* ``agency``: the reader's agency, over what it may see, read through the
  gate's selectors (`cases.access`): a case another agency has not shared
  with it never counts, nor a TLP:RED victim another agency recorded.
* ``contributors``: the agencies that consented (`Agency.contributes_statistics`),
  over the rows they pooled (`access.pooled_for_statistics`: a row counts
  only when every agency whose data it is consented). Withheld altogether
  while fewer than `MIN_CONTRIBUTORS` agencies contribute: pooled figures
  of two agencies are the other agency's figures to each of them.

Only aggregates leave this module: counts, sums and medians computed by the
database (GROUP BY, COUNT, SUM, and ``percentile_cont`` on PostgreSQL; on
SQLite, the demo's database, a median is the middle row or two read with
OFFSET), never a row, a name or an identifier.

What each figure counts, over the period ``since``..``until`` (whole days,
UTC, both included; either may be left open):

* cases opened in the period, by crime type and country. A case's country
  is its lead agency's (a case has no country of its own; ``INT`` for an
  international organisation). A case with several crime types counts once
  in each, so a country's total (distinct cases) can be less than the sum
  of its cells;
* MLA requests sent in the period (a draft: created in it), by their state
  now; the median days from receipt to decision (accepted, i.e. execution
  started, or refused) and from acceptance to execution (executed in full
  or in part): the two clocks of `cases.mla`;
* assets that reached each state (frozen, seized, confiscated, returned to
  victims) on a date in the period, by currency: how many, and the sum of
  their current values (sums are never added across currencies);
* victims identified (persons recorded with the role *victim*) in the
  period, by nationality; counted, never named or listed. Casebridge
  records no repatriation: rather than add a field nobody fills, the
  figure is reported as not recorded (``repatriated: null``), which is
  the honest answer;
* identifiers that link cases of different agencies, as of the end of the
  period: distinct values (deconfliction hashes) recorded by two agencies
  or more. Only where deconfliction itself would tell: for an agency, a
  value it sees that another agency holds in a case it sees or in a
  discoverable case; pooled, values held by two contributing agencies in
  discoverable cases. A case marked not discoverable never makes a link
  count, so the figure cannot be used to probe such a case.

Suppression, the rule:

1. *Primary*: a count from 1 to 4 is shown as ``"<5"``, never the number.
   A sum or a median made of fewer than 5 items is withheld (null), and so
   is a sum that one item makes more than 85 % of (it would show that
   item's value). A combination that does not occur is not listed: absence
   means 0, which discloses nobody.
2. *Complementary*: a table with totals publishes *lines*: each row with its
   total, each column with its total, the row totals with the grand total,
   the column totals with the grand total. In every line the hidden values
   must be none, or at least two of which one is 5 or more: a single
   hidden value is its line's total minus the others, and two small ones
   with a known sum can be exact (1 + 1 = 2). Otherwise the smallest
   visible cell of the line is hidden too (its total when no cell is
   left), and every line is checked again until none changes. The medians'
   request counts are not published: they are sums of state counts and
   would undo the states' suppression.
3. This is the statistical offices' small-table heuristic, not a linear
   programming audit; and figures asked for overlapping periods can still
   be subtracted from each other. Both are limits of cell suppression,
   which is why the pooled scope also needs `MIN_CONTRIBUTORS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models import Case as CaseWhen
from django.utils.translation import gettext_lazy as _

from agencies.actors import AnyUser
from agencies.models import Agency
from gate.errors import ValidationFailed
from gate.roles import Role

from . import access
from .choices import AssetState, CrimeType, EntityKind, MLAStatus, PersonRole
from .models import Asset, AssetStateChange, Case, Entity, Identifier, MLARequest, RecordedValue

#: Counts below this are shown as `SUPPRESSED`.
THRESHOLD = 5
SUPPRESSED = "<5"
#: A sum that one item makes more than this share of is withheld.
DOMINANCE = Decimal("0.85")
#: Pooled figures need at least this many contributing agencies.
MIN_CONTRIBUTORS = 3

SCOPE_AGENCY = "agency"
SCOPE_CONTRIBUTORS = "contributors"
SCOPES = (SCOPE_AGENCY, SCOPE_CONTRIBUTORS)

#: The states an asset's figures are given for, in the order it moves.
ASSET_STATES = (AssetState.FROZEN, AssetState.SEIZED, AssetState.CONFISCATED, AssetState.RETURNED)
EXECUTED = (MLAStatus.EXECUTED, MLAStatus.PARTIALLY_EXECUTED)

#: A published count: the number, or `SUPPRESSED`.
Cell = int | str


# --- SQL pieces ----------------------------------------------------------------


class Median(Aggregate):
    """The median of a duration, interpolated (PostgreSQL's `percentile_cont`)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _median(rows: QuerySet[Any], duration: Any) -> tuple[dt.timedelta | None, int]:
    """The median of `duration` over `rows` and how many rows it is made of.
    SQLite has no percentile: the middle one or two rows, read with OFFSET."""
    if connection.vendor == "postgresql":
        found = rows.aggregate(median=Median(duration), n=Count("pk"))
        return found["median"], found["n"]
    n = rows.count()
    if n == 0:
        return None, 0
    middle = list(
        rows.annotate(cb_duration=duration)
        .order_by("cb_duration")
        .values_list("cb_duration", flat=True)[(n - 1) // 2 : n // 2 + 1]
    )
    return sum(middle, dt.timedelta()) / len(middle), n


# --- suppression -------------------------------------------------------------


def cell(count: int) -> Cell:
    """A count as published: the number, or `SUPPRESSED` from 1 to 4."""
    return SUPPRESSED if 0 < count < THRESHOLD else count


def protect(values: dict[Hashable, int], lines: Iterable[Sequence[Hashable]]) -> set[Hashable]:
    """The keys of `values` to hide: primary and complementary suppression
    (the module's rule). Each line lists its cells, its total last."""
    hidden = {key for key, value in values.items() if 0 < value < THRESHOLD}
    lines = [list(line) for line in lines if line]
    changed = True
    while changed:
        changed = False
        for line in lines:
            inside = [key for key in line if key in hidden]
            if not inside:
                continue
            if len(inside) >= 2 and any(values[key] >= THRESHOLD for key in inside):
                continue
            cells = [key for key in line[:-1] if key not in hidden]
            if cells:
                hidden.add(min(cells, key=lambda key: values[key]))
            elif line[-1] not in hidden:
                hidden.add(line[-1])
            else:
                continue
            changed = True
    return hidden


def _shown(values: dict[Hashable, int], hidden: set[Hashable]) -> dict[Hashable, Cell]:
    return {key: SUPPRESSED if key in hidden else value for key, value in values.items()}


def one_way(counts: dict[str, int]) -> tuple[dict[str, Cell], Cell]:
    """A one-way table and its total, protected as one line."""
    total = sum(counts.values())
    values: dict[Hashable, int] = {("total",): total}
    values.update(counts)
    hidden = protect(values, [[*counts, ("total",)]])
    shown = _shown(values, hidden)
    return {key: shown[key] for key in counts}, shown[("total",)]


@dataclass(frozen=True)
class TwoWay:
    """A two-way table as published: cells, row and column totals, grand total."""

    cells: dict[tuple[str, str], Cell]
    row_totals: dict[str, Cell]
    column_totals: dict[str, Cell]
    total: Cell


def two_way(
    cells: dict[tuple[str, str], int],
    row_totals: dict[str, int],
    column_totals: dict[str, int],
    total: int,
) -> TwoWay:
    """A two-way table with its totals, protected line by line."""
    values: dict[Hashable, int] = {("cell", *key): n for key, n in cells.items()}
    values.update({("row", r): n for r, n in row_totals.items()})
    values.update({("column", c): n for c, n in column_totals.items()})
    values[("total",)] = total
    lines = [
        [*(("cell", r, c) for (r2, c) in cells if r2 == r), ("row", r)] for r in row_totals
    ] + [[*(("cell", r, c) for (r, c2) in cells if c2 == c), ("column", c)] for c in column_totals]
    lines.append([*(("row", r) for r in row_totals), ("total",)])
    lines.append([*(("column", c) for c in column_totals), ("total",)])
    shown = _shown(values, protect(values, lines))
    return TwoWay(
        cells={key: shown[("cell", *key)] for key in cells},
        row_totals={r: shown[("row", r)] for r in row_totals},
        column_totals={c: shown[("column", c)] for c in column_totals},
        total=shown[("total",)],
    )


def _sum_shown(n: int, total: Decimal | None, largest: Decimal | None) -> str | None:
    if n < THRESHOLD or total is None:
        return None
    if total > 0 and largest is not None and largest > DOMINANCE * total:
        return None
    return f"{total.normalize():f}"


def _days(median: dt.timedelta | None, n: int) -> dict[str, Any]:
    if n == 0 or median is None:
        return {"days": None, "suppressed": False}
    if n < THRESHOLD:
        return {"days": None, "suppressed": True}
    return {"days": round(median.total_seconds() / 86400, 1), "suppressed": False}


# --- the rows each scope reads -------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days, UTC, both included; None leaves that end open."""

    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def start(self) -> dt.datetime | None:
        return dt.datetime.combine(self.since, dt.time(), dt.UTC) if self.since else None

    @property
    def end(self) -> dt.datetime | None:
        """The first moment after the period."""
        if self.until is None:
            return None
        return dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), dt.UTC)

    def moments(self, field: str) -> Q:
        q = Q()
        if self.start is not None:
            q &= Q(**{f"{field}__gte": self.start})
        if self.end is not None:
            q &= Q(**{f"{field}__lt": self.end})
        return q

    def days(self, field: str) -> Q:
        q = Q()
        if self.since is not None:
            q &= Q(**{f"{field}__gte": self.since})
        if self.until is not None:
            q &= Q(**{f"{field}__lte": self.until})
        return q


@dataclass(frozen=True)
class Rows:
    """What one scope counts, model by model, and how it finds the links."""

    cases: QuerySet[Case]
    requests: QuerySet[MLARequest]
    entities: QuerySet[Entity]
    assets: QuerySet[Asset]
    steps: QuerySet[AssetStateChange]
    #: One row per linking value (any shape): only counted.
    linking: QuerySet[Any, Any]


def _agency_rows(user: AnyUser, period: Period) -> Rows:
    """The reader's agency: what the gate lets it see."""
    visible = access.visible_identifiers(user)
    elsewhere = Identifier.objects.filter(value_hash=OuterRef("value_hash")).exclude(
        agency_id=OuterRef("agency_id")
    )
    # Deconfliction's own answer: a match in an identifier the reader sees,
    # or in a discoverable case; never one in a case that is not. Another
    # agency's is one with a smaller id or a larger one: each is the first
    # entry of `identifier_linking` at or after the bound, where "not this
    # agency" walked past every entry of this one (a value held 500 times
    # by each agency: 100 s for the busiest reader).
    discoverable = Identifier.objects.filter(
        value_hash=OuterRef("value_hash"), case_discoverable=True
    )
    told = (
        Exists(discoverable.filter(agency_id__lt=OuterRef("agency_id")))
        | Exists(discoverable.filter(agency_id__gt=OuterRef("agency_id")))
        | Exists(elsewhere.filter(pk__in=visible.order_by().values("pk")))
    )
    until = Q(created_at__lt=period.end) if period.end else Q()
    # Only a value two agencies recorded can be told of (`RecordedValue`).
    shared = Q(value_hash__in=RecordedValue.objects.filter(shared=True).values("value_hash"))
    return Rows(
        cases=access.visible_cases(user),
        requests=access.visible_mla_requests(user),
        entities=access.visible_entities(user),
        assets=access.visible_assets(user),
        steps=access.visible_asset_state_changes(user),
        linking=visible.filter(until, shared)
        .filter(told)
        .order_by()
        .values("value_hash")
        .distinct(),
    )


def _pooled_rows(contributors: list[int], period: Period) -> Rows:
    """The contributing agencies' pooled rows (`access.pooled_for_statistics`)."""
    until = Q(created_at__lt=period.end) if period.end else Q()
    # Per value two agencies recorded (`RecordedValue.shared`), the smallest
    # and the largest contributing agency holding it in a discoverable case:
    # each the first entry of `identifier_linking` from one end (the index
    # holds the copies of the case's lead and `discoverable`), so a value
    # held a hundred thousand times costs two probes; linking when they differ.
    held = (
        access.pooled_for_statistics(Identifier, contributors)
        .filter(until, case_discoverable=True, value_hash=OuterRef("value_hash"))
        .values("agency_id")
    )
    linking = (
        RecordedValue.objects.filter(shared=True)
        .annotate(
            first=Subquery(held.order_by("agency_id")[:1]),
            last=Subquery(held.order_by("-agency_id")[:1]),
        )
        .filter(first__lt=F("last"))
        .values("value_hash")
    )
    return Rows(
        cases=access.pooled_for_statistics(Case, contributors),
        requests=access.pooled_for_statistics(MLARequest, contributors),
        entities=access.pooled_for_statistics(Entity, contributors),
        assets=access.pooled_for_statistics(Asset, contributors),
        steps=access.pooled_for_statistics(AssetStateChange, contributors),
        linking=linking,
    )


# --- the figures -----------------------------------------------------------------


def _cases(rows: QuerySet[Case], period: Period) -> dict[str, Any]:
    """One GROUP BY over the cases, per lead agency and list of crime types
    (a few hundred groups, read without visiting the agencies or testing
    each case for each type), added up per country and type here."""
    grouped = (
        rows.filter(period.moments("created_at"))
        .order_by()
        .values("lead_agency_id", "crime_types")
        .annotate(n=Count("pk"))
    )
    countries = dict(Agency.objects.values_list("pk", "country"))
    known = set(CrimeType.values)
    cells: dict[tuple[str, str], int] = {}
    column_totals: dict[str, int] = {}
    for group in grouped:
        country = countries[group["lead_agency_id"]]
        column_totals[country] = column_totals.get(country, 0) + group["n"]
        for ct in set(group["crime_types"] or ()) & known:
            cells[(ct, country)] = cells.get((ct, country), 0) + group["n"]
    row_totals: dict[str, int] = {}
    for (ct, _country), n in cells.items():
        row_totals[ct] = row_totals.get(ct, 0) + n
    table = two_way(cells, row_totals, column_totals, sum(column_totals.values()))
    return {
        "total": table.total,
        "by_crime_type": [
            {"crime_type": ct, "count": table.row_totals[ct]} for ct in sorted(row_totals)
        ],
        "by_country": [
            {"country": c, "count": table.column_totals[c]} for c in sorted(column_totals)
        ],
        "by_crime_type_and_country": [
            {"crime_type": ct, "country": c, "count": table.cells[(ct, c)]}
            for ct, c in sorted(cells)
        ],
    }


def _requests(rows: QuerySet[MLARequest], period: Period) -> dict[str, Any]:
    """States by GROUP BY; the two delays as medians over the same requests."""
    sent_at = CaseWhen(
        When(received_at__isnull=False, then=F("received_at")), default=F("created_at")
    )
    sent = rows.alias(sent_at=sent_at).filter(period.moments("sent_at"))
    states = {
        group["status"]: group["n"]
        for group in sent.order_by().values("status").annotate(n=Count("pk"))
    }
    by_state, total = one_way(states)
    decided_at = CaseWhen(
        When(accepted_at__isnull=False, then=F("accepted_at")),
        When(status=MLAStatus.REFUSED, then=F("closed_at")),
    )
    decided = sent.filter(
        Q(accepted_at__isnull=False) | Q(status=MLAStatus.REFUSED, closed_at__isnull=False),
        received_at__isnull=False,
    )
    to_decision = _median(
        decided,
        ExpressionWrapper(decided_at - F("received_at"), output_field=DurationField()),
    )
    executed = sent.filter(status__in=EXECUTED, accepted_at__isnull=False, closed_at__isnull=False)
    to_execution = _median(
        executed,
        ExpressionWrapper(F("closed_at") - F("accepted_at"), output_field=DurationField()),
    )
    return {
        "total": total,
        "by_state": [
            {"state": state, "count": by_state[state]}
            for state in MLAStatus.values
            if state in by_state
        ],
        "median_days_to_decision": _days(*to_decision),
        "median_days_to_execution": _days(*to_execution),
    }


def _assets(assets: QuerySet[Asset], steps: QuerySet[AssetStateChange], period: Period) -> list:
    """Per state, the assets that reached it in the period, by currency: one
    GROUP BY each (count, sum and the largest value, for the dominance rule)."""
    figures = []
    for state in ASSET_STATES:
        reached = Exists(steps.filter(period.days("on"), asset=OuterRef("pk"), state=state))
        grouped = (
            assets.filter(reached)
            .order_by()
            .values("currency")
            .annotate(n=Count("pk"), total=Sum("value"), largest=Max("value"))
        )
        for group in sorted(grouped, key=lambda g: g["currency"]):
            figures.append(
                {
                    "state": state.value,
                    "currency": group["currency"],
                    "count": cell(group["n"]),
                    "total_value": _sum_shown(group["n"], group["total"], group["largest"]),
                }
            )
    return figures


def _victims(entities: QuerySet[Entity], period: Period) -> dict[str, Any]:
    """Counted by nationality in one GROUP BY; no name leaves the database."""
    victims = entities.filter(
        period.moments("created_at"), kind=EntityKind.PERSON, role=PersonRole.VICTIM
    )
    counts = {
        group["nationality"]: group["n"]
        for group in victims.order_by().values("nationality").annotate(n=Count("pk"))
    }
    by_nationality, total = one_way(counts)
    return {
        "identified": total,
        "by_nationality": [
            {"nationality": code, "count": by_nationality[code]} for code in sorted(counts)
        ],
        # Not recorded in Casebridge (see the module's docstring).
        "repatriated": None,
        "repatriation_recorded": False,
    }


def _figures(rows: Rows, period: Period) -> dict[str, Any]:
    return {
        "cases": _cases(rows.cases, period),
        "mla_requests": _requests(rows.requests, period),
        "assets": _assets(rows.assets, rows.steps, period),
        "victims": _victims(rows.entities, period),
        "linking_identifiers": cell(rows.linking.count()),
    }


# --- the entry point ---------------------------------------------------------------


def clean_period(since: dt.date | None, until: dt.date | None) -> Period:
    if since is not None and until is not None and since > until:
        raise ValidationFailed({"until": [_("The end of the period is before its start.")]})
    return Period(since=since, until=until)


def statistics(
    user: AnyUser,
    *,
    scope: str = SCOPE_AGENCY,
    since: dt.date | None = None,
    until: dt.date | None = None,
    contributors: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The figures of `scope` over the period, as published (JSON-ready).

    Coordinators only (PermissionDenied otherwise). `contributors` (agency
    ids) stands in for the consenting agencies in the benchmark only
    (`access.pooled_for_statistics`).
    """
    membership = access.require_role(user, Role.COORDINATOR)
    if scope not in SCOPES:
        raise ValidationFailed({"scope": [_("Unknown scope.")]})
    period = clean_period(since, until)
    answer: dict[str, Any] = {
        "scope": scope,
        "agency": membership.agency.code,
        "since": since,
        "until": until,
        "contributors": [],
        "withheld": False,
    }
    if scope == SCOPE_AGENCY:
        answer.update(_figures(_agency_rows(user, period), period))
        return answer
    pool = access.statistics_contributors()
    if contributors is not None:
        pool = Agency.objects.filter(pk__in=contributors)
    codes = dict(pool.order_by("code").values_list("pk", "code"))
    answer["contributors"] = list(codes.values())
    if len(codes) < MIN_CONTRIBUTORS:
        answer["withheld"] = True
        answer.update(
            {
                "cases": None,
                "mla_requests": None,
                "assets": None,
                "victims": None,
                "linking_identifiers": None,
            }
        )
        return answer
    answer.update(_figures(_pooled_rows(list(codes), period), period))
    return answer
