"""The identifiers' copies of their case's lead agency and `discoverable`
(migration 0031's triggers), which the pooled count of linking values reads
instead of the case: they must follow the case, or a case hidden from
deconfliction, or handed to an agency that does not contribute, would still
count."""

from __future__ import annotations

import pytest

from cases import services
from cases.models import Identifier, RecordedValue
from cases.statistics import SUPPRESSED, statistics

from .test_figures import _wallet_in_own_case

pytestmark = pytest.mark.django_db


def _copies(identifier) -> tuple[int | None, bool]:
    row = Identifier.objects.filter(pk=identifier.pk).values(
        "case_lead_agency_id", "case_discoverable"
    )
    return row[0]["case_lead_agency_id"], row[0]["case_discoverable"]


def test_a_new_identifier_carries_its_cases_lead_and_discoverable(knp_coordinator, knp):
    wallet = _wallet_in_own_case(knp_coordinator, discoverable=False)
    assert _copies(wallet) == (knp.pk, False)


def test_the_copies_follow_the_case_made_not_discoverable_and_handed_over(
    knp_coordinator, knp, ccos
):
    wallet = _wallet_in_own_case(knp_coordinator)
    assert _copies(wallet) == (knp.pk, True)
    services.update_case(actor=knp_coordinator, case=wallet.case, discoverable=False)
    assert _copies(wallet) == (knp.pk, False)
    services.hand_over_case(actor=knp_coordinator, case=wallet.case, new_lead=ccos)
    assert _copies(wallet) == (ccos.pk, False)


def test_saving_an_identifier_read_before_a_change_keeps_the_cases_values(knp_coordinator, knp):
    """The application never writes the copies, even with a stale instance."""
    wallet = _wallet_in_own_case(knp_coordinator)
    stale = Identifier.objects.get(pk=wallet.pk)
    services.update_case(actor=knp_coordinator, case=wallet.case, discoverable=False)
    stale.notes = "Seen on a Telegram channel"
    stale.save()
    assert _copies(wallet) == (knp.pk, False)


def test_a_case_made_not_discoverable_after_its_identifier_stops_linking(
    knp_coordinator, kh_coordinator, thcc, contributing
):
    _wallet_in_own_case(knp_coordinator)
    theirs = _wallet_in_own_case(kh_coordinator)
    contributing(knp_coordinator.membership.agency, kh_coordinator.membership.agency, thcc)
    assert statistics(knp_coordinator, scope="contributors")["linking_identifiers"] == SUPPRESSED
    services.update_case(actor=kh_coordinator, case=theirs.case, discoverable=False)
    assert statistics(knp_coordinator, scope="contributors")["linking_identifiers"] == 0


def test_a_case_handed_to_an_agency_that_does_not_contribute_stops_linking(
    knp_coordinator, kh_coordinator, thcc, unodc, contributing
):
    _wallet_in_own_case(knp_coordinator)
    theirs = _wallet_in_own_case(kh_coordinator)
    contributing(knp_coordinator.membership.agency, kh_coordinator.membership.agency, thcc)
    services.hand_over_case(actor=kh_coordinator, case=theirs.case, new_lead=unodc)
    assert statistics(knp_coordinator, scope="contributors")["linking_identifiers"] == 0


def _shared() -> list[bytes]:
    return [
        bytes(v)
        for v in RecordedValue.objects.filter(shared=True).values_list("value_hash", flat=True)
    ]


def test_a_value_one_agency_records_twice_is_not_shared(knp_coordinator):
    _wallet_in_own_case(knp_coordinator)
    _wallet_in_own_case(knp_coordinator)
    assert _shared() == []
    assert RecordedValue.objects.count() == 1


def test_a_value_a_second_agency_records_is_shared(knp_coordinator, kh_coordinator):
    mine = _wallet_in_own_case(knp_coordinator)
    _wallet_in_own_case(kh_coordinator)
    assert _shared() == [bytes(mine.value_hash)]
