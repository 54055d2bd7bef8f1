"""What a deconfliction search tells the searcher, the holder and the audit log."""

import json

import pytest

from cases import deconfliction, services
from gate.errors import PermissionDenied, ValidationFailed
from gate.roles import Role
from tests.factories import make_case, make_user

from .conftest import told

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OTHER_WALLET = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


@pytest.fixture
def knp_wallet(case, knp_coordinator):
    """KR-KNP's case holds a wallet, a second identifier and a note."""
    services.add_note(actor=knp_coordinator, case=case, body="Informant Park says the boss is Lee.")
    deconfliction.add_identifier(
        actor=knp_coordinator,
        case=case,
        kind="crypto_wallet",
        value=OTHER_WALLET,
        chain="ethereum",
        notes="Second-hop laundering wallet",
    )
    return deconfliction.add_identifier(
        actor=knp_coordinator,
        case=case,
        kind="crypto_wallet",
        value=WALLET,
        chain="ethereum",
        notes="Victim Choi paid 40,000 USDT here",
    )


def secrets_of(case, wallet):
    """Everything about KR-KNP's case an outsider must never read."""
    other = case.identifiers.exclude(pk=wallet.pk).get()
    return [
        case.title,
        case.reference,
        str(case.public_id),
        "Informant Park",
        wallet.notes,
        str(wallet.public_id),
        other.raw_value,
        other.raw_value.lower(),
        other.normalised_value,
        str(other.public_id),
        other.notes,
    ]


def leaves(data):
    if isinstance(data, dict):
        for value in data.values():
            yield from leaves(value)
    elif isinstance(data, list):
        for value in data:
            yield from leaves(value)
    else:
        yield data


def test_hit_in_an_invisible_case_tells_only_agency_country_kind_and_date(
    knp_wallet, outsider, hooks
):
    answers = deconfliction.search(
        actor=outsider, identifiers=[("crypto_wallet", WALLET.lower(), "ethereum")]
    )
    (answer,) = answers
    assert answer.hits == []
    (held,) = answer.as_dict()["held_elsewhere"]
    assert set(held) == {"agency", "agency_country", "kind", "first_recorded", "contact_token"}
    assert (held["agency"], held["agency_country"], held["kind"]) == (
        "KR-KNP",
        "KR",
        "crypto_wallet",
    )
    assert held["first_recorded"] == knp_wallet.created_at.date().isoformat()


def test_invisible_hit_leaks_nothing_in_the_response(knp_wallet, case, outsider, hooks):
    answers = deconfliction.search(
        actor=outsider, identifiers=[("crypto_wallet", WALLET, "ethereum")]
    )
    response = [a.as_dict() for a in answers]
    serialized = json.dumps(response, ensure_ascii=False)
    for secret in secrets_of(case, knp_wallet):
        assert secret not in serialized
    assert case.pk not in [v for v in leaves(response) if isinstance(v, int)]


def test_holder_is_notified_of_the_match_without_case_content(
    knp_wallet, case, knp, outsider, hooks
):
    deconfliction.search(actor=outsider, identifiers=[("crypto_wallet", WALLET, "ethereum")])
    (call,) = told("deconfliction.hit")
    assert call["agency"] == str(knp.public_id)
    assert call["by"] == "UNODC"
    assert call["object"] == {"type": "identifier", "id": str(knp_wallet.public_id)}
    payload = call["payload"]
    serialized = json.dumps(payload, ensure_ascii=False)
    for secret in secrets_of(case, knp_wallet):
        if secret != str(knp_wallet.public_id):
            assert secret not in serialized
    assert case.pk not in [v for v in leaves(payload) if isinstance(v, int)]


def test_hit_in_a_visible_case_is_answered_in_full(knp_wallet, shared_case, kh_investigator, hooks):
    (answer,) = deconfliction.search(
        actor=kh_investigator, identifiers=[("crypto_wallet", WALLET, "bsc")]
    )
    (hit,) = answer.hits
    assert (hit.case, hit.case_reference, hit.identifier) == (
        str(shared_case.public_id),
        shared_case.reference,
        str(knp_wallet.public_id),
    )
    assert answer.held_elsewhere == []


def test_non_discoverable_case_yields_no_hit_but_its_lead_is_told(
    knp_wallet, case, knp, knp_coordinator, outsider, hooks
):
    services.update_case(actor=knp_coordinator, case=case, discoverable=False)
    (answer,) = deconfliction.search(
        actor=outsider, identifiers=[("crypto_wallet", WALLET, "ethereum")]
    )
    assert answer.hits == [] and answer.held_elsewhere == []
    (call,) = told("deconfliction.hit")  # the lead is told; the searcher was told nothing
    assert call["agency"] == str(knp.public_id)
    assert call["by"] == "UNODC"


def test_non_discoverable_case_is_still_answered_in_full_to_its_participants(
    knp_wallet, shared_case, knp_coordinator, kh_investigator, hooks
):
    services.update_case(actor=knp_coordinator, case=shared_case, discoverable=False)
    (answer,) = deconfliction.search(
        actor=kh_investigator, identifiers=[("crypto_wallet", WALLET, "ethereum")]
    )
    assert [h.case_reference for h in answer.hits] == [shared_case.reference]


