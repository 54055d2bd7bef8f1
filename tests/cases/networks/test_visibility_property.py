"""Property: what each agency sees of a case's network is exactly what its
handling codes and ends imply.

Hypothesis builds a network on a case that KR-KNP leads and shares with two
agencies (KH-CCOS contributes, TH-CCIB views), entity by entity, identifier
by identifier, link by link and transaction by transaction, each recorded by
a contributing agency with a handling code, and then changes some codes.
After the steps, for every agency (and an outsider), each selector must
equal a deliberately simple model: a row is seen by the agencies of the case
when its code is shareable or the reader recorded it; a link or a
transaction when, besides, both of its ends are seen. So the network any
reader gets is the subgraph of the rows it may see, closed under its ends.

Each example runs inside a savepoint that is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cases import access, networks, services
from cases.choices import AccessLevel, EntityKind, HandlingCode
from cases.deconfliction import add_identifier
from gate.roles import Role
from tests.factories import make_agency, make_case, make_user

pytestmark = pytest.mark.django_db

AGENCY_ONLY = {HandlingCode.RED, HandlingCode.AMBER_STRICT}
codes = st.sampled_from(
    [HandlingCode.GREEN, HandlingCode.AMBER, HandlingCode.RED, HandlingCode.AMBER_STRICT]
)
recorder = st.integers(0, 1)  # KR-KNP or KH-CCOS: the two contributing agencies
node = st.integers(0, 30)  # an index among the nodes the recorder sees, modulo their number

steps = st.one_of(
    st.tuples(st.just("entity"), recorder, codes),
    st.tuples(st.just("identifier"), recorder, codes),
    st.tuples(st.just("link"), recorder, codes, node, node),
    st.tuples(st.just("transaction"), recorder, codes, node, node),
    st.tuples(st.just("recode"), node, codes),
)


@dataclass
class Row:
    kind: str
    obj: object
    agency: int
    code: str
    ends: tuple = ()


@dataclass
class Model:
    rows: list[Row] = field(default_factory=list)

    def sees(self, reader: int, row: Row) -> bool:
        """Readers 0..2 take part in the case; 3 is the outsider."""
        if reader == 3:
            return False
        own = row.code not in AGENCY_ONLY or row.agency == reader
        return own and all(self.sees(reader, end) for end in row.ends)

    def of(self, reader: int, kind: str) -> set[int]:
        return {r.obj.pk for r in self.rows if r.kind == kind and self.sees(reader, r)}


@pytest.fixture
def world(db):
    named = (("KR-KNP", "KR"), ("KH-CCOS", "KH"), ("TH-CCIB", "TH"), ("UNODC", "INT"))
    agencies = [make_agency(code, country=country) for code, country in named]
    users = [make_user(agency, Role.INVESTIGATOR) for agency in agencies]
    lead = make_user(agencies[0], Role.COORDINATOR)
    return agencies, users, lead


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(steps, min_size=2, max_size=14))
def test_each_reader_sees_exactly_the_subgraph_its_codes_and_ends_allow(world, ops):
    agencies, users, lead = world
    with transaction.atomic():
        case = make_case(lead, title="Network property")
        services.share_case(actor=lead, case=case, agency=agencies[1], level=AccessLevel.CONTRIBUTE)
        services.share_case(actor=lead, case=case, agency=agencies[2], level=AccessLevel.VIEW)
        model = Model()
        for number, op in enumerate(ops):
            _apply(op, number, case, users, model)
        event(f"{len(model.rows)} rows, {sum(bool(r.ends) for r in model.rows)} with ends")
        for reader in range(4):
            user = users[reader]
            for kind, selector in (
                ("entity", access.visible_entities),
                ("identifier", access.visible_identifiers),
                ("link", access.visible_links),
                ("transaction", access.visible_transactions),
            ):
                seen = set(selector(user).values_list("pk", flat=True))
                assert seen == model.of(reader, kind), (reader, kind, ops)
        transaction.set_rollback(True)


def _apply(op, number: int, case, users, model: Model) -> None:
    match op:
        case ("entity", who, code):
            entity = networks.create_entity(
                actor=users[who], case=case, kind=EntityKind.PERSON, name=f"P{number}",
                handling_code=code,
            )  # fmt: skip
            model.rows.append(Row("entity", entity, who, code))
        case ("identifier", who, code):
            identifier = add_identifier(
                actor=users[who], case=case, kind="phone", value=f"+8210{number:08d}",
                handling_code=code,
            )  # fmt: skip
            model.rows.append(Row("identifier", identifier, who, code))
        case ("link", who, code, a, b):
            nodes = [r for r in model.rows if r.kind in ("entity", "identifier")]
            seen = [r for r in nodes if model.sees(who, r)]
            if len(seen) < 2 or seen[a % len(seen)] is seen[b % len(seen)]:
                return
            ends = (seen[a % len(seen)], seen[b % len(seen)])
            named = {f"from_{ends[0].kind}": ends[0].obj, f"to_{ends[1].kind}": ends[1].obj}
            link = networks.create_link(
                actor=users[who], case=case, kind="associated_with", handling_code=code, **named
            )
            model.rows.append(Row("link", link, who, code, ends))
        case ("transaction", who, code, a, b):
            seen = [r for r in model.rows if r.kind == "identifier" and model.sees(who, r)]
            if len(seen) < 2 or seen[a % len(seen)] is seen[b % len(seen)]:
                return
            ends = (seen[a % len(seen)], seen[b % len(seen)])
            record = networks.record_transaction(
                actor=users[who], case=case, from_identifier=ends[0].obj,
                to_identifier=ends[1].obj, amount="100", currency="KRW",
                occurred_at=timezone.now(), handling_code=code,
            )  # fmt: skip
            model.rows.append(Row("transaction", record, who, code, ends))
        case ("recode", index, code):
            changeable = [r for r in model.rows if r.kind != "identifier"]
            if not changeable:
                return
            row = changeable[index % len(changeable)]
            update = {
                "entity": lambda: networks.update_entity(
                    actor=users[row.agency], entity=row.obj, handling_code=code
                ),
                "link": lambda: networks.update_link(
                    actor=users[row.agency], link=row.obj, handling_code=code
                ),
                "transaction": lambda: networks.update_transaction(
                    actor=users[row.agency], record=row.obj, handling_code=code
                ),
            }[row.kind]
            update()
            row.code = code
