"""Who hears of a share proposal (issue 18): the lead's coordinators when one is
made, the proposing agency's when it is decided, and never what accepting did.

KR-KNP leads the case, KH-CCOS co-manages it, PH-PNP takes part confidentially.
"""

from __future__ import annotations

import pytest

from cases import proposals
from gate.roles import Role
from notifications.models import Notification
from tests.factories import make_agency, make_user

from .test_in_app import deliver_all, only, shown

pytestmark = pytest.mark.usefixtures("eager")


@pytest.fixture
def co_managed(co_managed):
    """The shared world's case, its share notifications delivered and cleared."""
    case = co_managed
    deliver_all()
    Notification.objects.all().delete()
    return case


def propose(actor, case, agency):
    return proposals.propose_share(
        actor=actor, case=case, agency=agency, level="view", reason="Thai payment rails."
    )


def test_the_leads_coordinators_are_told_of_a_proposal(
    co_managed, kh_coordinator, knp_coordinator, thcc
):
    propose(kh_coordinator, co_managed, thcc)
    deliver_all()
    notification = only(knp_coordinator, "share_proposal.created")
    assert notification.text == f"KH-CCOS proposes sharing case {co_managed.reference} with TH-CCIB"
    assert shown(notification).url.endswith(f"/cases/case/{co_managed.pk}/change/")
    assert not Notification.objects.filter(recipient=kh_coordinator).exists()


def test_the_proposer_is_told_the_decision(co_managed, kh_coordinator, knp_coordinator, thcc):
    accepted = propose(kh_coordinator, co_managed, thcc)
    proposals.accept_proposal(actor=knp_coordinator, proposal=accepted)
    declined = propose(kh_coordinator, co_managed, make_agency("VN-C50", country="VN"))
    proposals.decline_proposal(actor=knp_coordinator, proposal=declined, note="Not yet.")
    deliver_all()
    texts = set(
        Notification.objects.filter(
            recipient=kh_coordinator, kind="share_proposal.decided"
        ).values_list("text", flat=True)
    )
    ref = co_managed.reference
    assert texts == {
        f"Your proposal to share case {ref} with TH-CCIB: Accepted",
        f"Your proposal to share case {ref} with VN-C50: Declined",
    }


def test_accepted_for_a_confidential_participant_the_proposer_hears_only_accepted(
    co_managed, kh_coordinator, knp_coordinator, php, thcc
):
    """Told as for a share the lead made confidentially: the two read alike."""
    hidden = propose(kh_coordinator, co_managed, php)
    shared = propose(kh_coordinator, co_managed, thcc)
    proposals.accept_proposal(actor=knp_coordinator, proposal=hidden)
    proposals.accept_proposal(actor=knp_coordinator, proposal=shared, confidential=True)
    deliver_all()
    told = {
        n.object_id: n
        for n in Notification.objects.filter(
            recipient=kh_coordinator, kind="share_proposal.decided"
        )
    }
    about_hidden, about_shared = told[hidden.public_id], told[shared.public_id]
    assert about_hidden.text.replace("PH-PNP", "X") == about_shared.text.replace("TH-CCIB", "X")
    assert {k: v for k, v in about_hidden.data.items() if k != "agency"} == {
        k: v for k, v in about_shared.data.items() if k != "agency"
    }
    assert "already" not in str(about_hidden.data) + about_hidden.text


def test_nobody_else_hears_of_a_proposal(co_managed, kh_coordinator, knp_coordinator, php, thcc):
    others = [make_user(php, Role.COORDINATOR), make_user(thcc, Role.COORDINATOR)]
    propose(kh_coordinator, co_managed, php)
    proposal = propose(kh_coordinator, co_managed, thcc)
    proposals.accept_proposal(actor=knp_coordinator, proposal=proposal)
    deliver_all()
    for user in others:
        assert not Notification.objects.filter(
            recipient=user, kind__startswith="share_proposal."
        ).exists()
