"""`GET /api/v1/cases/{case_id}/graph/`: the picture of a case's network.

On KR-KNP's case shared with KH-CCOS (tests/cases/networks/conftest.py):
the victim's account sends KRW to a mule account, the mule sends USDT to a
TRON wallet that KH-CCOS recorded; KH-CCOS's own case holds the same wallet
and the money that went on from it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import graph, networks, services
from cases.api.graph import GraphSerializer, payload
from cases.choices import AccessLevel, EntityKind, LinkKind, PersonRole
from cases.deconfliction import add_identifier
from tests.factories import make_case

from .conftest import MULE_WALLET, TRON_WALLET
from .trace_world import kr_account

pytestmark = pytest.mark.django_db


def _url(case, **params) -> str:
    query = "&".join(
        f"{name}={value}"
        for name, values in params.items()
        for value in (values if isinstance(values, list) else [values])
    )
    return f"/api/v1/cases/{case.public_id}/graph/" + (f"?{query}" if query else "")


def _get(api, user, case, **params):
    response = api(user).get(_url(case, **params))
    assert response.status_code == 200, response.content
    return response.json()


def _ids(items) -> set[str]:
    return {item["id"] for item in items}


def _money(shared_case, actor, sender, recipient, amount, currency, days_ago=10, case=None):
    return networks.record_transaction(
        actor=actor,
        case=case or shared_case,
        from_identifier=sender,
        to_identifier=recipient,
        amount=Decimal(amount),
        currency=currency,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
    )


@pytest.fixture
def network(shared_case, knp_coordinator, kh_investigator, victim_account, mule_account, wallet,
            operator, company, victim, transfer):  # fmt: skip
    """The conftest's network with its links, and USDT from the mule to the wallet."""
    networks.create_link(
        actor=kh_investigator, case=shared_case, kind=LinkKind.HOLDS_WALLET,
        from_entity=operator, to_identifier=wallet,
    )  # fmt: skip
    networks.create_link(
        actor=knp_coordinator, case=shared_case, kind=LinkKind.CONTROLS,
        from_entity=operator, to_entity=company,
    )  # fmt: skip
    networks.create_link(
        actor=knp_coordinator, case=shared_case, kind=LinkKind.HOLDS_ACCOUNT,
        from_entity=victim, to_identifier=victim_account,
    )  # fmt: skip
    _money(shared_case, knp_coordinator, mule_account, wallet, "1000.5", "USDT-TRC20", 9)
    _money(shared_case, knp_coordinator, mule_account, wallet, "2000", "USDT-TRC20", 8)
    _money(shared_case, knp_coordinator, mule_account, wallet, "5000000", "KRW", 7)
    return shared_case


@pytest.fixture
def kh_case(kh_coordinator, kh_investigator, ccos, knp, network):
    """KH-CCOS's own case, shared with KR-KNP to view: the same wallet, and
    the money that left it for another wallet."""
    case = make_case(kh_coordinator, title="Golden Fortune laundering")
    services.share_case(actor=kh_coordinator, case=case, agency=knp, level=AccessLevel.VIEW)
    same = add_identifier(
        actor=kh_investigator, case=case, kind="crypto_wallet", value=TRON_WALLET, chain="tron"
    )
    onward = add_identifier(
        actor=kh_investigator, case=case, kind="crypto_wallet", value=MULE_WALLET, chain="tron"
    )
    _money(None, kh_investigator, same, onward, "2900", "USDT-TRC20", 5, case=case)
    return case


def test_the_graph_holds_the_entities_identifiers_links_and_money_of_the_case(
    api, knp_coordinator, network, operator, company, victim, wallet, mule_account, victim_account
):
    body = _get(api, knp_coordinator, network)
    assert body["case"] == str(network.public_id) and body["expanded"] is None
    assert _ids(body["nodes"]) == {
        *(f"entity:{e.public_id}" for e in (operator, company, victim)),
        *(f"identifier:{i.public_id}" for i in (wallet, mule_account, victim_account)),
    }
    kinds = {(e["type"], e["kind"]) for e in body["edges"]}
    assert kinds == {
        ("link", "holds_wallet"),
        ("link", "controls"),
        ("link", "holds_account"),
        ("transaction", "transaction"),
    }
    nodes = {n["id"]: n for n in body["nodes"]}
    assert nodes[f"entity:{victim.public_id}"]["role"] == PersonRole.VICTIM
    assert nodes[f"identifier:{wallet.public_id}"]["label"] == TRON_WALLET
    assert nodes[f"identifier:{wallet.public_id}"]["agency"] == "KH-CCOS"


