"""Preservation requests (Budapest Convention art. 29): data frozen at once
for 60 days, extendable, replaced by a follow-up full request."""

import datetime as dt

import pytest
from django.utils import timezone

from cases import mla
from cases.choices import AssistanceType, MLAKind, MLAStatus
from cases.models import MLARequest
from gate.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.factories import make_agency

from .helpers import draft

DAY = dt.timedelta(days=1)
PRESERVATION = {
    "kind": MLAKind.PRESERVATION,
    "assistance_types": [AssistanceType.SUBSCRIBER_DATA],
    "assistance_sought": "",
    "details": {
        "preservation": {
            "stored_data": "Subscriber and log data of +85512345678, Jan-Jun 2025.",
            "custodian": "Smart Axiata Co., Ltd., Phnom Penh",
        }
    },
}


@pytest.fixture
def preservation(case, knp_coordinator, kh_moj, in_state):
    return in_state(MLAStatus.ACKNOWLEDGED, draft(knp_coordinator, case, kh_moj, **PRESERVATION))


@pytest.fixture
def follow_up(case, knp_coordinator, kh_moj, in_state):
    return in_state(MLAStatus.SUBMITTED, draft(knp_coordinator, case, kh_moj))


def _expire(request):
    MLARequest.objects.filter(pk=request.pk).update(preservation_expires_at=timezone.now() - DAY)
    request.refresh_from_db()
    return request


def test_submitted_preservation_runs_for_60_days(preservation):
    assert preservation.preservation_expires_at == preservation.received_at + 60 * DAY
    assert not preservation.preservation_expired


def test_preservation_expires_after_60_days(preservation):
    assert MLARequest.objects.preservation_expired(at=timezone.now() + 61 * DAY).exists()

    _expire(preservation)

    assert preservation.preservation_expired
    assert MLARequest.objects.with_clock_flags().get(pk=preservation.pk).is_preservation_expired


def test_full_request_never_expires(follow_up):
    assert follow_up.preservation_expires_at is None
    assert not MLARequest.objects.preservation_expired(at=timezone.now() + 365 * DAY).exists()


def test_requesting_side_extends_preservation_by_60_days(preservation, knp_coordinator):
    before = preservation.preservation_expires_at

    extended = mla.extend_preservation(
        actor=knp_coordinator, request=preservation, reason="Full request being translated."
    )

    assert extended.preservation_expires_at == before + 60 * DAY
    assert extended.history.latest("id").event == "extend-preservation"


def test_requested_side_cannot_extend_preservation(preservation, moj_coordinator):
    with pytest.raises(PermissionDenied):
        mla.extend_preservation(actor=moj_coordinator, request=preservation)


def test_expired_preservation_cannot_be_extended(preservation, knp_coordinator):
    _expire(preservation)
    version = preservation.version

    with pytest.raises(Conflict):
        mla.extend_preservation(actor=knp_coordinator, request=preservation)

    preservation.refresh_from_db()
    assert preservation.version == version


def test_full_request_cannot_be_extended(follow_up, knp_coordinator):
    with pytest.raises(Conflict):
        mla.extend_preservation(actor=knp_coordinator, request=follow_up)


def test_follow_up_request_is_linked_and_stops_expiry(preservation, follow_up, knp_coordinator):
    linked = mla.link_follow_up(
        actor=knp_coordinator, preservation=preservation, follow_up=follow_up
    )

    assert linked.follow_up == follow_up
    _expire(linked)
    assert not linked.preservation_expired
    assert linked.history.latest("id").event == "link-follow-up"


def test_follow_up_must_be_submitted_first(preservation, case, knp_coordinator, kh_moj):
    unsent = draft(knp_coordinator, case, kh_moj)

    with pytest.raises(ValidationFailed):
        mla.link_follow_up(actor=knp_coordinator, preservation=preservation, follow_up=unsent)

    preservation.refresh_from_db()
    assert preservation.follow_up is None


def test_follow_up_must_go_to_the_same_agency(preservation, case, knp_coordinator, in_state):
    elsewhere = in_state(
        MLAStatus.SUBMITTED, draft(knp_coordinator, case, make_agency("TH-OAG", country="TH"))
    )

    with pytest.raises(ValidationFailed):
        mla.link_follow_up(actor=knp_coordinator, preservation=preservation, follow_up=elsewhere)


def test_preservation_is_linked_once(
    preservation, follow_up, case, knp_coordinator, kh_moj, in_state
):
    mla.link_follow_up(actor=knp_coordinator, preservation=preservation, follow_up=follow_up)
    second = in_state(MLAStatus.SUBMITTED, draft(knp_coordinator, case, kh_moj))

    with pytest.raises(Conflict):
        mla.link_follow_up(actor=knp_coordinator, preservation=preservation, follow_up=second)


def test_requested_side_cannot_link(preservation, follow_up, moj_coordinator):
    with pytest.raises(PermissionDenied):
        mla.link_follow_up(actor=moj_coordinator, preservation=preservation, follow_up=follow_up)


def test_non_party_gets_not_found_on_link(preservation, follow_up, outsider):
    with pytest.raises(NotFound):
        mla.link_follow_up(actor=outsider, preservation=preservation, follow_up=follow_up)
