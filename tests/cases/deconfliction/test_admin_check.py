"""Deconfliction from where the data is: check a recorded identifier, see the
result right after adding one, search one identifier with a kind from a list,
bulk CSV with a header row and the identifier form's labels."""

import re

import pytest
from django.urls import reverse

from cases import deconfliction
from cases.models import Identifier
from tests.admin_client import login
from tests.factories import make_case

TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
SEARCH = "/admin/cases/identifier/search/"


@pytest.fixture
def unodc_case(outsider):
    return make_case(outsider, title="UNODC regional analysis")


@pytest.fixture
def unodc_phone(unodc_case, outsider):
    return deconfliction.add_identifier(
        actor=outsider, case=unodc_case, kind="phone", value="+855 12 345 678"
    )


@pytest.fixture
def knp_wallet(case, knp_coordinator):
    return deconfliction.add_identifier(
        actor=knp_coordinator, case=case, kind="crypto_wallet", value=TRON, chain="tron"
    )


def _check_url(identifier) -> str:
    return reverse("admin:cases_identifier_check", args=[identifier.pk])


# --- the single search form ---------------------------------------------------


def test_single_search_reads_a_local_phone_in_the_given_country(knp_coordinator, unodc_phone):
    response = login(knp_coordinator).post(
        SEARCH, {"kind": "phone", "value": "012 345 678", "country": "KH"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "UNODC (INT) holds a match" in body
    assert 'class="errorlist' not in body


def test_single_search_offers_the_identifier_forms_kinds_and_chains(knp_coordinator):
    form = login(knp_coordinator).get(SEARCH).context["form"]
    assert ("tron", "TRON") in [(v, str(label)) for v, label in form.fields["chain"].choices]
    assert "Phone number" in [str(label) for _v, label in form.fields["kind"].choices]


def test_single_search_of_a_tron_wallet_finds_it(outsider, knp_wallet):
    response = login(outsider).post(
        SEARCH, {"kind": "crypto_wallet", "value": TRON, "chain": "tron"}
    )
    assert "KR-KNP (KR) holds a match" in response.content.decode()


def test_unknown_kind_is_a_form_error_and_nothing_is_searched(knp_coordinator, hooks):
    response = login(knp_coordinator).post(SEARCH, {"kind": "tron", "value": TRON})
    assert response.context["form"].errors["kind"]
    assert hooks.of("audit_deconfliction_search") == []


# --- bulk CSV -----------------------------------------------------------------


def test_bulk_csv_reads_columns_by_header_and_accepts_labels(
    outsider, knp_wallet, unodc_phone, knp_coordinator
):
    text = (
        "kind,value,country,chain\n"
        "Phone number, 012 345 678, KH\n"
        f"Crypto wallet address,{TRON},,TRON\n"
    )
    response = login(knp_coordinator).post(SEARCH, {"identifiers": text})
    body = response.content.decode()
    assert "UNODC (INT) holds a match" in body
    assert body.count('class="deconfliction-answer"') == 2
    assert 'class="errorlist' not in body


def test_bulk_line_without_header_takes_a_country_or_a_chain(
    knp_coordinator, unodc_phone, outsider, knp_wallet
):
    response = login(outsider).post(
        SEARCH, {"identifiers": f"phone, 012 345 678, KH\ncrypto_wallet, {TRON}, TRON"}
    )
    body = response.content.decode()
    assert "KR-KNP (KR) holds a match" in body
    assert 'class="errorlist' not in body


def test_a_refusal_is_shown_once(knp_coordinator, settings):
    settings.DECONFLICTION_SEARCH_RATE_LIMIT = 0
    response = login(knp_coordinator).post(
        SEARCH, {"kind": "phone", "value": "012 345 678", "country": "KH"}
    )
    assert response.content.decode().count("Too many requests") == 1


def test_viewer_sees_the_role_note_once_and_no_form(kh_viewer):
    body = login(kh_viewer).get(SEARCH).content.decode()
    assert body.count("Your role does not allow deconfliction searches.") == 1
    assert 'id="single-search"' not in body


# --- check one recorded identifier --------------------------------------------


def test_adding_an_identifier_shows_its_deconfliction_result(knp_coordinator, case, unodc_phone):
    client = login(knp_coordinator)
    response = client.post(
        reverse("admin:cases_identifier_add") + f"?case={case.pk}",
        {
            "case": case.pk,
            "kind": "phone",
            "value": "012 345 678",
            "country": "KH",
            "handling_code": "AMBER",
            "handling_instruction": "H0",
        },
        follow=True,
    )
    identifier = Identifier.objects.get(case=case)
    assert response.redirect_chain[-1][0] == _check_url(identifier)
    body = response.content.decode()
    assert "UNODC (INT) holds a match" in body
    assert reverse("admin:cases_case_change", args=[case.pk]) in body


def test_check_button_on_the_identifier_page_runs_the_check(
    knp_coordinator, knp_wallet, outsider, unodc_case
):
    deconfliction.add_identifier(
        actor=outsider, case=unodc_case, kind="crypto_wallet", value=TRON, chain="tron"
    )
    client = login(knp_coordinator)
    page = client.get(reverse("admin:cases_identifier_change", args=[knp_wallet.pk]))
    assert 'id="identifier-check"' in page.content.decode()
    response = client.post(_check_url(knp_wallet), follow=True)
    assert "UNODC (INT) holds a match" in response.content.decode()


def test_check_of_an_identifier_nobody_else_holds_says_so(knp_coordinator, knp_wallet):
    response = login(knp_coordinator).post(_check_url(knp_wallet), follow=True)
    assert "No other agency holds it." in response.content.decode()


def test_request_contact_from_the_check_page_returns_there(
    knp_coordinator, knp_wallet, outsider, unodc_case
):
    deconfliction.add_identifier(
        actor=outsider, case=unodc_case, kind="crypto_wallet", value=TRON, chain="tron"
    )
    client = login(knp_coordinator)
    page = client.post(_check_url(knp_wallet), follow=True)
    token = page.context["answers"][0]["held_elsewhere"][0].contact_token
    response = client.post(
        reverse("admin:cases_identifier_request_contact"),
        {"token": token, "next": _check_url(knp_wallet)},
    )
    assert response["Location"] == _check_url(knp_wallet)


def test_viewer_is_not_offered_the_check(knp_viewer, knp_wallet):
    client = login(knp_viewer)
    page = client.get(reverse("admin:cases_identifier_change", args=[knp_wallet.pk]))
    assert 'id="identifier-check"' not in page.content.decode()


def test_outsider_gets_404_on_the_check_page(outsider, knp_wallet, hooks):
    client = login(outsider)
    for response in (client.get(_check_url(knp_wallet)), client.post(_check_url(knp_wallet))):
        assert response.status_code == 404
        assert TRON not in response.content.decode()
    assert hooks.of("audit_deconfliction_search") == []


# --- add from the case ----------------------------------------------------------


@pytest.mark.parametrize("by", ["pk", "public_id"])
def test_add_page_preselects_the_case(knp_coordinator, case, by):
    value = case.pk if by == "pk" else case.public_id
    response = login(knp_coordinator).get(reverse("admin:cases_identifier_add"), {"case": value})
    assert response.context["adminform"].form.initial["case"] == case.pk


def test_add_page_does_not_preselect_a_hidden_case(outsider, case):
    response = login(outsider).get(reverse("admin:cases_identifier_add"), {"case": case.pk})
    assert "case" not in response.context["adminform"].form.initial
    assert case.reference not in response.content.decode()


def test_viewer_on_the_check_page_gets_only_links_they_may_open(knp_viewer, knp_wallet):
    client = login(knp_viewer)
    response = client.get(_check_url(knp_wallet))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="check-identifier"' not in body and 'id="add-another-identifier"' not in body
    for href in set(re.findall(r'href="(/admin/[^"#]*)"', body)) - {"/admin/logout/"}:
        assert client.get(href).status_code == 200, href


def test_identifier_page_links_to_its_case(knp_coordinator, knp_wallet, case):
    client = login(knp_coordinator)
    page = client.get(reverse("admin:cases_identifier_change", args=[knp_wallet.pk]))
    case_url = reverse("admin:cases_case_change", args=[case.pk])
    assert f'href="{case_url}"' in page.content.decode()
    assert client.get(case_url).status_code == 200


def test_viewer_posting_a_search_sees_the_refusal_once(kh_viewer, hooks):
    response = login(kh_viewer).post(SEARCH, {"kind": "phone", "value": "+85512345678"})
    body = response.content.decode()
    assert body.count("Your role does not allow deconfliction searches.") == 1
    assert body.count("errornote") == 1
    assert hooks.of("audit_deconfliction_search") == []
