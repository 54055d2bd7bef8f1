import json

import pytest

from cases import deconfliction
from cases.models import ContactRequest
from gate.errors import Conflict, NotFound
from notifications.models import OutboxMessage

from .conftest import told

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture
def token(case, knp_coordinator, outsider, hooks):
    """UNODC searched a wallet KR-KNP holds and was given a contact token."""
    deconfliction.add_identifier(
        actor=knp_coordinator, case=case, kind="crypto_wallet", value=WALLET, chain="ethereum"
    )
    (answer,) = deconfliction.search(
        actor=outsider, identifiers=[("crypto_wallet", WALLET, "ethereum")]
    )
    return answer.held_elsewhere[0].contact_token


def test_contact_request_tells_the_holder_who_asked_and_about_which_identifier(
    token, case, knp, outsider, hooks
):
    deconfliction.request_contact(actor=outsider, token=token)
    (call,) = told("deconfliction.contact_requested")
    assert call["agency"] == str(knp.public_id)
    assert call["by"] == "UNODC"
    assert call["object"] == {"type": "identifier", "id": str(case.identifiers.get().public_id)}
    message = OutboxMessage.objects.get(event_type="deconfliction.contact_requested")
    assert message.actor == outsider  # who asked: the holder may call them back
    payload = call["payload"]
    serialized = json.dumps(payload, ensure_ascii=False)
    for secret in (case.title, case.reference, str(case.public_id)):
        assert secret not in serialized
    assert hooks.of("audit_contact_requested")
    assert ContactRequest.objects.get().requester_agency.code == "UNODC"


def test_searching_writes_nothing_until_contact_is_requested(token):
    assert not ContactRequest.objects.exists()


def test_tampered_token_is_not_found(token, outsider, hooks):
    with pytest.raises(NotFound):
        deconfliction.request_contact(actor=outsider, token=token[:-2] + "xx")
    assert told("deconfliction.contact_requested") == []


def test_another_agency_cannot_redeem_the_token(token, kh_investigator, hooks):
    with pytest.raises(NotFound):
        deconfliction.request_contact(actor=kh_investigator, token=token)
    assert told("deconfliction.contact_requested") == []


@pytest.mark.parametrize("bad", ["not-a-token", "", "eyJzIjoxfQ:1abc:def"])
def test_unknown_token_is_not_found(bad, outsider, hooks):
    with pytest.raises(NotFound):
        deconfliction.request_contact(actor=outsider, token=bad)


def test_contact_is_requested_once(token, outsider, hooks):
    deconfliction.request_contact(actor=outsider, token=token)
    with pytest.raises(Conflict):
        deconfliction.request_contact(actor=outsider, token=token)
    assert len(told("deconfliction.contact_requested")) == 1
    assert ContactRequest.objects.count() == 1
