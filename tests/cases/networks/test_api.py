"""The network API: lists and details through the gate, writes through the
services, bad input a 400 naming its fields with nothing changed."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import networks
from cases.choices import EntityKind, HandlingCode, LinkKind
from cases.models import Entity

from .helpers import unchanged

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]

ROUTES = ("entities", "links", "transactions", "assets")


@pytest.fixture
def holds(shared_case, kh_investigator, operator, wallet):
    return networks.create_link(
        actor=kh_investigator, case=shared_case, kind=LinkKind.HOLDS_WALLET,
        from_entity=operator, to_identifier=wallet,
    )  # fmt: skip


@pytest.fixture
def frozen(shared_case, knp_coordinator, ccos, mule_account):
    return networks.record_asset(
        actor=knp_coordinator, case=shared_case, kind="bank_balance",
        description="Balance of the mule account", value=Decimal("18500000"), currency="KRW",
        state="frozen", state_on=timezone.localdate() - dt.timedelta(days=3),
        holding_agency=ccos, identifier=mule_account,
    )  # fmt: skip


@pytest.fixture
def network(operator, company, victim, holds, transfer, frozen):
    return {
        "entities": [operator, company, victim],
        "links": [holds],
        "transactions": [transfer],
        "assets": [frozen],
    }


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def _errors(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    return {e["field"]: e["detail"] for e in response.json()["errors"]}


# --- isolation ------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_an_outsider_gets_an_empty_list_and_404s(api, outsider, network, route):
    client = api(outsider)
    assert _ids(client.get(f"/api/v1/{route}/")) == set()
    for obj in network[route]:
        hidden = client.get(f"/api/v1/{route}/{obj.public_id}/")
        missing = client.get(f"/api/v1/{route}/{uuid.uuid4()}/")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()


@pytest.mark.parametrize("route", ROUTES)
def test_an_outsider_cannot_change_what_it_cannot_see(api, outsider, network, route):
    obj = network[route][0]
    with unchanged():
        response = api(outsider).patch(
            f"/api/v1/{route}/{obj.public_id}/", {"description": "x"}, format="json",
            HTTP_IF_MATCH='"1"',
        )  # fmt: skip
    assert response.status_code == 404


def test_a_partner_lists_what_it_may_see_and_not_the_victim(api, kh_viewer, network, victim):
    client = api(kh_viewer)
    entities = _ids(client.get("/api/v1/entities/"))
    assert entities == {str(e.public_id) for e in network["entities"]} - {str(victim.public_id)}
    assert client.get(f"/api/v1/entities/{victim.public_id}/").status_code == 404
    for route in ("links", "transactions", "assets"):
        assert _ids(client.get(f"/api/v1/{route}/")) == {str(o.public_id) for o in network[route]}


def test_the_recording_agency_sees_its_victim(api, knp_viewer, victim):
    body = api(knp_viewer).get(f"/api/v1/entities/{victim.public_id}/").json()
    assert (body["role"], body["handling_code"], body["agency"]) == ("victim", "RED", "KR-KNP")


def test_a_red_parent_is_null_for_a_partner(api, shared_case, knp_coordinator, kh_viewer):
    group = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Prince Casino Group", handling_code=HandlingCode.RED,
    )  # fmt: skip
    shell = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Golden Sands", parent=group,
    )  # fmt: skip
    mine = api(knp_coordinator).get(f"/api/v1/entities/{shell.public_id}/").json()
    theirs = api(kh_viewer).get(f"/api/v1/entities/{shell.public_id}/").json()
    assert mine["parent"] == str(group.public_id)
    assert theirs["parent"] is None
    listed = api(kh_viewer).get("/api/v1/entities/", {"kind": "organisation"}).json()
    assert [row["parent"] for row in listed["results"]] == [None]


# --- reading --------------------------------------------------------------------------


def test_a_transaction_reads_back_exactly(api, kh_viewer, transfer, victim_account, mule_account):
    body = api(kh_viewer).get(f"/api/v1/transactions/{transfer.public_id}/").json()
    assert body["amount"] == "25000000.000000000000000000"
    assert (body["from_identifier"], body["to_identifier"]) == (
        str(victim_account.public_id),
        str(mule_account.public_id),
    )
    assert (body["currency"], body["reference"], body["agency"]) == (
        "KRW",
        "KB-20250301-0042",
        "KR-KNP",
    )


def test_an_asset_shows_its_history_and_holder(api, kh_viewer, frozen):
    body = api(kh_viewer).get(f"/api/v1/assets/{frozen.public_id}/").json()
    assert body["holding_agency"] == "KH-CCOS"
    assert [(s["state"], s["agency"]) for s in body["history"]] == [("frozen", "KR-KNP")]


@pytest.mark.parametrize(
    ("route", "query", "expected"),
    [
        ("entities", {"kind": "person"}, "operator"),
        ("entities", {"role": "suspect"}, "operator"),
        ("links", {"kind": "holds_wallet"}, "holds"),
        ("transactions", {"currency": "krw"}, "transfer"),
        ("assets", {"state": "frozen"}, "frozen"),
    ],
)
def test_the_lists_filter(api, kh_viewer, network, request, route, query, expected):
    obj = request.getfixturevalue(expected)
    assert _ids(api(kh_viewer).get(f"/api/v1/{route}/", query)) == {str(obj.public_id)}


@pytest.mark.parametrize("route", ROUTES)
def test_the_lists_filter_by_case_and_handling_code(api, kh_viewer, network, shared_case, route):
    client = api(kh_viewer)
    assert _ids(client.get(f"/api/v1/{route}/", {"case": str(uuid.uuid4())})) == set()
    assert _ids(client.get(f"/api/v1/{route}/", {"case": str(shared_case.public_id)}))
    assert _ids(client.get(f"/api/v1/{route}/", {"handling_code": "RED"})) == set()


@pytest.mark.parametrize("route", ROUTES)
def test_updated_since_keeps_only_later_changes(api, kh_viewer, network, route):
    later = timezone.now() + dt.timedelta(seconds=1)
    assert _ids(api(kh_viewer).get(f"/api/v1/{route}/", {"updated_since": later.isoformat()})) == (
        set()
    )


def test_links_and_transactions_filter_by_node(
    api, kh_viewer, holds, transfer, wallet, mule_account
):
    client = api(kh_viewer)
    assert _ids(client.get("/api/v1/links/", {"node": str(wallet.public_id)})) == {
        str(holds.public_id)
    }
    assert _ids(
        client.get("/api/v1/transactions/", {"identifier": str(mule_account.public_id)})
    ) == {str(transfer.public_id)}


def test_the_entity_list_pages_in_the_sync_order(api, kh_viewer, shared_case, kh_investigator):
    for n in range(3):
        networks.create_entity(
            actor=kh_investigator, case=shared_case, kind=EntityKind.PLACE, name=f"Block {n}"
        )
    first = api(kh_viewer).get("/api/v1/entities/", {"page_size": 2}).json()
    second = api(kh_viewer).get(first["next"]).json()
    names = [row["name"] for row in first["results"] + second["results"]]
    assert names == ["Block 0", "Block 1", "Block 2"]


# --- writing --------------------------------------------------------------------------


def test_an_investigator_records_a_victim_who_stays_red(api, shared_case, kh_investigator):
    response = api(kh_investigator).post(
        "/api/v1/entities/",
        {"case": str(shared_case.public_id), "kind": "person", "name": "Sokha", "role": "victim"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["handling_code"], body["agency"]) == ("RED", "KH-CCOS")
    assert response["ETag"] == '"1"'
    assert response["Location"].endswith(f"/api/v1/entities/{body['id']}/")


def test_an_entity_is_changed_with_if_match(api, operator, kh_investigator):
    client = api(kh_investigator)
    url = f"/api/v1/entities/{operator.public_id}/"
    assert client.patch(url, {"name": "Chen"}, format="json").status_code == 428
    response = client.patch(url, {"aliases": ["ចេន"]}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert (response.json()["aliases"], response["ETag"]) == (["ចេន"], '"2"')
    stale = client.patch(url, {"name": "Chen"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412


def test_a_partner_cannot_change_another_agencys_entity(api, operator, knp_coordinator):
    with unchanged():
        response = api(knp_coordinator).patch(
            f"/api/v1/entities/{operator.public_id}/", {"name": "X"}, format="json",
            HTTP_IF_MATCH='"1"',
        )  # fmt: skip
    assert response.status_code == 403


def test_a_link_is_recorded_between_an_entity_and_an_identifier(
    api, shared_case, kh_investigator, company, wallet
):
    response = api(kh_investigator).post(
        "/api/v1/links/",
        {
            "case": str(shared_case.public_id),
            "kind": "holds_wallet",
            "from_entity": str(company.public_id),
            "to_identifier": str(wallet.public_id),
            "source_reliability": "B",
            "information_accuracy": "2",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["from_entity"], body["to_identifier"], body["from_identifier"]) == (
        str(company.public_id),
        str(wallet.public_id),
        None,
    )


def test_a_link_to_a_node_the_writer_cannot_see_is_unknown_like_a_missing_one(
    api, shared_case, kh_investigator, company, victim
):
    client = api(kh_investigator)

    def post(to_entity: str):
        return client.post(
            "/api/v1/links/",
            {"case": str(shared_case.public_id), "kind": "employs",
             "from_entity": str(company.public_id), "to_entity": to_entity},
            format="json",
        )  # fmt: skip

    with unchanged():
        hidden, missing = post(str(victim.public_id)), post(str(uuid.uuid4()))
    assert _errors(hidden) == _errors(missing) == {"to_entity": "Unknown entity."}


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [("-5", "KRW", "amount"), ("100", "Korean won", "currency"), ("1e40", "KRW", "amount")],
)
def test_a_bad_transaction_is_a_400_naming_its_field(
    api, shared_case, knp_coordinator, victim_account, mule_account, amount, currency, field
):
    with unchanged():
        response = api(knp_coordinator).post(
            "/api/v1/transactions/",
            {
                "case": str(shared_case.public_id),
                "from_identifier": str(victim_account.public_id),
                "to_identifier": str(mule_account.public_id),
                "amount": amount,
                "currency": currency,
                "occurred_at": "2025-03-01T10:42:00+09:00",
            },
            format="json",
        )
    assert list(_errors(response)) == [field]


def test_a_transaction_is_recorded(api, shared_case, kh_investigator, mule_account, wallet):
    response = api(kh_investigator).post(
        "/api/v1/transactions/",
        {
            "case": str(shared_case.public_id),
            "from_identifier": str(mule_account.public_id),
            "to_identifier": str(wallet.public_id),
            "amount": "17100.25",
            "currency": "USDT-TRC20",
            "occurred_at": "2025-03-02T09:00:00+07:00",
            "reference": "a3f1" * 16,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "17100.250000000000000000"


def test_an_asset_is_recorded_and_moved_on(
    api, shared_case, knp_coordinator, ccos, kh_investigator
):
    created = api(knp_coordinator).post(
        "/api/v1/assets/",
        {
            "case": str(shared_case.public_id),
            "kind": "crypto",
            "description": "USDT on the compound's hot wallet",
            "value": "120000",
            "currency": "USDT-TRC20",
            "state": "frozen",
            "state_on": (timezone.localdate() - dt.timedelta(days=5)).isoformat(),
            "holding_agency": "KH-CCOS",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/assets/{created.json()['id']}/state/"
    moved = api(kh_investigator).post(
        url, {"state": "seized", "on": timezone.localdate().isoformat()}, format="json",
        HTTP_IF_MATCH='"1"',
    )  # fmt: skip
    assert moved.status_code == 200, moved.content
    assert [s["state"] for s in moved.json()["history"]] == ["frozen", "seized"]
    back = api(kh_investigator).post(
        url, {"state": "frozen", "on": timezone.localdate().isoformat()}, format="json",
        HTTP_IF_MATCH='"2"',
    )  # fmt: skip
    assert back.status_code == 409


def test_a_victim_recorded_on_a_closed_case_is_refused(api, case, knp_coordinator):
    from cases import services

    services.change_case_status(actor=knp_coordinator, case=case, status="closed")
    response = api(knp_coordinator).post(
        "/api/v1/entities/",
        {"case": str(case.public_id), "kind": "person", "name": "Lee"},
        format="json",
    )
    assert response.status_code == 409
    assert not Entity.objects.exists()
