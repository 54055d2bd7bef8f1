"""The picture of a case's network: its nodes and edges, as the reader may see them.

Nodes are the case's entities (persons, organisations, places) and
identifiers (accounts, wallets, phones…), and the other cases that hold one
of those identifiers (the same deconfliction hash) where the reader sees
both that case and the identifier in it, the newest
`OTHER_CASES_PER_IDENTIFIER` of each. Edges are the links, the
transactions, and the "held in" edge from an identifier to such a case.
Transactions between the same two identifiers are drawn as one edge per
currency, with their count and total, so that the view can size an edge by
the money it carries; the busiest `MAX_TRANSACTION_EDGES` of them, and
`truncated` says when there were more.

`expand` adds one hop from a node: for an identifier, the links and
transactions touching it on this case and on the newest other cases holding
it (the same value recorded elsewhere is drawn as the one node); for an
entity, its links.

Everything is read through the gate's selectors (`access.visible_on_case`
for the case's own rows, `visible_*` across cases), so the graph a reader
gets is the subgraph of what it may see. Each picture costs a fixed number
of queries whatever the case holds: the case, then one query per kind of
row (transactions aggregated by the database), and the gate's ids of the
case's entities and identifiers that its links' and transactions' ends are
asked of, never one per node.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Sum, Value
from django.utils.translation import gettext_lazy as _

from agencies.actors import AnyUser
from config.bulk import ids_in
from gate.errors import ValidationFailed

from . import access
from .choices import EntityKind, GraphKind
from .models import Case, Entity, Identifier, Link, Transaction

NODE_KINDS = frozenset(
    {
        GraphKind.PERSON,
        GraphKind.ORGANISATION,
        GraphKind.PLACE,
        GraphKind.IDENTIFIER,
        GraphKind.CASE,
    }
)
EDGE_KINDS = frozenset({GraphKind.LINK, GraphKind.TRANSACTION})
ALL_KINDS = NODE_KINDS | EDGE_KINDS

#: Money edges drawn in one picture or hop, the busiest first (most
#: transactions, then the largest total): a case of 20,000 transactions
#: between 900 accounts is otherwise 20,000 edges nobody can read, and the
#: answer says `truncated`.
MAX_TRANSACTION_EDGES = 1000

#: Other cases drawn for each identifier (the newest; a mule account can be
#: held on thousands); its node says when there are more (`more_cases`).
OTHER_CASES_PER_IDENTIFIER = 5

#: Node types, the prefix of a node's id (`identifier:<public id>`).
ENTITY, IDENTIFIER, CASE = "entity", "identifier", "case"
#: Edge types.
LINK, TRANSACTION, HELD_IN = "link", "transaction", "held_in"


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the picture. `case` is the public id of the case it is
    recorded on (a case node's own); `on_case` whether that is the case the
    picture is of."""

    id: str
    type: str
    kind: str
    label: str
    case: str
    on_case: bool
    agency: str | None = None
    handling_code: str = ""
    role: str = ""
    chain: str = ""
    title: str = ""
    more_cases: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    """An edge of the picture. A transaction edge stands for every
    transaction between its two nodes in one currency on one case."""

    id: str
    type: str
    kind: str
    source: str
    target: str
    case: str
    handling_code: str = ""
    evaluation: str = ""
    currency: str = ""
    count: int | None = None
    total: Decimal | None = None


@dataclass
class Graph:
    case: str
    expanded: str | None = None
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)
    #: More money edges than `MAX_TRANSACTION_EDGES` were left out.
    truncated: bool = False

    def add_node(self, node: Node) -> None:
        self.nodes.setdefault(node.id, node)

    def add_edge(self, edge: Edge) -> None:
        self.edges.setdefault(edge.id, edge)

    def restricted_to(self, kinds: Collection[str]) -> Graph:
        """The picture with only the node and edge kinds asked for (an edge
        only with both of its ends; a case's "held in" edge with its case)."""
        kept = {
            key: node
            for key, node in self.nodes.items()
            if (GraphKind.IDENTIFIER if node.type == IDENTIFIER else node.kind) in kinds
        }
        edges = {
            key: edge
            for key, edge in self.edges.items()
            if edge.source in kept
            and edge.target in kept
            and (edge.type == HELD_IN or edge.type in kinds)
        }
        return Graph(
            case=self.case,
            expanded=self.expanded,
            nodes=kept,
            edges=edges,
            truncated=self.truncated,
        )


