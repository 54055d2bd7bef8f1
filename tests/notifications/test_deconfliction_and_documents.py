"""Deconfliction matches, contact requests and new evidence reach the right
coordinators through the outbox, and nobody else."""

from __future__ import annotations

import pytest

from cases import deconfliction
from gate.roles import Role
from notifications.models import Notification
from tests.factories import make_document, make_user

pytestmark = pytest.mark.usefixtures("eager")

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture(autouse=True)
def deconfliction_key(settings, tmp_path):
    settings.DECONFLICTION_HMAC_KEY = "test-deconfliction-key"
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def knp_wallet(case, knp_coordinator):
    return deconfliction.add_identifier(
        actor=knp_coordinator, case=case, kind="crypto_wallet", value=WALLET, chain="ethereum"
    )


def texts_of(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("text", flat=True))


def test_holder_coordinators_are_told_who_searched_their_identifier(
    knp_wallet, case, knp_coordinator, unodc, django_capture_on_commit_callbacks
):
    searcher = make_user(unodc, Role.INVESTIGATOR)
    with django_capture_on_commit_callbacks(execute=True):
        deconfliction.search(actor=searcher, identifiers=[("crypto_wallet", WALLET, "ethereum")])
    (text,) = texts_of(knp_coordinator)
    assert "UNODC" in text and case.reference in text
    assert WALLET.lower() not in text.lower()  # the value never travels
    assert texts_of(searcher) == []


def test_contact_request_reaches_the_holders_coordinators_only(
    knp_wallet, case, knp_coordinator, kh_coordinator, unodc, django_capture_on_commit_callbacks
):
    searcher = make_user(unodc, Role.INVESTIGATOR)
    (answer,) = deconfliction.search(
        actor=searcher, identifiers=[("crypto_wallet", WALLET, "ethereum")]
    )
    with django_capture_on_commit_callbacks(execute=True):
        deconfliction.request_contact(actor=searcher, token=answer.held_elsewhere[0].contact_token)
    assert any("asks your coordinators to contact it" in t for t in texts_of(knp_coordinator))
    assert texts_of(kh_coordinator) == []  # KH-CCOS does not hold the wallet


def test_new_evidence_is_announced_to_participants_but_not_outsiders(
    shared_case, knp_coordinator, kh_coordinator, unodc, django_capture_on_commit_callbacks
):
    outsider = make_user(unodc, Role.COORDINATOR)
    with django_capture_on_commit_callbacks(execute=True):
        make_document(knp_coordinator, shared_case)
    assert texts_of(kh_coordinator) == [f"KR-KNP added evidence to case {shared_case.reference}"]
    assert texts_of(outsider) == []


def test_red_evidence_is_announced_to_nobody_outside_its_agency(
    shared_case, knp_coordinator, kh_coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_document(knp_coordinator, shared_case, handling_code="RED")
    assert texts_of(kh_coordinator) == []
