import pytest

from cases import deconfliction
from cases.identifiers import keyed_hash
from cases.models import Identifier
from gate.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_investigator_of_contributing_agency_records_a_normalised_identifier(
    shared_case, kh_investigator, hooks
):
    identifier = deconfliction.add_identifier(
        actor=kh_investigator, case=shared_case, kind="phone", value=" 012 345 678 "
    )
    identifier.refresh_from_db()
    assert identifier.raw_value == "012 345 678"
    assert identifier.normalised_value == "+85512345678"  # KH-CCOS: read in Cambodia
    assert bytes(identifier.value_hash) == keyed_hash("phone", "+85512345678")
    assert identifier.agency.code == "KH-CCOS"
    assert hooks.of("audit_identifier_added")[0]["identifier"] == identifier


def test_viewer_cannot_record_an_identifier(shared_case, kh_viewer):
    with pytest.raises(PermissionDenied):
        deconfliction.add_identifier(
            actor=kh_viewer, case=shared_case, kind="crypto_wallet", value=WALLET, chain="ethereum"
        )
    assert Identifier.objects.count() == 0


def test_outsider_gets_not_found_when_recording_on_an_unshared_case(case, outsider):
    with pytest.raises(NotFound):
        deconfliction.add_identifier(
            actor=outsider, case=case, kind="crypto_wallet", value=WALLET, chain="ethereum"
        )
    assert Identifier.objects.count() == 0


def test_malformed_value_is_refused_and_nothing_is_recorded(case, knp_coordinator):
    with pytest.raises(ValidationFailed) as exc:
        deconfliction.add_identifier(
            actor=knp_coordinator,
            case=case,
            kind="crypto_wallet",
            value=WALLET[:-1] + "D",
            chain="ethereum",
        )
    assert set(exc.value.errors) == {"value"}
    assert Identifier.objects.count() == 0


def test_h3_identifier_needs_its_restriction(case, knp_coordinator):
    with pytest.raises(ValidationFailed) as exc:
        deconfliction.add_identifier(
            actor=knp_coordinator,
            case=case,
            kind="domain",
            value="scam.example",
            handling_instruction="H3",
        )
    assert set(exc.value.errors) == {"handling_restriction"}
    assert Identifier.objects.count() == 0


def test_the_same_value_twice_on_one_case_is_a_conflict(case, knp_coordinator):
    deconfliction.add_identifier(
        actor=knp_coordinator, case=case, kind="crypto_wallet", value=WALLET, chain="ethereum"
    )
    with pytest.raises(Conflict):
        deconfliction.add_identifier(
            actor=knp_coordinator,
            case=case,
            kind="crypto_wallet",
            value=WALLET.lower(),
            chain="polygon",
        )
    assert Identifier.objects.count() == 1


def test_malformed_date_of_birth_is_refused_on_its_field(case, knp_coordinator):
    with pytest.raises(ValidationFailed) as exc:
        deconfliction.add_identifier(
            actor=knp_coordinator,
            case=case,
            kind="person",
            value="Sok Dara",
            date_of_birth="12/03/1994",
            country="KH",
        )
    assert set(exc.value.errors) == {"date_of_birth"}
    assert Identifier.objects.count() == 0
