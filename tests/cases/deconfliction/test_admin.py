"""The identifier admin and the deconfliction search page."""

import pytest
from django.test import Client
from django.urls import reverse

from cases import deconfliction
from cases.models import ContactRequest, Identifier

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def knp_wallet(case, knp_coordinator):
    return deconfliction.add_identifier(
        actor=knp_coordinator,
        case=case,
        kind="crypto_wallet",
        value=WALLET,
        chain="ethereum",
        notes="Victim Choi paid here",
    )


def test_investigator_adds_an_identifier_through_the_service(shared_case, kh_investigator):
    response = login(kh_investigator).post(
        reverse("admin:cases_identifier_add"),
        {
            "case": shared_case.pk,
            "kind": "phone",
            "value": "012 345 678",
            "handling_code": "AMBER",
            "handling_instruction": "H0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Identifier.objects.get().normalised_value == "+85512345678"


def test_malformed_identifier_is_a_form_error_and_nothing_is_saved(case, knp_coordinator):
    response = login(knp_coordinator).post(
        reverse("admin:cases_identifier_add"),
        {
            "case": case.pk,
            "kind": "crypto_wallet",
            "value": WALLET[:-1] + "D",
            "chain": "ethereum",
            "handling_code": "AMBER",
            "handling_instruction": "H0",
        },
    )
    assert response.status_code == 200
    assert "EIP-55" in response.content.decode()
    assert not Identifier.objects.exists()


def test_outsider_gets_404_on_a_hidden_identifier(knp_wallet, outsider):
    url = reverse("admin:cases_identifier_change", args=[knp_wallet.pk])
    assert login(outsider).get(url).status_code == 404


def test_search_page_shows_only_agency_country_kind_and_date_of_a_hidden_hit(
    knp_wallet, case, outsider
):
    response = login(outsider).post(
        reverse("admin:cases_identifier_search"),
        {"identifiers": f"crypto_wallet,{WALLET.lower()},ethereum\nphone,12"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "KR-KNP (KR) holds a match" in body
    for secret in (case.title, case.reference, str(case.public_id), knp_wallet.notes):
        assert secret not in body
    assert "This is not" in body or "country code" in body  # the bad phone's error


def test_search_page_shows_visible_hits_in_full(knp_wallet, shared_case, kh_investigator):
    response = login(kh_investigator).post(
        reverse("admin:cases_identifier_search"),
        {"identifiers": f"crypto_wallet,{WALLET},ethereum"},
    )
    assert shared_case.reference in response.content.decode()


def test_request_contact_button_asks_the_holder(knp_wallet, outsider):
    (answer,) = deconfliction.search(
        actor=outsider, identifiers=[("crypto_wallet", WALLET, "ethereum")]
    )
    token = answer.held_elsewhere[0].contact_token
    response = login(outsider).post(
        reverse("admin:cases_identifier_request_contact"), {"token": token}, follow=True
    )
    assert response.status_code == 200
    assert ContactRequest.objects.filter(requester_agency__code="UNODC").count() == 1


def test_another_agency_cannot_use_the_token(knp_wallet, outsider, kh_investigator):
    (answer,) = deconfliction.search(
        actor=outsider, identifiers=[("crypto_wallet", WALLET, "ethereum")]
    )
    token = answer.held_elsewhere[0].contact_token
    login(kh_investigator).post(reverse("admin:cases_identifier_request_contact"), {"token": token})
    assert not ContactRequest.objects.exists()


def test_viewer_cannot_search_from_the_admin(knp_wallet, kh_viewer):
    response = login(kh_viewer).post(
        reverse("admin:cases_identifier_search"),
        {"identifiers": f"crypto_wallet,{WALLET},ethereum"},
    )
    assert "KR-KNP" not in response.content.decode()