def test_transactions_between_two_identifiers_are_one_edge_per_currency_with_count_and_total(
    api, knp_coordinator, network, wallet, mule_account
):
    edges = _get(api, knp_coordinator, network, kinds=["identifier", "transaction"])["edges"]
    between = {
        e["currency"]: e
        for e in edges
        if e["source"] == f"identifier:{mule_account.public_id}"
        and e["target"] == f"identifier:{wallet.public_id}"
    }
    assert set(between) == {"USDT-TRC20", "KRW"}
    assert between["USDT-TRC20"]["count"] == 2
    assert Decimal(between["USDT-TRC20"]["total"]) == Decimal("3000.5")
    assert Decimal(between["KRW"]["total"]) == Decimal("5000000")


def test_a_picture_draws_every_money_edge_within_the_bound_and_says_it_is_whole(
    api, knp_coordinator, network
):
    body = _get(api, knp_coordinator, network)
    assert len([e for e in body["edges"] if e["type"] == "transaction"]) == 3
    assert body["truncated"] is False


@pytest.mark.parametrize("expand", [False, True])
def test_more_money_edges_than_drawn_keep_the_busiest_and_say_truncated(
    api, knp_coordinator, network, wallet, mule_account, monkeypatch, expand
):
    """The mule sent the wallet USDT twice and KRW once: with room for one
    money edge, the USDT edge is drawn."""
    monkeypatch.setattr(graph, "MAX_TRANSACTION_EDGES", 1)
    params = {"expand": f"identifier:{wallet.public_id}"} if expand else {}
    body = _get(api, knp_coordinator, network, **params)
    money = [e for e in body["edges"] if e["type"] == "transaction"]
    assert [(e["source"], e["currency"], e["count"]) for e in money] == [
        (f"identifier:{mule_account.public_id}", "USDT-TRC20", 2)
    ]
    assert body["truncated"] is True


def test_a_partner_gets_no_victim_nor_the_victims_link(
    api, kh_investigator, network, victim, victim_account
):
    body = _get(api, kh_investigator, network)
    ids = _ids(body["nodes"])
    assert f"entity:{victim.public_id}" not in ids
    assert f"identifier:{victim_account.public_id}" in ids
    assert not [e for e in body["edges"] if e["kind"] == "holds_account"]


def test_kinds_keep_only_those_nodes_and_the_edges_between_them(
    api, knp_coordinator, network, operator, company, victim
):
    body = _get(api, knp_coordinator, network, kinds=["person", "organisation", "link"])
    assert _ids(body["nodes"]) == {f"entity:{e.public_id}" for e in (operator, company, victim)}
    assert [e["kind"] for e in body["edges"]] == ["controls"]


def test_another_case_holding_an_identifier_is_a_node_held_in_by_it(
    api, knp_coordinator, network, kh_case, wallet
):
    body = _get(api, knp_coordinator, network)
    case_node = f"case:{kh_case.public_id}"
    nodes = {n["id"]: n for n in body["nodes"]}
    assert nodes[case_node]["label"] == kh_case.reference
    assert nodes[case_node]["title"] == "Golden Fortune laundering"
    held = [e for e in body["edges"] if e["type"] == "held_in"]
    assert [(e["source"], e["target"]) for e in held] == [
        (f"identifier:{wallet.public_id}", case_node)
    ]


def test_a_case_the_reader_may_not_see_is_no_node(
    api, kh_investigator, knp_coordinator, network, wallet
):
    """KR-KNP's own case holding the wallet, not shared with KH-CCOS."""
    other = make_case(knp_coordinator, title="KNP only")
    add_identifier(
        actor=knp_coordinator, case=other, kind="crypto_wallet", value=TRON_WALLET, chain="tron"
    )
    seen_by_kh = _get(api, kh_investigator, network)
    assert f"case:{other.public_id}" not in _ids(seen_by_kh["nodes"])
    assert f"case:{other.public_id}" in _ids(_get(api, knp_coordinator, network)["nodes"])


