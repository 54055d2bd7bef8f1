"""Following the money (`cases.trace`): hop by hop over what the reader sees,
across cases by value, stopping at the border of what it may not see with
the deconfliction answer only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditAction, AuditEvent
from cases import services, trace
from cases.choices import AccessLevel, HandlingCode
from cases.deconfliction import add_identifier, request_contact
from cases.models import ContactRequest
from gate.errors import NotFound, PermissionDenied, ValidationFailed
from gate.roles import Role
from tests.factories import make_case, make_user

from .conftest import TRON_WALLET
from .trace_world import BOSS_WALLET, days_ago, money, tron, tron_address

pytestmark = pytest.mark.django_db


def _id(obj) -> str:
    return str(obj.public_id)


def _edges(found) -> set[str]:
    return {edge.id for edge in found.edges}


def _paths(found) -> list[tuple[list[str], dict[str, Decimal]]]:
    return [(path.nodes, path.totals) for path in found.paths]


def test_trace_follows_the_money_hop_by_hop_with_totals_per_path(trail, knp_coordinator):
    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    assert found.origin == _id(trail.victim_account)
    assert [n.id for n in found.nodes] == [
        _id(trail.victim_account), _id(trail.mule_account), _id(trail.wallet),
        _id(trail.boss_wallet),
    ]  # fmt: skip
    assert _edges(found) == {_id(t) for t in (trail.transfer, *trail.to_wallet, trail.to_boss)}
    # The two transfers from the mule are one step (20,000); at most 15,000 of
    # it can have reached the boss. KRW bought as USDT does not cap the USDT.
    assert _paths(found) == [
        (
            [n.id for n in found.nodes],
            {"KRW": Decimal("25000000"), "USDT-TRC20": Decimal("15000")},
        )
    ]
    assert not found.borders and not found.truncated


def test_edges_name_the_nodes_and_the_case_of_each_transaction(trail, knp_coordinator):
    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    edge = next(e for e in found.edges if e.id == _id(trail.to_boss))
    assert (edge.source, edge.target) == (_id(trail.wallet), _id(trail.boss_wallet))
    assert (edge.amount, edge.currency, edge.case) == (
        Decimal("15000"),
        "USDT-TRC20",
        _id(trail.case),
    )
    node = next(n for n in found.nodes if n.id == _id(trail.boss_wallet))
    assert (node.kind, node.value, node.case, node.case_reference) == (
        "crypto_wallet", BOSS_WALLET, _id(trail.case), trail.case.reference,
    )  # fmt: skip


def test_hops_bound_the_trace(trail, knp_coordinator):
    one = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account, hops=1)
    two = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account, hops=2)

    assert _edges(one) == {_id(trail.transfer)}
    assert _paths(one) == [
        ([_id(trail.victim_account), _id(trail.mule_account)], {"KRW": Decimal("25000000")})
    ]
    assert _edges(two) == {_id(trail.transfer), *map(_id, trail.to_wallet)}
    assert [len(path.nodes) for path in two.paths] == [3]


@pytest.mark.parametrize("hops", [0, 7, "4", None, True])
def test_hops_outside_one_to_six_are_refused(trail, knp_coordinator, hops):
    with pytest.raises(ValidationFailed) as refused:
        trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account, hops=hops)
    assert set(refused.value.errors) == {"hops"}


def test_since_after_until_is_refused(trail, knp_coordinator):
    with pytest.raises(ValidationFailed) as refused:
        trace.trace_money(
            actor=knp_coordinator, identifier=trail.victim_account,
            since=days_ago(1), until=days_ago(2),
        )  # fmt: skip
    assert set(refused.value.errors) == {"until"}


def test_since_and_until_keep_the_transactions_of_the_window(trail, knp_coordinator):
    found = trace.trace_money(
        actor=knp_coordinator, identifier=trail.victim_account,
        since=days_ago(31), until=days_ago(25),
    )  # fmt: skip

    # The boss's 15,000 of 20 days ago is out of the window.
    assert _edges(found) == {_id(t) for t in (trail.transfer, *trail.to_wallet)}


def test_a_wallet_sending_money_back_ends_the_path_instead_of_looping(
    trail, knp_coordinator, kh_investigator
):
    back = money(
        kh_investigator, trail.case, trail.boss_wallet, trail.victim_account, "500",
        "USDT-TRC20", 5,
    )  # fmt: skip
    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account, hops=6)

    assert _id(back) in _edges(found)  # the money is shown…
    assert len(found.nodes) == 4  # …but the victim's account is one node
    assert [path.nodes[-1] for path in found.paths] == [_id(trail.boss_wallet)]
    assert not found.truncated


def test_a_transaction_the_reader_may_not_see_is_not_followed(
    shared_case, knp_coordinator, kh_investigator, victim_account, mule_account, wallet, transfer
):
    """KH-CCOS recorded the mule's transfer to the wallet as RED: its own.
    KR-KNP's trace stops at the mule; KH-CCOS's goes on."""
    red = money(
        kh_investigator, shared_case, mule_account, wallet, "18000", "USDT-TRC20", 29,
        handling_code=HandlingCode.RED,
    )  # fmt: skip

    theirs = trace.trace_money(actor=kh_investigator, identifier=victim_account)
    ours = trace.trace_money(actor=knp_coordinator, identifier=victim_account)

    assert _id(red) in _edges(theirs)
    assert _edges(ours) == {_id(transfer)}
    assert _id(wallet) not in {n.id for n in ours.nodes}


def test_money_is_followed_by_value_into_another_case_the_reader_sees(
    trail, knp_coordinator, kh_coordinator, kh_investigator, knp
):
    """KH-CCOS's own case, shared with KR-KNP, records the boss wallet too:
    its transfers are followed from the same node."""
    other = make_case(kh_coordinator, title="Bavet cash-out")
    services.share_case(actor=kh_coordinator, case=other, agency=knp, level=AccessLevel.VIEW)
    boss_there = tron(kh_investigator, other, BOSS_WALLET)
    exchange = tron(kh_investigator, other, "TAUN6FwrnwwmaEqYcckffC7wYmbaS6cBiX")
    sent = money(kh_investigator, other, boss_there, exchange, "14000", "USDT-TRC20", 10)

    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account, hops=4)

    edge = next(e for e in found.edges if e.id == _id(sent))
    assert edge.source == _id(trail.boss_wallet)  # one node for one wallet
    assert edge.case == _id(other)
    assert found.paths[0].nodes[-1] == _id(exchange)
    assert found.paths[0].totals["USDT-TRC20"] == Decimal("14000")
    assert not found.borders  # nothing out of sight


def test_a_value_held_in_a_case_the_reader_may_not_see_is_a_border_only(
    trail, hidden, knp_coordinator
):
    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account, hops=6)

    [border] = found.borders
    assert border.at == _id(trail.boss_wallet)
    assert (border.agency, border.agency_country, border.kind) == (
        "KH-CCOS",
        "KH",
        "crypto_wallet",
    )
    assert border.contact_token
    # Nothing of the other side: its transaction, its wallet, its case.
    assert _id(hidden.sent) not in _edges(found)
    assert _id(hidden.cash_out) not in {n.id for n in found.nodes}
    assert {n.case for n in found.nodes} == {_id(trail.case)}
    assert [path.nodes[-1] for path in found.paths] == [_id(trail.boss_wallet)]


def test_the_border_token_asks_the_holder_for_contact(trail, hidden, knp_coordinator):
    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    contact = request_contact(actor=knp_coordinator, token=found.borders[0].contact_token)

    assert contact.holder_agency.code == "KH-CCOS"
    assert bytes(contact.value_hash) == bytes(hidden.boss_wallet.value_hash)
    assert ContactRequest.objects.count() == 1


def test_what_is_hidden_does_not_change_what_the_trace_shows(trail, knp_coordinator, request):
    before = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)
    request.getfixturevalue("hidden")
    after = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    assert (after.nodes, after.edges, _paths(after)) == (
        before.nodes,
        before.edges,
        _paths(before),
    )
    assert len(after.borders) == 1 and not before.borders


def test_a_value_held_in_an_undiscoverable_case_gives_no_border(trail, hidden, knp_coordinator,
                                                                 kh_coordinator):  # fmt: skip
    services.update_case(actor=kh_coordinator, case=hidden.case, discoverable=False)

    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    assert found.borders == []


def test_an_identifier_the_reader_may_not_see_is_not_found(trail, hidden, knp_coordinator):
    with pytest.raises(NotFound):
        trace.trace_money(actor=knp_coordinator, identifier=hidden.boss_wallet)


def test_a_viewer_may_not_trace_as_it_may_not_search(trail, knp_viewer):
    with pytest.raises(PermissionDenied):
        trace.trace_money(actor=knp_viewer, identifier=trail.victim_account)


def test_only_accounts_wallets_and_phones_are_traced(shared_case, knp_coordinator):
    email = add_identifier(
        actor=knp_coordinator, case=shared_case, kind="email", value="boss@example.com"
    )
    with pytest.raises(ValidationFailed) as refused:
        trace.trace_money(actor=knp_coordinator, identifier=email)
    assert set(refused.value.errors) == {"from"}


def test_each_hop_is_two_queries_whatever_the_number_of_transactions(
    trail, knp_coordinator, kh_investigator
):
    def transaction_reads(hops: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account, hops=hops)
        return sum('FROM "cases_transaction"' in q["sql"] for q in captured.captured_queries)

    few = transaction_reads(4)
    for n in range(5):
        extra = tron(kh_investigator, trail.case, tron_address(n))
        money(kh_investigator, trail.case, trail.wallet, extra, "10", "USDT-TRC20", 3)
    # Per hop the first transactions of each value, then their rows; the
    # fourth hop's values sent nothing, so it has no rows to read.
    assert few == transaction_reads(4) == 4 + 3


def test_the_edge_bound_truncates(trail, knp_coordinator, monkeypatch):
    monkeypatch.setattr(trace, "MAX_EDGES_PER_HOP", 1)

    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    assert found.truncated
    assert len(found.edges) == 3  # one per hop, the earliest first
    assert _id(trail.to_wallet[1]) not in _edges(found)


def test_the_path_bound_truncates(trail, knp_coordinator, kh_investigator, monkeypatch):
    second = tron(kh_investigator, trail.case, "TAUN6FwrnwwmaEqYcckffC7wYmbaS6cBiX")
    money(kh_investigator, trail.case, trail.wallet, second, "10", "USDT-TRC20", 3)
    monkeypatch.setattr(trace, "MAX_PATHS", 1)

    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    assert len(found.paths) == 1 and found.truncated


def test_the_border_bound_answers_the_nearest_values_and_truncates(
    trail, hidden, knp_coordinator, kh_investigator, monkeypatch
):
    """KH-CCOS's own case also holds the hot wallet (hop 2), nearer than the
    boss wallet (hop 3): past the bound, the boss wallet is neither answered
    nor its holder told."""
    from notifications.models import OutboxMessage

    tron(kh_investigator, hidden.case, TRON_WALLET)
    monkeypatch.setattr(trace, "MAX_BORDERS", 1)
    before = set(OutboxMessage.objects.values_list("pk", flat=True))

    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    assert [border.at for border in found.borders] == [_id(trail.wallet)]
    assert found.truncated
    told = OutboxMessage.objects.exclude(pk__in=before).filter(event_type="deconfliction.hit")
    assert not {_id(trail.boss_wallet), _id(hidden.boss_wallet)} & {str(m.object_id) for m in told}


def test_a_trace_is_audited_as_a_search_with_hashes_not_values(trail, hidden, knp_coordinator):
    trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account, hops=3)

    event = AuditEvent.objects.filter(
        action=AuditAction.SEARCH, object_type="cases.transaction"
    ).get()
    assert event.changes["trace_from"] == _id(trail.victim_account)
    assert (event.changes["hops"], event.changes["edges"], event.changes["borders"]) == (3, 4, 1)
    assert bytes(trail.boss_wallet.value_hash).hex() in event.changes["hashes"]
    assert BOSS_WALLET not in str(event.changes)


def test_the_holder_is_told_once_that_a_trace_reached_its_value(
    trail, hidden, knp_coordinator, kh_investigator
):
    """KH-CCOS holds the boss wallet twice (the shared case and its own):
    its agency is told once, of its earliest identifier holding the value."""
    from notifications.models import OutboxMessage

    before = set(OutboxMessage.objects.values_list("pk", flat=True))
    trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    told = OutboxMessage.objects.exclude(pk__in=before).filter(event_type="deconfliction.hit")
    boss = {_id(trail.boss_wallet), _id(hidden.boss_wallet)}
    about_boss = [m for m in told if str(m.object_id) in boss]
    assert [(str(m.object_id), m.payload["ids"]["agency"]) for m in about_boss] == [
        (_id(trail.boss_wallet), str(kh_investigator.membership.agency.public_id))
    ]


def test_a_member_of_an_agency_the_case_was_shared_with_traces_what_it_sees(trail, kh_investigator):
    found = trace.trace_money(actor=kh_investigator, identifier=trail.victim_account)

    assert _edges(found) == {_id(t) for t in (trail.transfer, *trail.to_wallet, trail.to_boss)}


def test_an_investigator_of_the_reader_agency_is_enough(trail, knp):
    investigator = make_user(knp, Role.INVESTIGATOR)
    found = trace.trace_money(actor=investigator, identifier=trail.victim_account, hops=1)
    assert len(found.edges) == 1


def test_a_transaction_to_a_wallet_the_reader_may_not_see_is_not_followed(
    shared_case, knp_coordinator, kh_investigator, victim_account, transfer
):
    """A wallet KH-CCOS keeps RED hides the transfers to it from KR-KNP."""
    secret = add_identifier(
        actor=kh_investigator, case=shared_case, kind="crypto_wallet",
        value="TAUN6FwrnwwmaEqYcckffC7wYmbaS6cBiX", chain="tron", handling_code=HandlingCode.RED,
    )  # fmt: skip
    sent = money(kh_investigator, shared_case, victim_account, secret, "1", "USDT-TRC20", 2)

    found = trace.trace_money(actor=knp_coordinator, identifier=victim_account)

    assert _id(sent) not in _edges(found)
    assert _id(transfer) in _edges(found)


def test_a_trace_changes_no_network_row(trail, knp_coordinator):
    from .helpers import network_state

    before = {k: v for k, v in network_state().items() if k != "audit"}
    trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)
    assert {k: v for k, v in network_state().items() if k != "audit"} == before


def test_a_value_sending_more_than_its_bound_keeps_its_earliest_and_truncates(
    trail, knp_coordinator, monkeypatch
):
    """The mule sent twice to the wallet: with one transaction per value and
    hop, the earlier stays, and the trace says it left some out."""
    monkeypatch.setattr(trace, "MAX_EDGES_PER_VALUE", 1)

    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account)

    assert found.truncated
    assert _edges(found) == {_id(trail.transfer), _id(trail.to_wallet[0]), _id(trail.to_boss)}
