"""Follow the money: from an account or a wallet, where its money went, hop by hop.

A trace reads only the transactions the reader may see
(`access.visible_transactions`) and crosses cases the way money does: by
value. Money that reached an account is followed from every identifier
holding the same value (`Identifier.value_hash`, copied on each transaction
as `from_hash`/`to_hash`) in any case the reader sees. So a node of the
trace is an account or a wallet, named by the first identifier the trace
met with that value; each edge names the case that records it.

Where a value the trace reached is also held where the reader may not look
(another agency's case, a code kept to its agency), the trace says only
what a deconfliction search would say of it, from the search's own code
(`deconfliction.answer_recorded`): "agency X holds a match", with a contact
token, or nothing for a case that is not discoverable. Nothing hidden
changes what the trace shows otherwise: the visible flow goes on past such a
value, exactly as it would if the hidden record did not exist. A trace is a
search: it takes the search's role and rate (`deconfliction.searcher_agency`)
and is audited like one, with hashes, never values.

Bounded: at most `MAX_HOPS` hops; per hop, `MAX_EDGES_PER_VALUE`
transactions from each value and `MAX_EDGES_PER_HOP` in all, the earliest
first; `MAX_EDGES` in the trace, `MAX_PATHS` paths and about
`MAX_BORDERS` borders; `truncated` says a bound was hit. The bounds apply
to what the reader sees, never before it (a hidden transaction takes no
one's place). Each hop is two queries: the first few transactions of each
value reached at the hop before, read from the transaction's (value, time,
id) index (`_first_sent`), then those rows; a value is followed once, so a
wallet sending money back ends that path, it does not loop.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.actors import Actor
from audit import services as audit
from audit.models import AuditAction
from config.bulk import ids_in
from gate.errors import ValidationFailed

from . import access, deconfliction
from .models import Identifier, Transaction
from .networks import MONEY_IDENTIFIER_KINDS

MIN_HOPS = 1
MAX_HOPS = 6
DEFAULT_HOPS = 4
#: Transactions read per hop, and in all: a trace through an exchange's
#: wallet stops at these rather than reading its whole ledger.
MAX_EDGES_PER_HOP = 250
MAX_EDGES = 1000
#: Transactions read per value and hop, the earliest first: an exchange's
#: wallet does not crowd the mule accounts of the same hop out.
MAX_EDGES_PER_VALUE = 50
#: Paths listed: they multiply where money splits and joins again.
MAX_PATHS = 500
#: Borders answered, the values nearest the origin first: an exchange's
#: wallet is held by most agencies, and a trace through a few of them would
#: otherwise answer, and tell, thousands.
MAX_BORDERS = 100
_MOST_VALUES_ASKED = 16

# What a hop reads of each transaction: its ends' hashes, what is shown of
# it, and the recipient as a node (both ends are on the transaction's case).
_EDGE_COLUMNS = (
    "public_id",
    "from_hash",
    "to_hash",
    "amount",
    "currency",
    "occurred_at",
    "case__public_id",
    "case__reference",
    "to_identifier_id",
    "to_identifier__public_id",
    "to_identifier__kind",
    "to_identifier__raw_value",
)


@dataclass(frozen=True)
class TraceNode:
    """An account or a wallet: the first identifier the trace met with its value."""

    id: str
    kind: str
    value: str
    case: str
    case_reference: str


@dataclass(frozen=True)
class TraceEdge:
    """One transaction, between the nodes of its sender's and recipient's values."""

    id: str
    source: str
    target: str
    amount: Decimal
    currency: str
    occurred_at: dt.datetime
    case: str


@dataclass
class TracePath:
    """Nodes from the origin, each step the transactions between two of them.

    `totals`, per currency: what can have followed the whole path, the
    smallest step in that currency (each step's transactions summed). Money
    passing through three wallets is not counted three times, and a step in
    another currency (KRW bought as USDT) does not cap it.
    """

    nodes: list[str]
    totals: dict[str, Decimal]


@dataclass(frozen=True)
class TraceBorder:
    """Where a path reaches a value held out of the reader's sight: the
    deconfliction answer for it, at the last node the reader sees."""

    at: str
    agency: str
    agency_country: str
    kind: str
    first_recorded: dt.date
    contact_token: str


@dataclass
class Trace:
    origin: str
    hops: int
    nodes: list[TraceNode] = field(default_factory=list)
    edges: list[TraceEdge] = field(default_factory=list)
    paths: list[TracePath] = field(default_factory=list)
    borders: list[TraceBorder] = field(default_factory=list)
    truncated: bool = False


def _check(
    identifier: Identifier, hops: Any, since: dt.datetime | None, until: dt.datetime | None
) -> int:
    errors: dict[str, list[Any]] = {}
    if identifier.kind not in MONEY_IDENTIFIER_KINDS:
        errors["from"] = [
            _("Money moves between accounts, wallets and phone numbers (mobile money).")
        ]
    if isinstance(hops, bool) or not isinstance(hops, int) or not MIN_HOPS <= hops <= MAX_HOPS:
        errors["hops"] = [
            _("Give a number of hops from %(min)d to %(max)d.") % {"min": MIN_HOPS, "max": MAX_HOPS}
        ]
    for name, value in (("since", since), ("until", until)):
        if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
            errors[name] = [_("Give a date and time with its time zone.")]
    if "since" not in errors and "until" not in errors and since and until and since > until:
        errors["until"] = [_("This is before `since`.")]
    if errors:
        raise ValidationFailed(errors)
    return int(hops)


@transaction.atomic
def trace_money(
    *,
    actor: Actor,
    identifier: Identifier,
    hops: int = DEFAULT_HOPS,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Trace:
    """Where the money of `identifier` went, over `hops` hops of the
    transactions the actor sees between `since` and `until` (see the module
    docstring). 404 for an identifier the actor may not see."""
    access.require(actor, "view", identifier)
    hops = _check(identifier, hops, since, until)
    me = deconfliction.searcher_agency(actor)

    origin = _node(identifier)
    trace = Trace(origin=origin.id, hops=hops, nodes=[origin])
    kinds: dict[bytes, str] = {bytes(identifier.value_hash): identifier.kind}
    node_of: dict[bytes, str] = {bytes(identifier.value_hash): origin.id}
    # The values reached at the hop before, each with one identifier holding
    # it (the row an array subquery hangs on: see `_first_sent`).
    frontier = {bytes(identifier.value_hash): identifier.pk}
    transactions = access.visible_transactions(actor)
    if since is not None:
        transactions = transactions.filter(occurred_at__gte=since)
    if until is not None:
        transactions = transactions.filter(occurred_at__lte=until)
    for _hop in range(hops):
        room = min(MAX_EDGES_PER_HOP, MAX_EDGES - len(trace.edges))
        if not frontier:
            break
        sent, more = _first_sent(transactions, frontier)
        if not sent:
            break  # the frontier's values sent nothing the reader sees
        rows = list(
            Transaction.objects.filter(ids_in("pk", sent))
            .order_by("occurred_at", "id")
            .values(*_EDGE_COLUMNS)[: room + 1]
        )
        if more or len(rows) > room:
            trace.truncated = True
            rows = rows[:room]
        frontier = {}
        for row in rows:
            sender, recipient = bytes(row["from_hash"]), bytes(row["to_hash"])
            if recipient not in node_of:
                reached = TraceNode(
                    id=str(row["to_identifier__public_id"]),
                    kind=row["to_identifier__kind"],
                    value=row["to_identifier__raw_value"],
                    case=str(row["case__public_id"]),
                    case_reference=row["case__reference"],
                )
                trace.nodes.append(reached)
                node_of[recipient] = reached.id
                kinds[recipient] = reached.kind
                frontier[recipient] = row["to_identifier_id"]
            trace.edges.append(
                TraceEdge(
                    id=str(row["public_id"]),
                    source=node_of[sender],
                    target=node_of[recipient],
                    amount=row["amount"],
                    currency=row["currency"],
                    occurred_at=row["occurred_at"],
                    case=str(row["case__public_id"]),
                )
            )
    trace.paths, too_many = _paths(trace)
    trace.truncated = trace.truncated or too_many
    trace.borders, more_borders = _borders(actor, me, node_of, kinds)
    trace.truncated = trace.truncated or more_borders
    _audit(actor, me, identifier, trace, since, until, node_of)
    return trace


def _first_sent(
    transactions: QuerySet[Transaction], frontier: dict[bytes, int]
) -> tuple[list[int], bool]:
    """The ids of the first `MAX_EDGES_PER_VALUE` transactions the reader sees
    sent from each value of `frontier`, the earliest first; and whether a
    value sent more.

    On PostgreSQL one array subquery per value that reads the (sender's
    value, time) index and stops at the bound: the gate's rule is asked of
    those rows only, not of a busy mule account's whole ledger. The demo's
    SQLite, which has no arrays, asks value by value.
    """
    first = transactions.order_by("occurred_at", "id").values("id")
    sent: Iterable[list[int]]
    if connection.vendor == "postgresql":
        sent = (
            Identifier.objects.filter(ids_in("pk", frontier.values()))
            .order_by()
            .annotate(
                sent=ArraySubquery(
                    first.filter(from_hash=OuterRef("value_hash"))[: MAX_EDGES_PER_VALUE + 1]
                )
            )
            .values_list("sent", flat=True)
        )
    else:
        sent = [
            [row["id"] for row in first.filter(from_hash=value)[: MAX_EDGES_PER_VALUE + 1]]
            for value in frontier
        ]
    ids: list[int] = []
    more = False
    for each in sent:
        more = more or len(each) > MAX_EDGES_PER_VALUE
        ids += each[:MAX_EDGES_PER_VALUE]
    return ids, more


def _node(identifier: Identifier) -> TraceNode:
    return TraceNode(
        id=str(identifier.public_id),
        kind=identifier.kind,
        value=identifier.raw_value,
        case=str(identifier.case.public_id),
        case_reference=identifier.case.reference,
    )


def _paths(trace: Trace) -> tuple[list[TracePath], bool]:
    """Every path from the origin that cannot go further (no way on that
    avoids its own nodes, or `hops` steps long), at most `MAX_PATHS`; and
    whether there were more."""
    steps: dict[str, dict[str, list[TraceEdge]]] = defaultdict(lambda: defaultdict(list))
    for edge in trace.edges:
        if edge.source != edge.target:
            steps[edge.source][edge.target].append(edge)
    paths: list[TracePath] = []

    def walk(trail: list[str]) -> bool:
        """Extend `trail`; False once more than MAX_PATHS were found."""
        here = trail[-1]
        onward = [n for n in steps.get(here, {}) if n not in trail]
        if len(trail) > trace.hops or not onward:
            if len(trail) > 1:
                if len(paths) == MAX_PATHS:
                    return False
                paths.append(TracePath(nodes=list(trail), totals=_totals(trail, steps)))
            return True
        for target in onward:
            trail.append(target)
            going = walk(trail)
            trail.pop()
            if not going:
                return False
        return True

    complete = walk([trace.origin])
    return paths, not complete


def _totals(trail: list[str], steps: dict[str, dict[str, list[TraceEdge]]]) -> dict[str, Decimal]:
    smallest: dict[str, Decimal] = {}
    for here, there in pairwise(trail):
        moved: dict[str, Decimal] = defaultdict(Decimal)
        for edge in steps[here][there]:
            moved[edge.currency] += edge.amount
        for currency, amount in moved.items():
            smallest[currency] = min(amount, smallest.get(currency, amount))
    return dict(sorted(smallest.items()))


def _borders(
    actor: Actor, me: Any, node_of: dict[bytes, str], kinds: dict[bytes, str]
) -> tuple[list[TraceBorder], bool]:
    """The deconfliction answer for the values the trace reached, as far as
    it names an agency holding one out of the reader's sight; and whether
    values were left unanswered.

    Asked in batches that double (one value, two, four... at most
    `_MOST_VALUES_ASKED`), nearest the origin first, until `MAX_BORDERS`
    are found: a value is answered whole or not at all, and only the
    holders of values answered are told.
    """
    reached = list(node_of)
    borders: list[TraceBorder] = []
    start, size = 0, 1
    while start < len(reached):
        if len(borders) >= MAX_BORDERS:
            return borders, True
        batch = reached[start : start + size]
        answers = deconfliction.answer_recorded(
            actor=actor, me=me, recorded=[(kinds[value], value) for value in batch]
        )
        borders += [
            TraceBorder(
                at=node_of[value],
                agency=hit.agency,
                agency_country=hit.agency_country,
                kind=hit.kind,
                first_recorded=hit.first_recorded,
                contact_token=hit.contact_token,
            )
            for value, answer in zip(batch, answers, strict=True)
            for hit in answer.held_elsewhere
        ]
        start, size = start + size, min(size * 2, _MOST_VALUES_ASKED)
    return borders, False


def _audit(
    actor: Actor,
    me: Any,
    identifier: Identifier,
    trace: Trace,
    since: dt.datetime | None,
    until: dt.datetime | None,
    node_of: dict[bytes, str],
) -> None:
    """Recorded as the search it is: what was asked and how much was
    answered; the values reached by their hashes, as a search records them."""
    audit.record(
        action=AuditAction.SEARCH,
        actor=actor,
        agency=me,
        object_type="cases.transaction",
        changes={
            "trace_from": str(identifier.public_id),
            "hops": trace.hops,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "nodes": len(trace.nodes),
            "edges": len(trace.edges),
            "paths": len(trace.paths),
            "borders": len(trace.borders),
            "truncated": trace.truncated,
            "hashes": sorted(value.hex() for value in node_of),
        },
    )