def node_id(kind: str, public_id: Any) -> str:
    return f"{kind}:{public_id}"


# --- the rows, read through the gate ----------------------------------------------

_ENTITY_FIELDS = ("pk", "public_id", "kind", "name", "role", "handling_code", "agency__code")
_IDENTIFIER_FIELDS = (
    "pk",
    "public_id",
    "kind",
    "raw_value",
    "chain",
    "handling_code",
    "agency__code",
    "value_hash",
)
_LINK_FIELDS = (
    "public_id",
    "kind",
    "from_entity_id",
    "from_identifier_id",
    "to_entity_id",
    "to_identifier_id",
    "source_reliability",
    "information_accuracy",
    "handling_code",
    "case_id",
)


def _aggregated(transactions: Any, graph: Graph) -> list[dict[str, Any]]:
    """Transactions grouped per case, ends and currency, summed by the
    database: the `MAX_TRANSACTION_EDGES` busiest groups (`graph.truncated`
    if there were more)."""
    groups = list(
        transactions.order_by()
        .values("case_id", "from_identifier_id", "to_identifier_id", "currency")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by("-count", "-total", "from_identifier_id", "to_identifier_id", "currency")[
            : MAX_TRANSACTION_EDGES + 1
        ]
    )
    graph.truncated = graph.truncated or len(groups) > MAX_TRANSACTION_EDGES
    return groups[:MAX_TRANSACTION_EDGES]