def test_agency_only_identifier_on_a_shared_case_is_only_a_restricted_hit_for_the_lead(
    shared_case, kh_investigator, knp_coordinator, hooks
):
    """TLP:AMBER+STRICT stays with the agency that recorded it, even inside the case."""
    deconfliction.add_identifier(
        actor=kh_investigator,
        case=shared_case,
        kind="phone",
        value="012 345 678",
        handling_code="AMBER+STRICT",
    )
    (answer,) = deconfliction.search(
        actor=knp_coordinator, identifiers=[("phone", "+855 12 345 678")]
    )
    assert answer.hits == []
    assert [h.agency for h in answer.held_elsewhere] == ["KH-CCOS"]


def test_several_cases_of_one_agency_are_one_hit_with_the_earliest_date(
    knp_wallet, knp_coordinator, outsider, hooks
):
    second = make_case(knp_coordinator, title="Second compound")
    deconfliction.add_identifier(
        actor=knp_coordinator, case=second, kind="crypto_wallet", value=WALLET, chain="ethereum"
    )
    (answer,) = deconfliction.search(
        actor=outsider, identifiers=[("crypto_wallet", WALLET, "ethereum")]
    )
    (held,) = answer.held_elsewhere
    assert held.first_recorded == knp_wallet.created_at.date()


def test_searching_is_audited_with_hashes_not_values(knp_wallet, outsider, hooks):
    deconfliction.search(
        actor=outsider,
        identifiers=[("crypto_wallet", WALLET, "ethereum"), ("phone", "+82 10 1234 5678")],
    )
    (call,) = hooks.of("audit_deconfliction_search")
    assert call["actor"] == outsider
    assert call["payload"]["count"] == 2
    assert call["payload"]["restricted_hits"] == 1
    assert WALLET.lower() not in json.dumps(call["payload"])


def test_own_agencys_searches_notify_nobody(knp_wallet, knp_coordinator, hooks):
    deconfliction.search(actor=knp_coordinator, identifiers=[("crypto_wallet", WALLET, "tron")])
    assert told("deconfliction.hit") == []


def test_malformed_identifier_gets_its_errors_and_the_others_are_answered(
    knp_wallet, outsider, hooks
):
    first, second = deconfliction.search(
        actor=outsider,
        identifiers=[
            {"kind": "crypto_wallet", "value": WALLET[:-1] + "D", "chain": "ethereum"},
            {"kind": "crypto_wallet", "value": WALLET, "chain": "ethereum"},
        ],
    )
    assert set(first.errors) == {"value"} and first.held_elsewhere == []
    assert second.errors is None and len(second.held_elsewhere) == 1


def test_viewer_cannot_search(knp_wallet, ccos, hooks):
    viewer = make_user(ccos, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        deconfliction.search(actor=viewer, identifiers=[("crypto_wallet", WALLET, "ethereum")])
    assert told("deconfliction.hit") == []


def test_more_than_a_thousand_identifiers_are_refused(outsider, hooks):
    with pytest.raises(ValidationFailed) as exc:
        deconfliction.search(actor=outsider, identifiers=[("ip_address", "10.0.0.1")] * 1001)
    assert set(exc.value.errors) == {"identifiers"}
    assert hooks.of("audit_deconfliction_search") == []


def _thousand_ips(n=1000):
    return [("ip_address", f"10.{i // 65536}.{i // 256 % 256}.{i % 256}") for i in range(n)]


@pytest.mark.parametrize("size", [10, 1000])
def test_search_costs_a_constant_number_of_queries(
    size, case, knp_coordinator, outsider, hooks, django_assert_max_num_queries
):
    for item in _thousand_ips(50):
        deconfliction.add_identifier(actor=knp_coordinator, case=case, kind=item[0], value=item[1])
    outsider.membership  # noqa: B018 (loaded as any request's user would be)
    # Whatever the size: every outbox message of the search goes in one INSERT.
    with django_assert_max_num_queries(7):
        answers = deconfliction.search(actor=outsider, identifiers=_thousand_ips(size))
    assert sum(len(a.held_elsewhere) for a in answers) == min(size, 50)


def test_recording_an_identifier_another_agency_holds_reports_the_match(
    knp_wallet, ccos, kh_coordinator, knp, hooks
):
    kh_case = make_case(kh_coordinator, title="Phnom Penh call centre")
    mine = deconfliction.add_identifier(
        actor=kh_coordinator, case=kh_case, kind="crypto_wallet", value=WALLET, chain="ethereum"
    )
    answer = deconfliction.deconflict_identifier(actor=kh_coordinator, identifier=mine)
    assert answer.hits == []  # not itself
    assert [h.agency for h in answer.held_elsewhere] == ["KR-KNP"]
    assert [c["agency"] for c in told("deconfliction.hit")] == [str(knp.public_id)]


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": ["phone"], "value": "010-1234-5678"},
        {"kind": "crypto_wallet", "value": WALLET, "chain": ["ethereum"]},
        {"kind": "phone", "value": 1012345678},
        {"kind": "phone"},
        {"kind": "phone", "value": "010-1234-5678", "colour": "red"},
        "phone",
    ],
)
def test_garbage_items_get_errors_not_a_crash(bad, outsider, hooks):
    (answer,) = deconfliction.search(actor=outsider, identifiers=[bad])
    assert answer.errors


def test_searching_is_rate_limited_per_user(outsider, hooks, settings):
    from config.ratelimit import RateLimited

    settings.DECONFLICTION_SEARCH_RATE_LIMIT = 2
    for _ in range(2):
        deconfliction.search(actor=outsider, identifiers=[("ip_address", "10.0.0.1")])
    with pytest.raises(RateLimited):
        deconfliction.search(actor=outsider, identifiers=[("ip_address", "10.0.0.1")])