def _cases_holding_the_wallet(actor, count: int) -> list:
    cases = [make_case(actor, title=f"Holder {number}") for number in range(count)]
    for case in cases:
        add_identifier(
            actor=actor, case=case, kind="crypto_wallet", value=TRON_WALLET, chain="tron"
        )
    return cases


def test_a_value_held_on_many_cases_draws_the_newest_five_and_says_there_are_more(
    api, knp_coordinator, network, kh_case, wallet
):
    """A mule wallet on thousands of cases must not make the picture draw them all."""
    holders = _cases_holding_the_wallet(knp_coordinator, graph.OTHER_CASES_PER_IDENTIFIER)
    body = _get(api, knp_coordinator, network)
    nodes = {n["id"]: n for n in body["nodes"]}
    newest = sorted([*holders, kh_case], key=lambda c: c.pk)[-graph.OTHER_CASES_PER_IDENTIFIER :]
    drawn = {n for n in nodes if n.startswith("case:")}
    assert drawn == {f"case:{c.public_id}" for c in newest}
    assert nodes[f"identifier:{wallet.public_id}"]["more_cases"] is True


def test_a_value_held_on_five_other_cases_draws_them_all(
    api, knp_coordinator, network, kh_case, wallet
):
    _cases_holding_the_wallet(knp_coordinator, graph.OTHER_CASES_PER_IDENTIFIER - 1)
    body = _get(api, knp_coordinator, network)
    nodes = {n["id"]: n for n in body["nodes"]}
    assert len([n for n in nodes if n.startswith("case:")]) == graph.OTHER_CASES_PER_IDENTIFIER
    assert nodes[f"identifier:{wallet.public_id}"]["more_cases"] is False


def test_cases_the_reader_may_not_see_neither_count_nor_draw(
    api, knp_coordinator, outsider, network, kh_case, wallet
):
    """UNODC's own cases holding the wallet are not KR-KNP's to see: not drawn,
    and they do not make the wallet say that there are more."""
    _cases_holding_the_wallet(knp_coordinator, graph.OTHER_CASES_PER_IDENTIFIER - 1)
    hidden = _cases_holding_the_wallet(outsider, 3)
    body = _get(api, knp_coordinator, network)
    nodes = {n["id"]: n for n in body["nodes"]}
    assert not {f"case:{c.public_id}" for c in hidden} & set(nodes)
    assert nodes[f"identifier:{wallet.public_id}"]["more_cases"] is False


def test_expanding_a_value_held_on_many_cases_draws_the_newest_five(
    api, knp_coordinator, network, kh_case, wallet
):
    holders = _cases_holding_the_wallet(knp_coordinator, graph.OTHER_CASES_PER_IDENTIFIER)
    body = _get(api, knp_coordinator, network, expand=f"identifier:{wallet.public_id}")
    nodes = {n["id"]: n for n in body["nodes"]}
    assert {n for n in nodes if n.startswith("case:")} == {f"case:{c.public_id}" for c in holders}
    assert nodes[body["expanded"]]["more_cases"] is True


def test_expanding_a_wallet_adds_the_money_that_went_on_from_it_in_another_case(
    api, knp_coordinator, network, kh_case, wallet
):
    body = _get(api, knp_coordinator, network, expand=f"identifier:{wallet.public_id}")
    here = f"identifier:{wallet.public_id}"
    assert body["expanded"] == here
    onward = [n for n in body["nodes"] if n["label"] == MULE_WALLET]
    assert len(onward) == 1 and onward[0]["case"] == str(kh_case.public_id)
    assert not onward[0]["on_case"]
    out = [e for e in body["edges"] if e["type"] == "transaction" and e["source"] == here]
    assert [(e["target"], e["case"], e["total"]) for e in out] == [
        (onward[0]["id"], str(kh_case.public_id), "2900.000000000000000000")
    ]
    # The wallet's own money on this case comes with it, and the case holding it.
    assert any(e["target"] == here and e["case"] == str(network.public_id) for e in body["edges"])
    assert f"case:{kh_case.public_id}" in _ids(body["nodes"])