class _Builder:
    """Turns rows into nodes and edges. Identifiers are drawn once per value:
    a row whose hash the case holds (and the reader sees there) is drawn as
    the case's identifier."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.case_key = str(case.public_id)
        self.graph = Graph(case=self.case_key)
        self.case_keys: dict[int, str] = {case.pk: self.case_key}
        self.entities: dict[int, str] = {}
        self.identifiers: dict[int, str] = {}
        self.home_by_hash: dict[bytes, str] = {}

    def entity(self, row: dict[str, Any], case_id: int) -> str:
        key = node_id(ENTITY, row["public_id"])
        self.entities[row["pk"]] = key
        self.graph.add_node(
            Node(
                id=key,
                type=ENTITY,
                kind=row["kind"],
                label=row["name"],
                case=self.case_keys[case_id],
                on_case=case_id == self.case.pk,
                agency=row["agency__code"],
                handling_code=row["handling_code"],
                role=row["role"] if row["kind"] == EntityKind.PERSON else "",
            )
        )
        return key

    def identifier(self, row: dict[str, Any], case_id: int) -> str:
        value_hash = bytes(row["value_hash"])
        home = self.home_by_hash.get(value_hash)
        if home is not None:
            self.identifiers[row["pk"]] = home
            return home
        key = node_id(IDENTIFIER, row["public_id"])
        if case_id == self.case.pk:
            self.home_by_hash[value_hash] = key
        self.identifiers[row["pk"]] = key
        self.graph.add_node(
            Node(
                id=key,
                type=IDENTIFIER,
                kind=row["kind"],
                label=row["raw_value"],
                case=self.case_keys[case_id],
                on_case=case_id == self.case.pk,
                agency=row["agency__code"],
                handling_code=row["handling_code"],
                chain=row["chain"],
            )
        )
        return key

    def other_case(self, row: dict[str, Any]) -> str:
        key = node_id(CASE, row["public_id"])
        self.case_keys[row["pk"]] = str(row["public_id"])
        self.graph.add_node(
            Node(
                id=key,
                type=CASE,
                kind=GraphKind.CASE,
                label=row["reference"],
                case=str(row["public_id"]),
                on_case=False,
                agency=row["lead_agency__code"],
                handling_code=row["handling_code"],
                title=row["title"],
            )
        )
        return key

    def more_cases(self, identifier_key: str) -> None:
        node = self.graph.nodes[identifier_key]
        self.graph.nodes[identifier_key] = dataclasses.replace(node, more_cases=True)

    def held_in(self, identifier_key: str, case_id: int) -> None:
        case_key = self.case_keys[case_id]
        self.graph.add_edge(
            Edge(
                id=f"{HELD_IN}:{identifier_key.split(':', 1)[1]}:{case_key}",
                type=HELD_IN,
                kind=HELD_IN,
                source=identifier_key,
                target=node_id(CASE, case_key),
                case=case_key,
            )
        )

    def end(self, entity_id: int | None, identifier_id: int | None) -> str | None:
        if entity_id is not None:
            return self.entities.get(entity_id)
        return self.identifiers.get(identifier_id) if identifier_id is not None else None

    def link(self, row: dict[str, Any]) -> None:
        source = self.end(row["from_entity_id"], row["from_identifier_id"])
        target = self.end(row["to_entity_id"], row["to_identifier_id"])
        if source is None or target is None or row["case_id"] not in self.case_keys:
            return
        self.graph.add_edge(
            Edge(
                id=node_id(LINK, row["public_id"]),
                type=LINK,
                kind=row["kind"],
                source=source,
                target=target,
                case=self.case_keys[row["case_id"]],
                handling_code=row["handling_code"],
                evaluation=f"{row['source_reliability']}{row['information_accuracy']}",
            )
        )

    def transactions(self, row: dict[str, Any]) -> None:
        source = self.identifiers.get(row["from_identifier_id"])
        target = self.identifiers.get(row["to_identifier_id"])
        if source is None or target is None or row["case_id"] not in self.case_keys:
            return
        case_key = self.case_keys[row["case_id"]]
        ends = f"{source.split(':', 1)[1]}:{target.split(':', 1)[1]}"
        self.graph.add_edge(
            Edge(
                id=f"{TRANSACTION}:{case_key}:{ends}:{row['currency']}",
                type=TRANSACTION,
                kind=TRANSACTION,
                source=source,
                target=target,
                case=case_key,
                currency=row["currency"],
                count=row["count"],
                total=row["total"],
            )
        )


_CASE_FIELDS = ("pk", "public_id", "reference", "title", "handling_code", "lead_agency__code")


def case_graph(
    user: AnyUser,
    case_public_id: Any,
    *,
    kinds: Iterable[str] | None = None,
    expand: str | None = None,
) -> Graph:
    """The case's picture for `user` (NotFound if the case is not theirs to
    see), or with `expand`, the one hop from that node; only the `kinds` of
    nodes and edges asked for (all by default)."""
    wanted = _kinds(kinds)
    case = _case(user, case_public_id)
    builder = _Builder(case)
    if expand is None:
        _whole_case(user, builder)
    else:
        builder.graph.expanded = _expand(user, builder, expand)
    return builder.graph.restricted_to(wanted)


def _kinds(kinds: Iterable[str] | None) -> frozenset[str]:
    if kinds is None:
        return ALL_KINDS
    wanted = frozenset(kinds)
    unknown = sorted(wanted - ALL_KINDS)
    if unknown:
        raise ValidationFailed(
            _("Unknown kind: %(kinds)s.") % {"kinds": ", ".join(unknown)}, field="kinds"
        )
    return wanted


def _case(user: AnyUser, case_public_id: Any) -> Case:
    try:
        public_id = uuid.UUID(str(case_public_id))
    except ValueError:
        public_id = None
    cases = Case.objects.filter(public_id=public_id) if public_id else Case.objects.none()
    (case,) = access.require_many(user, "view", cases, count=1)
    return case


def _whole_case(user: AnyUser, builder: _Builder) -> None:
    case = builder.case
    # No ORDER BY: the picture has no order, and the models' list orders
    # would have PostgreSQL walk their sync indexes instead of the case's.
    for row in access.visible_on_case(user, Entity, case).order_by().values(*_ENTITY_FIELDS):
        builder.entity(row, case.pk)
    on_case = access.visible_on_case(user, Identifier, case).order_by()
    identifiers = list(_with_holders(user, on_case, case).values(*_IDENTIFIER_FIELDS, "holders"))
    for row in identifiers:
        builder.identifier(row, case.pk)
    for row in access.visible_on_case(user, Link, case).order_by().values(*_LINK_FIELDS):
        builder.link(row)
    for row in _aggregated(access.visible_on_case(user, Transaction, case), builder.graph):
        builder.transactions(row)
    # The other cases holding one of these identifiers, as far as the reader
    # sees both the case and the identifier there: the newest
    # `OTHER_CASES_PER_IDENTIFIER` of each (a mule account can be on
    # thousands), their columns in one query.
    holders = {bytes(row["value_hash"]): row["holders"] for row in identifiers}
    if connection.vendor != "postgresql":
        holders = _holders_without_arrays(user, on_case, case)
    drawn = {pk for ids in holders.values() for pk in ids[:OTHER_CASES_PER_IDENTIFIER]}
    for row in access.visible_cases(user).filter(ids_in("pk", drawn)).values(*_CASE_FIELDS):
        builder.other_case(row)
    for value_hash, case_ids in holders.items():
        home = builder.home_by_hash[value_hash]
        for case_id in case_ids[:OTHER_CASES_PER_IDENTIFIER]:
            if case_id in builder.case_keys:
                builder.held_in(home, case_id)
        if len(case_ids) > OTHER_CASES_PER_IDENTIFIER:
            builder.more_cases(home)


def _holders(user: AnyUser, case: Case) -> QuerySet[Identifier]:
    """The identifiers of other cases, by value and newest case first: the
    (value, case) index's order, so that reading a value's first few stops
    there."""
    return (
        access.visible_identifiers(user).exclude(case_id=case.pk).order_by("value_hash", "-case_id")
    )


def _with_holders(user: AnyUser, on_case: QuerySet[Identifier], case: Case) -> QuerySet[Identifier]:
    """`on_case` with `holders` (see `_holders`): on PostgreSQL an array
    subquery per identifier that stops at the first few; on the demo's
    SQLite, which has no arrays, none (`_holders_without_arrays`)."""
    if connection.vendor != "postgresql":
        return on_case.annotate(holders=Value(None, output_field=CharField()))
    # One more than a picture draws, to tell that there are more.
    first = _holders(user, case).filter(value_hash=OuterRef("value_hash")).values("case_id")
    return on_case.annotate(holders=ArraySubquery(first[: OTHER_CASES_PER_IDENTIFIER + 1]))


def _holders_without_arrays(
    user: AnyUser, on_case: QuerySet[Identifier], case: Case
) -> dict[bytes, list[int]]:
    holders: dict[bytes, list[int]] = {}
    rows = _holders(user, case).filter(value_hash__in=on_case.values("value_hash"))
    for row in rows.values("value_hash", "case_id"):
        holders.setdefault(bytes(row["value_hash"]), []).append(row["case_id"])
    return holders


def _parse_node(value: str) -> tuple[str, uuid.UUID]:
    kind, _sep, public_id = value.partition(":")
    if kind not in (ENTITY, IDENTIFIER):
        raise ValidationFailed(
            _("Only a person, an organisation, a place or an identifier can be expanded."),
            field="expand",
        )
    try:
        return kind, uuid.UUID(public_id)
    except ValueError:
        raise ValidationFailed(_("Unknown node."), field="expand") from None


def _expand(user: AnyUser, builder: _Builder, value: str) -> str:
    """One hop from the node `value` names (any the reader sees, on any case)."""
    kind, public_id = _parse_node(value)
    case = builder.case
    if kind == IDENTIFIER:
        # The identifier, the same value on this case, and on the newest other cases.
        same = access.visible_identifiers(user).filter(public_id=public_id).values("value_hash")
        same_value = access.visible_identifiers(user).filter(value_hash__in=same)
        fields = (*_IDENTIFIER_FIELDS, "case_id")
        group = list(same_value.filter(Q(public_id=public_id) | Q(case_id=case.pk)).values(*fields))
        asked = next((row for row in group if row["public_id"] == public_id), None)
        if asked is None:
            raise ValidationFailed(_("Unknown node."), field="expand")
        # Those other cases, as many as a picture draws: by the value itself,
        # not a subquery, so that they are read in the index's order.
        elsewhere = list(
            _holders(user, case)
            .filter(value_hash=asked["value_hash"])
            .exclude(public_id=public_id)
            .values(*fields)[: OTHER_CASES_PER_IDENTIFIER + 1]
        )
        more_elsewhere = len(elsewhere) > OTHER_CASES_PER_IDENTIFIER
        group += elsewhere[:OTHER_CASES_PER_IDENTIFIER]
        ids = [row["pk"] for row in group]
        touching = Q(from_identifier_id__in=ids) | Q(to_identifier_id__in=ids)
        links = list(access.visible_links(user).filter(touching).values(*_LINK_FIELDS))
        money = _aggregated(access.visible_transactions(user).filter(touching), builder.graph)
        entity_group: list[dict[str, Any]] = []
    else:
        entity_group = list(
            access.visible_entities(user)
            .filter(public_id=public_id)
            .values(*_ENTITY_FIELDS, "case_id")
        )
        if not entity_group:
            raise ValidationFailed(_("Unknown node."), field="expand")
        entity = entity_group[0]["pk"]
        links = list(
            access.visible_links(user)
            .filter(Q(from_entity_id=entity) | Q(to_entity_id=entity))
            .values(*_LINK_FIELDS)
        )
        money, group, more_elsewhere = [], [], False
    # The other ends, read through the gate like the rest.
    known_entities = {row["pk"] for row in entity_group}
    known_identifiers = {row["pk"] for row in group}
    entity_ends = {
        row[f"{end}_entity_id"] for row in links for end in ("from", "to")
    } - known_entities
    identifier_ends = {row[f"{end}_identifier_id"] for row in links for end in ("from", "to")} | {
        row[f"{end}_identifier_id"] for row in money for end in ("from", "to")
    }
    identifier_ends -= known_identifiers | {None}
    entity_ends.discard(None)
    other_entities = list(
        access.visible_entities(user).filter(pk__in=entity_ends).values(*_ENTITY_FIELDS, "case_id")
    )
    other_identifiers = list(
        access.visible_identifiers(user)
        .filter(pk__in=identifier_ends)
        .values(*_IDENTIFIER_FIELDS, "case_id")
    )
    # Values the case itself holds are drawn as the case's own identifiers.
    hashes = {bytes(row["value_hash"]) for row in (*group, *other_identifiers)}
    for row in (
        access.visible_on_case(user, Identifier, case)
        .filter(value_hash__in=hashes)
        .values(*_IDENTIFIER_FIELDS)
    ):
        builder.identifier(row, case.pk)
    rows = (*entity_group, *group, *other_entities, *other_identifiers)
    for row in (
        access.visible_cases(user)
        .filter(pk__in={row["case_id"] for row in rows} - {case.pk})
        .values(*_CASE_FIELDS)
    ):
        builder.other_case(row)
    for row in (*entity_group, *other_entities):
        builder.entity(row, row["case_id"])
    # The expanded node first: its twins elsewhere are drawn as it.
    group.sort(key=lambda row: (row["case_id"] != case.pk, row["public_id"] != public_id))
    expanded = builder.entity(entity_group[0], entity_group[0]["case_id"]) if entity_group else ""
    for row in group:
        key = builder.identifier(row, row["case_id"])
        if not expanded:
            expanded = key
            for twin in group:
                builder.home_by_hash[bytes(twin["value_hash"])] = key
                builder.identifiers[twin["pk"]] = key
        if row["case_id"] != case.pk:
            builder.held_in(expanded, row["case_id"])
    for row in other_identifiers:
        builder.identifier(row, row["case_id"])
    for row in links:
        builder.link(row)
    for row in money:
        builder.transactions(row)
    if more_elsewhere:
        builder.more_cases(expanded)
    return expanded
