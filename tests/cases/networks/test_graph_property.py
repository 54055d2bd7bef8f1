"""Property: the graph a reader gets is the subgraph of what it may see.

Hypothesis builds a network on case A, which KR-KNP leads and shares with
KH-CCOS (contribute) and TH-CCIB (view), as tests/cases/networks/
test_visibility_property.py does, and on case B, which KH-CCOS leads and
shares with KR-KNP (view): B holds some of A's identifiers again (the same
value) and money between them. Each row is recorded by an agency with a
handling code. For every reader, the picture of A (`cases.graph`) must
equal a deliberately simple model of what it may see: its entities and
identifiers; its links and transactions (summed per pair and currency)
whose ends it sees; B as a node, held in by each identifier of A whose copy
in B the reader sees too. Expanding an identifier must add exactly the
money the reader sees touching it and its copy, with the copy drawn as it.

Each example runs inside a savepoint that is rolled back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cases import graph, networks, services
from cases.choices import AccessLevel, EntityKind, HandlingCode
from cases.deconfliction import add_identifier
from gate.errors import NotFound
from gate.roles import Role
from tests.factories import make_agency, make_case, make_user

pytestmark = pytest.mark.django_db

AGENCY_ONLY = {HandlingCode.RED, HandlingCode.AMBER_STRICT}
KNP, CCOS, THAI, OUTSIDER = range(4)
#: Who sees each case at all.
CASE_READERS = {"A": {KNP, CCOS, THAI}, "B": {KNP, CCOS}}

codes = st.sampled_from(
    [HandlingCode.GREEN, HandlingCode.AMBER, HandlingCode.RED, HandlingCode.AMBER_STRICT]
)
recorder = st.sampled_from([KNP, CCOS])  # the two agencies contributing to A
node = st.integers(0, 30)
currency = st.sampled_from(["KRW", "USDT-TRC20"])

identifier = st.tuples(st.just("identifier"), recorder, codes)
steps = st.one_of(
    st.tuples(st.just("entity"), recorder, codes),
    identifier,
    identifier,  # twice: most steps need identifiers to act on
    st.tuples(st.just("link"), recorder, codes, node, node),
    st.tuples(st.just("transaction"), recorder, codes, node, node, currency),
    st.tuples(st.just("copy"), codes, node),
    st.tuples(st.just("b_transaction"), codes, node, node, currency),
)


@dataclass(eq=False)
class Row:
    kind: str
    obj: object
    agency: int
    code: str
    case: str = "A"
    ends: tuple = ()
    copy_of: Row | None = None  # an identifier of B: the one of A it repeats
    currency: str = ""
    amount: Decimal = Decimal(0)


@dataclass
class Model:
    rows: list[Row] = field(default_factory=list)

    def sees(self, reader: int, row: Row) -> bool:
        if reader not in CASE_READERS[row.case]:
            return False
        own = row.code not in AGENCY_ONLY or row.agency == reader
        return own and all(self.sees(reader, end) for end in row.ends)

    def seen(self, reader: int, kind: str, case: str = "A") -> list[Row]:
        return [r for r in self.rows if r.kind == kind and r.case == case and self.sees(reader, r)]

    def copies(self, reader: int, identifier: Row) -> list[Row]:
        return [r for r in self.seen(reader, "identifier", "B") if r.copy_of is identifier]

    def node(self, reader: int, row: Row) -> str:
        """An identifier of B whose value the reader sees on A is drawn as A's."""
        if row.copy_of is not None and self.sees(reader, row.copy_of):
            row = row.copy_of
        prefix = "entity" if row.kind == "entity" else "identifier"
        return f"{prefix}:{row.obj.public_id}"

    def money(self, reader: int, rows: list[Row]) -> dict:
        summed: dict = defaultdict(lambda: [0, Decimal(0)])
        for row in rows:
            key = (row.case, self.node(reader, row.ends[0]), self.node(reader, row.ends[1]))
            summed[(*key, row.currency)][0] += 1
            summed[(*key, row.currency)][1] += row.amount
        return {key: tuple(value) for key, value in summed.items()}


@pytest.fixture
def world(db):
    named = (("KR-KNP", "KR"), ("KH-CCOS", "KH"), ("TH-CCIB", "TH"), ("UNODC", "INT"))
    agencies = [make_agency(code, country=country) for code, country in named]
    users = [make_user(agency, Role.INVESTIGATOR) for agency in agencies]
    leads = [
        make_user(agencies[KNP], Role.COORDINATOR),
        make_user(agencies[CCOS], Role.COORDINATOR),
    ]
    return agencies, users, leads


def _picture(user, case, **kwargs):
    try:
        return graph.case_graph(user, case.public_id, **kwargs)
    except NotFound:
        return None


def _edges(picture, kind: str) -> set:
    return {e for e in picture.edges.values() if e.type == kind}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(steps, min_size=6, max_size=16))
