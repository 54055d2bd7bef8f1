"""The deconfliction API: what partners send and what they are told."""

import json

import pytest

from cases import deconfliction
from cases.models import ContactRequest, Identifier

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def knp_wallet(case, knp_coordinator):
    deconfliction.add_identifier(
        actor=knp_coordinator, case=case, kind="phone", value="010-9999-8888", notes="Boss Lee"
    )
    return deconfliction.add_identifier(
        actor=knp_coordinator,
        case=case,
        kind="crypto_wallet",
        value=WALLET,
        chain="ethereum",
        notes="Victim Choi paid here",
    )


def search(client, *items):
    return client.post("/api/v1/deconfliction/search/", {"identifiers": list(items)}, format="json")


def test_investigator_records_an_identifier(api, shared_case, kh_investigator):
    response = api(kh_investigator).post(
        "/api/v1/identifiers/",
        {"case": str(shared_case.public_id), "kind": "phone", "value": "012 345 678"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["normalised_value"] == "+85512345678"
    assert body["agency"] == "KH-CCOS"
    assert response["Location"].endswith(f"/api/v1/identifiers/{body['id']}/")


def test_malformed_identifier_is_a_400_with_its_field_and_nothing_recorded(
    api, case, knp_coordinator
):
    response = api(knp_coordinator).post(
        "/api/v1/identifiers/",
        {
            "case": str(case.public_id),
            "kind": "crypto_wallet",
            "value": WALLET[:-1] + "D",
            "chain": "ethereum",
        },
        format="json",
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["value"]
    assert not Identifier.objects.exists()


def test_outsider_cannot_record_on_a_hidden_case(api, case, outsider):
    response = api(outsider).post(
        "/api/v1/identifiers/",
        {"case": str(case.public_id), "kind": "domain", "value": "scam.example"},
        format="json",
    )
    assert response.status_code == 400
    assert not Identifier.objects.exists()


def test_outsider_lists_no_identifier_and_gets_404_on_one(api, knp_wallet, outsider):
    client = api(outsider)
    assert client.get("/api/v1/identifiers/").json()["results"] == []
    assert client.get(f"/api/v1/identifiers/{knp_wallet.public_id}/").status_code == 404


def test_search_of_a_hidden_hit_tells_only_agency_country_kind_and_date(
    api, knp_wallet, case, outsider
):
    response = search(
        api(outsider), {"kind": "crypto_wallet", "value": WALLET.lower(), "chain": "ethereum"}
    )
    assert response.status_code == 200, response.content
    (answer,) = response.json()["results"]
    assert answer["hits"] == []
    (held,) = answer["held_elsewhere"]
    assert (held["agency"], held["agency_country"], held["kind"]) == (
        "KR-KNP",
        "KR",
        "crypto_wallet",
    )
    body = response.content.decode()
    other = case.identifiers.exclude(pk=knp_wallet.pk).get()
    for secret in (
        case.title,
        case.reference,
        str(case.public_id),
        str(knp_wallet.public_id),
        knp_wallet.notes,
        other.raw_value,
        other.normalised_value,
        other.notes,
    ):
        assert secret not in body


def test_search_of_a_visible_hit_is_answered_in_full(api, knp_wallet, shared_case, kh_investigator):
    response = search(
        api(kh_investigator), {"kind": "crypto_wallet", "value": WALLET, "chain": "ethereum"}
    )
    (hit,) = response.json()["results"][0]["hits"]
    assert hit["case_reference"] == shared_case.reference


def test_search_answers_malformed_items_with_their_errors(api, outsider):
    response = search(api(outsider), {"kind": "phone", "value": "12"}, {"kind": "nope"})
    assert response.status_code == 200
    first, second = response.json()["results"]
    # The API's one error shape, as in a 400 problem; a valid item has none.
    assert [e["field"] for e in first["errors"]] == ["value"]
    assert second["errors"] and {"field", "code", "detail"} == set(second["errors"][0])


def test_search_of_more_than_a_thousand_is_a_400(api, outsider):
    response = search(api(outsider), *[{"kind": "ip_address", "value": "10.0.0.1"}] * 1001)
    assert response.status_code == 400


def test_viewer_gets_403_on_search(api, kh_viewer):
    response = search(api(kh_viewer), {"kind": "ip_address", "value": "10.0.0.1"})
    assert response.status_code == 403


def test_contact_request_through_the_api(api, knp_wallet, outsider, kh_investigator):
    answer = search(
        api(outsider), {"kind": "crypto_wallet", "value": WALLET, "chain": "ethereum"}
    ).json()["results"][0]
    token = answer["held_elsewhere"][0]["contact_token"]
    stolen = api(kh_investigator).post(
        "/api/v1/deconfliction/request-contact/", {"token": token}, format="json"
    )
    assert stolen.status_code == 404
    response = api(outsider).post(
        "/api/v1/deconfliction/request-contact/", {"token": token}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["holder_agency"] == "KR-KNP"
    assert ContactRequest.objects.count() == 1
    again = api(outsider).post(
        "/api/v1/deconfliction/request-contact/", {"token": token}, format="json"
    )
    assert again.status_code == 409


def test_deconflict_a_recorded_identifier(api, knp_wallet, ccos, kh_coordinator):
    from tests.factories import make_case

    kh_case = make_case(kh_coordinator, title="Phnom Penh call centre")
    mine = deconfliction.add_identifier(
        actor=kh_coordinator, case=kh_case, kind="crypto_wallet", value=WALLET, chain="bsc"
    )
    response = api(kh_coordinator).post(f"/api/v1/identifiers/{mine.public_id}/deconflict/")
    assert response.status_code == 200, response.content
    assert [h["agency"] for h in response.json()["held_elsewhere"]] == ["KR-KNP"]


def test_stix_export_for_a_participant(api, knp_wallet, shared_case, kh_investigator):
    response = api(kh_investigator).get(f"/api/v1/cases/{shared_case.public_id}/stix/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/stix+json")
    bundle = json.loads(response.content)
    assert {"cryptocurrency-wallet", "phone-number"} <= {o["type"] for o in bundle["objects"]}


def test_stix_export_is_404_for_an_outsider(api, knp_wallet, case, outsider):
    response = api(outsider).get(f"/api/v1/cases/{case.public_id}/stix/")
    assert response.status_code == 404
    assert case.reference not in response.content.decode()
