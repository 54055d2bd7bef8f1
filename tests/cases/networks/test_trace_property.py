"""Property: a trace never holds a transaction or an identifier outside what
its reader may see, and holds exactly the transactions a naive walk over
`visible_transactions` reaches.

Hypothesis records phone numbers (mobile money) from a small pool on three
cases, so that the same value is held on several of them: KR-KNP's case
shared with KH-CCOS (contribute) and TH-CCIB (view), KH-CCOS's case shared
with KR-KNP (view), and KH-CCOS's own case. Each identifier and transaction
gets a random handling code, recorded by an agency that contributes to its
case. Then each reader traces from some identifiers it sees, and the trace
is compared with the model: hop by hop from the origin's value, the visible
transactions sent from any value reached, each value followed once.

The cases are made once; each example's records are made inside a
savepoint that is rolled back.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cases import access, networks, services, trace
from cases.choices import AccessLevel, HandlingCode
from cases.deconfliction import add_identifier
from gate.errors import Conflict, ValidationFailed
from gate.roles import Role
from tests.factories import make_agency, make_case, make_user

pytestmark = pytest.mark.django_db

# Shareable codes weigh more, so that traces cross agencies.
codes = st.sampled_from(
    [HandlingCode.GREEN, HandlingCode.AMBER, HandlingCode.AMBER, HandlingCode.RED,
     HandlingCode.AMBER_STRICT]
)  # fmt: skip
#: The agencies that may record on each case (indexes into the readers).
RECORDERS = ((0, 1), (1,), (1,))
identifiers = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 4), st.integers(0, 1), codes),
    min_size=5,
    max_size=12,
)
transactions = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 9), st.integers(0, 9), st.integers(0, 1), codes),
    min_size=2,
    max_size=14,
)


@pytest.fixture
def world(db, settings):
    # Every trace is a search: the example's traces must not hit its rate.
    settings.DECONFLICTION_SEARCH_RATE_LIMIT = 10**6
    named = (("KR-KNP", "KR"), ("KH-CCOS", "KH"), ("TH-CCIB", "TH"))
    agencies = [make_agency(code, country=country) for code, country in named]
    readers = [make_user(agency, Role.INVESTIGATOR) for agency in agencies]
    leads = [make_user(agency, Role.COORDINATOR) for agency in agencies[:2]]
    return readers, _cases(agencies, leads)


def _cases(agencies, leads):
    knp_case = make_case(leads[0], title="KNP")
    services.share_case(
        actor=leads[0], case=knp_case, agency=agencies[1], level=AccessLevel.CONTRIBUTE
    )
    services.share_case(actor=leads[0], case=knp_case, agency=agencies[2], level=AccessLevel.VIEW)
    shared_back = make_case(leads[1], title="CCOS shared")
    services.share_case(
        actor=leads[1], case=shared_back, agency=agencies[0], level=AccessLevel.VIEW
    )
    own = make_case(leads[1], title="CCOS own")
    return [knp_case, shared_back, own]


def _model_edges(reader, origin, hops: int) -> set[int]:
    """The naive walk: every visible transaction, followed by value."""
    visible = list(access.visible_transactions(reader).values("pk", "from_hash", "to_hash"))
    reached = {bytes(origin.value_hash)}
    frontier = set(reached)
    edges: set[int] = set()
    for _hop in range(hops):
        out = [t for t in visible if bytes(t["from_hash"]) in frontier]
        edges |= {t["pk"] for t in out}
        frontier = {bytes(t["to_hash"]) for t in out} - reached
        reached |= frontier
    return edges


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(recorded=identifiers, moved=transactions, hops=st.integers(1, 6))
def test_a_trace_holds_exactly_what_a_walk_over_visible_transactions_reaches(
    world, recorded, moved, hops
):
    readers, cases = world
    with transaction.atomic():
        on_case: list[list] = [[], [], []]
        for step in recorded:
            _record(step, cases, readers, on_case)
        for step in moved:
            _move(step, cases, readers, on_case)
        event(f"{sum(map(len, on_case))} identifiers")
        for reader in readers:
            seen = access.visible_identifiers(reader)
            visible_edges = set(
                access.visible_transactions(reader).values_list("public_id", flat=True)
            )
            visible_nodes = set(seen.values_list("public_id", flat=True))
            # One origin each (the traces are the slow part): a sender, if any.
            senders = set(
                access.visible_transactions(reader).values_list("from_identifier", flat=True)
            )
            origins = sorted(seen, key=lambda i: (i.pk not in senders, i.pk))[:1]
            for origin in origins:
                found = trace.trace_money(actor=reader, identifier=origin, hops=hops)
                edge_ids = {e.id for e in found.edges}
                assert edge_ids <= {str(pk) for pk in visible_edges}
                assert {n.id for n in found.nodes} <= {str(pk) for pk in visible_nodes}
                model = _model_edges(reader, origin, hops)
                expected = set(
                    access.visible_transactions(reader)
                    .filter(pk__in=model)
                    .values_list("public_id", flat=True)
                )
                assert edge_ids == {str(pk) for pk in expected}, (recorded, moved, hops)
                event(f"{len(edge_ids)} edges, {len(found.borders)} borders")
        transaction.set_rollback(True)


def _record(step, cases, readers, on_case) -> None:
    case, value, who, code = step
    recorder = RECORDERS[case][who % len(RECORDERS[case])]
    try:
        identifier = add_identifier(
            actor=readers[recorder], case=cases[case], kind="phone", value=f"+8210{value:08d}",
            handling_code=code,
        )  # fmt: skip
    except Conflict:  # already recorded on this case
        return
    on_case[case].append(identifier)


def _move(step, cases, readers, on_case) -> None:
    case, a, b, who, code = step
    ends = on_case[case]
    if len(ends) < 2 or a % len(ends) == b % len(ends):
        return
    recorder = RECORDERS[case][who % len(RECORDERS[case])]
    try:
        networks.record_transaction(
            actor=readers[recorder], case=cases[case], from_identifier=ends[a % len(ends)],
            to_identifier=ends[b % len(ends)], amount="100", currency="KRW",
            occurred_at=timezone.now(), handling_code=code,
        )  # fmt: skip
    except ValidationFailed:  # an end the recorder may not see
        return
