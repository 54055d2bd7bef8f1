"""`GET /api/v1/trace/`: the contract the flow view is built on, the border
of what the reader may not see, 404 for an outsider, 400 for bad input."""

from __future__ import annotations

import json
import uuid

import pytest

from cases import trace
from cases.api.trace import TraceSerializer, payload
from cases.models import ContactRequest

from .trace_world import BOSS_WALLET, CASH_OUT_WALLET, HIDDEN_AMOUNT, HIDDEN_TITLE

pytestmark = pytest.mark.django_db

URL = "/api/v1/trace/"


def _id(obj) -> str:
    return str(obj.public_id)


def _trace(client, **params):
    return client.get(URL, params)


def _errors(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    return {e["field"]: e["detail"] for e in response.json()["errors"]}


def test_a_trace_answers_in_the_documented_shape(trail, knp_coordinator, api):
    response = _trace(api(knp_coordinator), **{"from": _id(trail.victim_account)})

    assert response.status_code == 200, response.content
    body = response.json()
    assert list(body) == ["from", "hops", "nodes", "edges", "paths", "borders", "truncated"]
    assert (body["from"], body["hops"], body["truncated"]) == (
        _id(trail.victim_account),
        4,
        False,
    )
    assert body["nodes"][0] == {
        "id": _id(trail.victim_account),
        "kind": "bank_account",
        "value": "110-234-567890",
        "case": _id(trail.case),
        "case_reference": trail.case.reference,
    }
    edge = next(e for e in body["edges"] if e["id"] == _id(trail.to_boss))
    assert edge == {
        "id": _id(trail.to_boss),
        "from": _id(trail.wallet),
        "to": _id(trail.boss_wallet),
        "amount": "15000",
        "currency": "USDT-TRC20",
        "occurred_at": edge["occurred_at"],
        "case": _id(trail.case),
    }
    assert body["paths"] == [
        {
            "nodes": [n["id"] for n in body["nodes"]],
            "totals": {"KRW": "25000000", "USDT-TRC20": "15000"},
        }
    ]
    assert body["borders"] == []


def test_hops_bound_the_trace(trail, knp_coordinator, api):
    body = _trace(api(knp_coordinator), **{"from": _id(trail.victim_account), "hops": 1}).json()

    assert body["hops"] == 1
    assert [e["id"] for e in body["edges"]] == [_id(trail.transfer)]


def test_crossing_into_a_case_the_reader_may_not_see_returns_only_the_deconfliction_answer(
    trail, hidden, knp_coordinator, api
):
    """Issue 20: KR-KNP's trace from the victim's account reaches the boss
    wallet, which KH-CCOS also holds on a case KR-KNP may not see: the path
    stops there with "KH-CCOS holds a match", and the token asks for contact."""
    client = api(knp_coordinator)
    response = _trace(client, **{"from": _id(trail.victim_account), "hops": 6})

    assert response.status_code == 200, response.content
    body = response.json()
    [border] = body["borders"]
    assert {k: v for k, v in border.items() if k not in ("first_recorded", "contact_token")} == {
        "at": _id(trail.boss_wallet),
        "agency": "KH-CCOS",
        "agency_country": "KH",
        "kind": "crypto_wallet",
    }
    assert [path["nodes"][-1] for path in body["paths"]] == [_id(trail.boss_wallet)]
    text = response.content.decode()
    for secret in (
        _id(hidden.case), hidden.case.reference, HIDDEN_TITLE, _id(hidden.boss_wallet),
        _id(hidden.cash_out), CASH_OUT_WALLET, _id(hidden.sent), HIDDEN_AMOUNT, "9876",
    ):  # fmt: skip
        assert secret not in text, secret
    # The node the border is at is KR-KNP's own view of the wallet.
    assert BOSS_WALLET in text

    contact = client.post(
        "/api/v1/deconfliction/request-contact/",
        {"token": border["contact_token"]},
        format="json",
    )
    assert contact.status_code == 201, contact.content
    assert contact.json()["holder_agency"] == "KH-CCOS"
    assert ContactRequest.objects.get().requester_agency.code == "KR-KNP"


def test_an_outsider_gets_404_as_for_an_identifier_that_does_not_exist(trail, outsider, api):
    client = api(outsider)
    hidden = _trace(client, **{"from": _id(trail.victim_account)})
    missing = _trace(client, **{"from": str(uuid.uuid4())})

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert "110-234-567890" not in hidden.content.decode()


def test_a_partner_cannot_start_from_an_identifier_it_may_not_see(
    trail, hidden, knp_coordinator, api
):
    response = _trace(api(knp_coordinator), **{"from": _id(hidden.boss_wallet)})
    assert response.status_code == 404


def test_a_viewer_is_refused_as_for_a_search(trail, knp_viewer, api):
    response = _trace(api(knp_viewer), **{"from": _id(trail.victim_account)})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"from"}),
        ({"from": "not-a-uuid"}, {"from"}),
        ({"hops": "0"}, {"hops"}),
        ({"hops": "7"}, {"hops"}),
        ({"hops": "four"}, {"hops"}),
        ({"since": "yesterday"}, {"since"}),
        ({"since": "2025-03-02T00:00:00Z", "until": "2025-03-01T00:00:00Z"}, {"until"}),
        ({"until": ""}, {"until"}),
        ({"depth": "3"}, {"depth"}),
    ],
)
def test_bad_parameters_are_a_400_naming_them(trail, knp_coordinator, api, params, fields):
    query = {"from": _id(trail.victim_account), **params} if params else {}
    assert set(_errors(_trace(api(knp_coordinator), **query))) == fields


def test_a_trace_from_an_email_address_is_a_400(shared_case, knp_coordinator, api):
    from cases.deconfliction import add_identifier

    email = add_identifier(
        actor=knp_coordinator, case=shared_case, kind="email", value="boss@example.com"
    )
    assert set(_errors(_trace(api(knp_coordinator), **{"from": _id(email)}))) == {"from"}


def test_the_schema_documents_the_trace(api, knp_coordinator):
    schema = api(knp_coordinator).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/trace/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"from", "hops", "since", "until"} <= names
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    trace = schema["components"]["schemas"]["Trace"]
    assert list(trace["properties"]) == [
        "from", "hops", "nodes", "edges", "paths", "borders", "truncated",
    ]  # fmt: skip
    edge = schema["components"]["schemas"]["TraceEdge"]
    assert list(edge["properties"]) == [
        "id", "from", "to", "amount", "currency", "occurred_at", "case",
    ]  # fmt: skip


def test_the_answer_is_what_the_documented_serializer_writes(trail, hidden, knp_coordinator):
    """`payload` writes the trace without DRF's serializer, field for field the same."""
    found = trace.trace_money(actor=knp_coordinator, identifier=trail.victim_account, hops=6)
    assert found.edges and found.paths and found.borders
    documented = TraceSerializer(found).data
    assert json.loads(json.dumps(payload(found))) == json.loads(json.dumps(documented))