def test_expanding_the_same_wallet_from_the_other_case_draws_it_as_the_cases_own(
    api, knp_coordinator, network, kh_case, wallet
):
    theirs = kh_case.identifiers.get(raw_value=TRON_WALLET)
    body = _get(api, knp_coordinator, network, expand=f"identifier:{theirs.public_id}")
    assert body["expanded"] == f"identifier:{wallet.public_id}"
    assert f"identifier:{theirs.public_id}" not in _ids(body["nodes"])


def test_expanding_an_entity_gives_its_links(api, knp_coordinator, network, operator, company):
    body = _get(api, knp_coordinator, network, expand=f"entity:{operator.public_id}")
    assert {e["kind"] for e in body["edges"]} == {"holds_wallet", "controls"}
    assert f"entity:{company.public_id}" in _ids(body["nodes"])


def test_a_partner_cannot_expand_a_node_it_may_not_see(api, kh_investigator, network, victim):
    response = api(kh_investigator).get(_url(network, expand=f"entity:{victim.public_id}"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "expand"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kinds": "wallet"}, "kinds"),
        ({"expand": "identifier:not-a-uuid"}, "expand"),
        ({"expand": f"case:{uuid.uuid4()}"}, "expand"),
        ({"expand": f"identifier:{uuid.uuid4()}"}, "expand"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(api, knp_coordinator, network, params, field):
    response = api(knp_coordinator).get(_url(network, **params))
    assert response.status_code == 400
    assert field in {error["field"] for error in response.json()["errors"]}


def test_an_outsider_gets_404_for_the_graph(api, outsider, network):
    response = api(outsider).get(_url(network))
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_an_unknown_case_is_a_404(api, knp_coordinator, network):
    assert api(knp_coordinator).get(f"/api/v1/cases/{uuid.uuid4()}/graph/").status_code == 404


def _grow(case, actor, wallet, count: int) -> None:
    """`count` more persons, each using a phone and each paid from `wallet`."""
    for number in range(count):
        person = networks.create_entity(
            actor=actor, case=case, kind=EntityKind.PERSON, name=f"Mule {number}"
        )
        account = kr_account(actor, case, f"356-{number:04d}-4567-83")
        networks.create_link(
            actor=actor, case=case, kind=LinkKind.HOLDS_ACCOUNT, from_entity=person,
            to_identifier=account,
        )  # fmt: skip
        _money(case, actor, wallet, account, "10", "USDT-TRC20")


@pytest.mark.parametrize(("expand", "queries", "grown"), [(False, 9, 24), (True, 9, 12)])
def test_the_query_count_does_not_grow_with_the_graph(
    api, knp_coordinator, network, kh_case, wallet, expand, queries, grown
):
    """The case, then one query per kind of row, and for a whole picture the
    ids of the case's entities and identifiers its links' and transactions'
    ends are asked of (the user's membership is cached on it: the test
    client authenticates the same object)."""
    params = {"expand": f"identifier:{wallet.public_id}"} if expand else {}
    client = api(knp_coordinator)
    sizes = []
    for grow in (0, 12):
        _grow(network, knp_coordinator, wallet, grow)
        with CaptureQueriesContext(connection) as captured:
            body = client.get(_url(network, **params)).json()
        sizes.append((len(body["nodes"]), len(captured)))
    assert sizes[1][0] == sizes[0][0] + grown  # the hop: the accounts only
    assert [count for _, count in sizes] == [queries, queries], sizes


def test_the_answer_is_what_the_documented_serializer_writes(
    knp_coordinator, network, kh_case, wallet
):
    """`payload` writes the picture without DRF's serializer, field for field the same."""
    for expand in (None, f"identifier:{wallet.public_id}"):
        picture = graph.case_graph(knp_coordinator, network.public_id, expand=expand)
        documented = GraphSerializer(
            {
                "case": picture.case,
                "expanded": picture.expanded,
                "nodes": list(picture.nodes.values()),
                "edges": list(picture.edges.values()),
                "truncated": picture.truncated,
            }
        ).data
        assert json.loads(json.dumps(payload(picture))) == json.loads(json.dumps(documented))
        assert any(edge["total"] for edge in documented["edges"])
