"""The services and selector of share proposals (`cases.proposals`).

`world`: KR-KNP leads the case, KH-CCOS co-manages it; TH-CCIB (`third`) is
not on it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from cases import proposals, services
from cases.choices import AccessLevel
from cases.models import CaseParticipation, ShareProposal
from gate.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gate.roles import Role
from tests.factories import make_agency, make_user

from .helpers import unchanged


def propose(actor, world, agency=None, **terms):
    terms = {"level": AccessLevel.VIEW, "reason": "Thai payment rails.", **terms}
    return proposals.propose_share(
        actor=actor, case=world.case, agency=agency or world.third, **terms
    )


def test_a_proposal_is_seen_by_the_lead_and_the_proposing_agency_only(
    world, knp_viewer, kh_viewer, kh_coordinator, knp_coordinator, outsider
):
    proposal = propose(kh_coordinator, world)
    bystander = make_agency("VN-C50", country="VN")
    services.share_case(actor=knp_coordinator, case=world.case, agency=bystander, level="manage")
    for user in (knp_viewer, kh_viewer):
        assert list(proposals.visible_share_proposals(user)) == [proposal]
    for user in (make_user(bystander, Role.COORDINATOR), outsider):
        assert not proposals.visible_share_proposals(user).exists()


def test_a_proposer_that_lost_the_case_no_longer_sees_its_proposal(
    world, kh_coordinator, knp_coordinator
):
    propose(kh_coordinator, world)
    services.revoke_case(actor=knp_coordinator, participation=world.ccos_participation)
    assert not proposals.visible_share_proposals(kh_coordinator).exists()
    assert proposals.visible_share_proposals(knp_coordinator).exists()


def test_a_second_pending_proposal_for_the_same_agency_is_a_conflict(world, kh_coordinator):
    propose(kh_coordinator, world)
    with unchanged(), pytest.raises(Conflict) as refused:
        propose(kh_coordinator, world, level=AccessLevel.CONTRIBUTE)
    assert refused.value.field == "agency"


def test_a_proposal_with_bad_terms_names_every_field_and_changes_nothing(world, kh_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        propose(
            kh_coordinator,
            world,
            level="everything",
            reason="   ",
            expires_at=timezone.now() - dt.timedelta(hours=1),
            confidential=True,
        )
    assert set(refused.value.errors) == {"level", "reason", "expires_at", "confidential"}


@pytest.mark.parametrize("role", [Role.INVESTIGATOR, Role.VIEWER])
def test_only_a_co_managers_coordinators_propose(world, ccos, role):
    user = make_user(ccos, role)
    with unchanged(), pytest.raises(PermissionDenied):
        propose(user, world)


def test_a_contributing_agency_does_not_propose(world, knp_coordinator, kh_coordinator):
    services.change_access(
        actor=knp_coordinator, participation=world.ccos_participation, level="contribute"
    )
    with unchanged(), pytest.raises(PermissionDenied):
        propose(kh_coordinator, world)


def test_an_outsider_cannot_propose_nor_decide(world, kh_coordinator, outsider):
    proposal = propose(kh_coordinator, world)
    with unchanged(), pytest.raises(NotFound):
        propose(outsider, world)
    for decide in (proposals.accept_proposal, proposals.decline_proposal):
        with unchanged(), pytest.raises(NotFound):
            decide(actor=outsider, proposal=proposal)


def test_proposed_access_that_would_have_ended_is_not_accepted(
    world, kh_coordinator, knp_coordinator
):
    proposal = propose(kh_coordinator, world, expires_at=timezone.now() + dt.timedelta(hours=1))
    ShareProposal.objects.filter(pk=proposal.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with unchanged(), pytest.raises(Conflict):
        proposals.accept_proposal(actor=knp_coordinator, proposal=proposal)
    proposals.decline_proposal(actor=knp_coordinator, proposal=proposal)


def test_proposing_and_deciding_are_on_each_agencys_audit_trail(
    world, kh_coordinator, knp_coordinator
):
    proposal = propose(kh_coordinator, world)
    proposals.accept_proposal(actor=knp_coordinator, proposal=proposal, note="Agreed.")
    events = AuditEvent.objects.filter(object_id=str(proposal.public_id)).order_by("seq")
    assert [(e.action, e.agency_id) for e in events] == [
        ("create", world.ccos.pk),
        ("transition", world.knp.pk),
    ]
    assert events[1].changes["outcome"] == "shared"
    assert CaseParticipation.objects.get(agency=world.third).granted_by_agency == world.knp