def test_each_reader_gets_exactly_the_subgraph_it_may_see(world, ops):
    agencies, users, (knp_lead, ccos_lead) = world
    with transaction.atomic():
        case_a = make_case(knp_lead, title="Network A")
        services.share_case(
            actor=knp_lead, case=case_a, agency=agencies[CCOS], level=AccessLevel.CONTRIBUTE
        )
        services.share_case(
            actor=knp_lead, case=case_a, agency=agencies[THAI], level=AccessLevel.VIEW
        )
        case_b = make_case(ccos_lead, title="Network B")
        services.share_case(
            actor=ccos_lead, case=case_b, agency=agencies[KNP], level=AccessLevel.VIEW
        )
        model = Model()
        cases = {"A": case_a, "B": case_b}
        for number, op in enumerate(ops):
            _apply(op, number, cases, users, model)
        event(f"{len(model.rows)} rows, {sum(r.case == 'B' for r in model.rows)} on B")
        for reader, user in enumerate(users):
            picture = _picture(user, case_a)
            if reader == OUTSIDER:
                assert picture is None
                continue
            _check_whole(model, reader, picture, case_a, case_b)
            identifiers = model.seen(reader, "identifier")
            if identifiers:
                _check_expanded(model, reader, user, case_a, identifiers[-1])
        transaction.set_rollback(True)


def _check_whole(model: Model, reader: int, picture, case_a, case_b) -> None:
    identifiers = model.seen(reader, "identifier")
    held_in = {
        (model.node(reader, row), f"case:{case_b.public_id}")
        for row in identifiers
        if model.copies(reader, row)
    }
    expected_nodes = {
        *(model.node(reader, r) for r in model.seen(reader, "entity")),
        *(model.node(reader, r) for r in identifiers),
        *({f"case:{case_b.public_id}"} if held_in else set()),
    }
    assert set(picture.nodes) == expected_nodes
    assert {e.id for e in _edges(picture, "link")} == {
        f"link:{r.obj.public_id}" for r in model.seen(reader, "link")
    }
    assert {(e.source, e.target) for e in _edges(picture, "held_in")} == held_in
    assert _money_of(picture) == model.money(reader, model.seen(reader, "transaction"))


def _check_expanded(model: Model, reader: int, user, case_a, identifier: Row) -> None:
    picture = _picture(user, case_a, expand=f"identifier:{identifier.obj.public_id}")
    assert picture.expanded == model.node(reader, identifier)
    group = {identifier, *model.copies(reader, identifier)}
    touching = [
        r
        for case in ("A", "B")
        for r in model.seen(reader, "transaction", case)
        if set(r.ends) & group
    ]
    assert _money_of(picture) == model.money(reader, touching)
    assert {e.id for e in _edges(picture, "link")} == {
        f"link:{r.obj.public_id}" for r in model.seen(reader, "link") if identifier in r.ends
    }


def _money_of(picture) -> dict:
    return {
        ("A" if e.case == picture.case else "B", e.source, e.target, e.currency): (
            e.count,
            e.total,
        )
        for e in _edges(picture, "transaction")
    }


def _apply(op, number: int, cases, users, model: Model) -> None:
    case_a, case_b = cases["A"], cases["B"]
    match op:
        case ("entity", who, code):
            entity = networks.create_entity(
                actor=users[who], case=case_a, kind=EntityKind.PERSON, name=f"P{number}",
                handling_code=code,
            )  # fmt: skip
            model.rows.append(Row("entity", entity, who, code))
        case ("identifier", who, code):
            identifier = add_identifier(
                actor=users[who], case=case_a, kind="phone", value=f"+8210{number:08d}",
                handling_code=code,
            )  # fmt: skip
            model.rows.append(Row("identifier", identifier, who, code))
        case ("link", who, code, a, b):
            nodes = [r for r in model.rows if r.kind in ("entity", "identifier") and r.case == "A"]
            seen = [r for r in nodes if model.sees(who, r)]
            if len(seen) < 2 or seen[a % len(seen)] is seen[b % len(seen)]:
                return
            ends = (seen[a % len(seen)], seen[b % len(seen)])
            named = {f"from_{ends[0].kind}": ends[0].obj, f"to_{ends[1].kind}": ends[1].obj}
            link = networks.create_link(
                actor=users[who], case=case_a, kind="associated_with", handling_code=code, **named
            )
            model.rows.append(Row("link", link, who, code, ends=ends))
        case ("transaction", who, code, a, b, money):
            _transaction(model, users, who, code, case_a, "A", a, b, money, number)
        case ("copy", code, index):
            originals = [
                r for r in model.rows
                if r.kind == "identifier" and r.case == "A"
                and not any(c.copy_of is r for c in model.rows)
            ]  # fmt: skip
            if not originals:
                return
            original = originals[index % len(originals)]
            copy = add_identifier(
                actor=users[CCOS], case=case_b, kind="phone", value=original.obj.raw_value,
                handling_code=code,
            )  # fmt: skip
            model.rows.append(Row("identifier", copy, CCOS, code, case="B", copy_of=original))
        case ("b_transaction", code, a, b, money):
            _transaction(model, users, CCOS, code, case_b, "B", a, b, money, number)


def _transaction(model, users, who, code, case, name, a, b, money, number) -> None:
    seen = [
        r for r in model.rows
        if r.kind == "identifier" and r.case == name and model.sees(who, r)
    ]  # fmt: skip
    if len(seen) < 2 or seen[a % len(seen)] is seen[b % len(seen)]:
        return
    ends = (seen[a % len(seen)], seen[b % len(seen)])
    amount = Decimal(number + 1)
    record = networks.record_transaction(
        actor=users[who], case=case, from_identifier=ends[0].obj, to_identifier=ends[1].obj,
        amount=amount, currency=money, occurred_at=timezone.now(), handling_code=code,
    )  # fmt: skip
    model.rows.append(
        Row("transaction", record, who, code, case=name, ends=ends, currency=money, amount=amount)
    )
