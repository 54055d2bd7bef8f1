"""Confidential participation: agencies in a sensitive case must not learn of
each other. The confidential agency sees only itself and the lead; the other
participants do not see it at all; the lead sees everyone.

Here KR-KNP leads, KH-CCOS participates openly at `manage`, TH-CCIB
confidentially at `contribute`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cases import access, proposals, services
from cases.choices import AccessLevel
from cases.models import CaseParticipation, Note, Task
from cases.sharing import PROPOSE_INSTEAD
from gate.errors import NotFound, PermissionDenied, ValidationFailed
from gate.roles import Role
from tests.factories import make_agency, make_user

from .helpers import unchanged


@dataclass
class Secret:
    participation: CaseParticipation
    task: Task
    note: Note
    user: object


@pytest.fixture
def secret(world, knp_coordinator, thcc) -> Secret:
    participation = services.share_case(
        actor=knp_coordinator,
        case=world.case,
        agency=thcc,
        level=AccessLevel.CONTRIBUTE,
        confidential=True,
    )
    user = make_user(thcc, Role.COORDINATOR)
    task = services.create_task(
        actor=knp_coordinator, case=world.case, title="Covert check", assigned_agency=thcc
    )
    note = services.add_note(
        actor=user, case=world.case, body="Informant inside.", handling_code="GREEN"
    )
    return Secret(participation, task, note, user)


def test_confidential_agency_sees_only_itself_and_the_lead(world, secret):
    assert set(access.visible_participations(secret.user)) == {
        world.knp_participation,
        secret.participation,
    }


def test_confidential_agency_sees_only_its_own_and_the_leads_tasks_and_notes(world, secret):
    assert set(access.visible_tasks(secret.user)) == {world.knp_task, secret.task}
    assert set(access.visible_notes(secret.user)) == {world.knp_note, secret.note}


def test_open_participant_does_not_see_the_confidential_agency(world, secret, kh_coordinator):
    assert set(access.visible_participations(kh_coordinator)) == {
        world.knp_participation,
        world.ccos_participation,
    }
    assert secret.task not in access.visible_tasks(kh_coordinator)
    assert secret.note not in access.visible_notes(kh_coordinator)
    for obj in (secret.participation, secret.task, secret.note):
        with pytest.raises(NotFound):
            access.require(kh_coordinator, "view", obj)


def test_lead_sees_everyone(world, secret, knp_viewer):
    assert set(access.visible_participations(knp_viewer)) == {
        world.knp_participation,
        world.ccos_participation,
        secret.participation,
    }
    assert set(access.visible_tasks(knp_viewer)) == {world.knp_task, world.ccos_task, secret.task}
    assert set(access.visible_notes(knp_viewer)) == {world.knp_note, world.ccos_note, secret.note}


def test_open_participant_cannot_revoke_or_change_the_confidential_agency(
    world, secret, kh_coordinator
):
    with unchanged(), pytest.raises(NotFound):
        services.revoke_case(actor=kh_coordinator, participation=secret.participation)
    with unchanged(), pytest.raises(NotFound):
        services.change_access(
            actor=kh_coordinator, participation=secret.participation, level=AccessLevel.VIEW
        )


@pytest.fixture
def interpol(db):
    return make_agency("INTERPOL", name="INTERPOL", country="INT", kind="international")


def test_open_participant_cannot_assign_a_task_to_the_confidential_agency(
    world, secret, kh_coordinator, thcc, interpol
):
    """The refusal must read exactly like the one for an agency that is not in
    the case at all, or it would confirm the confidential agency is."""
    with unchanged(), pytest.raises(ValidationFailed) as hidden:
        services.create_task(actor=kh_coordinator, case=world.case, title="t", assigned_agency=thcc)
    with unchanged(), pytest.raises(ValidationFailed) as absent:
        services.create_task(
            actor=kh_coordinator, case=world.case, title="t", assigned_agency=interpol
        )
    assert hidden.value.errors == absent.value.errors


def test_open_participant_cannot_move_a_task_to_the_confidential_agency(
    world, secret, kh_coordinator, thcc
):
    with unchanged(), pytest.raises(ValidationFailed):
        services.update_task(actor=kh_coordinator, task=world.ccos_task, assigned_agency=thcc)


def test_only_the_lead_grants_confidential_participation(world, kh_coordinator, interpol):
    """The participation records which agency granted it; a confidential
    agency granted by a co-participant would learn of that co-participant."""
    with unchanged(), pytest.raises(PermissionDenied):
        services.share_case(
            actor=kh_coordinator,
            case=world.case,
            agency=interpol,
            level=AccessLevel.VIEW,
            confidential=True,
        )


def test_only_the_lead_makes_a_participation_confidential(
    world, knp_coordinator, kh_coordinator, interpol
):
    participation = services.share_case(
        actor=knp_coordinator, case=world.case, agency=interpol, level=AccessLevel.VIEW
    )
    with unchanged(), pytest.raises(PermissionDenied):
        services.change_access(actor=kh_coordinator, participation=participation, confidential=True)


def test_re_shared_openly_the_former_confidential_agency_is_disclosed(
    world, secret, knp_coordinator, kh_coordinator, thcc
):
    """Disclosure follows the agency's current participation, not an ended one."""
    services.revoke_case(actor=knp_coordinator, participation=secret.participation)
    reopened = services.share_case(
        actor=knp_coordinator, case=world.case, agency=thcc, level=AccessLevel.VIEW
    )
    assert reopened in access.visible_participations(kh_coordinator)


def test_confidentiality_turned_on_later_hides_the_agency(
    world, knp_coordinator, kh_coordinator, thcc
):
    participation = services.share_case(
        actor=knp_coordinator, case=world.case, agency=thcc, level=AccessLevel.VIEW
    )
    assert participation in access.visible_participations(kh_coordinator)
    services.change_access(actor=knp_coordinator, participation=participation, confidential=True)
    assert participation not in access.visible_participations(kh_coordinator)


def test_revoked_confidential_agency_stays_hidden(world, secret, knp_coordinator, kh_coordinator):
    services.revoke_case(actor=knp_coordinator, participation=secret.participation)
    assert secret.participation not in access.visible_participations(kh_coordinator)
    assert secret.note not in access.visible_notes(kh_coordinator)


def test_disclosed_agencies_follow_the_confidentiality_rules(world, secret, knp_viewer, kh_viewer):
    assert access.disclosed_agency_ids(knp_viewer, world.case) == {
        world.knp.pk,
        world.ccos.pk,
        world.third.pk,
    }
    assert access.disclosed_agency_ids(kh_viewer, world.case) == {world.knp.pk, world.ccos.pk}
    assert access.disclosed_agency_ids(secret.user, world.case) == {world.knp.pk, world.third.pk}


def test_disclosed_agencies_of_an_invisible_case_is_empty(world, outsider):
    assert access.disclosed_agency_ids(outsider, world.case) == set()


def test_co_manager_cannot_reveal_a_former_confidential_agency_by_re_sharing_it(
    world, secret, knp_coordinator, kh_coordinator, thcc, interpol
):
    """Re-sharing openly would disclose the agency's confidential notes and
    tasks: a co-manager may only propose it (the lead decides), and is
    answered as for an agency never on the case."""
    services.revoke_case(actor=knp_coordinator, participation=secret.participation)
    refusals = []
    for agency in (thcc, interpol):
        with unchanged(), pytest.raises(PermissionDenied) as exc:
            services.share_case(
                actor=kh_coordinator, case=world.case, agency=agency, level=AccessLevel.VIEW
            )
        refusals.append((exc.value.message, exc.value.field))
    assert refusals[0] == refusals[1] == (PROPOSE_INSTEAD, None)
    answers = [
        proposals.propose_share(
            actor=kh_coordinator, case=world.case, agency=agency, level="view", reason="Needed."
        ).status
        for agency in (thcc, interpol)
    ]
    assert answers == ["pending", "pending"]
    assert secret.note not in access.visible_notes(kh_coordinator)
    assert secret.task not in access.visible_tasks(kh_coordinator)


def test_a_formerly_open_agency_is_shared_again_on_a_co_managers_proposal(
    world, knp_coordinator, kh_coordinator, interpol
):
    first = services.share_case(
        actor=knp_coordinator, case=world.case, agency=interpol, level=AccessLevel.VIEW
    )
    services.revoke_case(actor=knp_coordinator, participation=first)
    proposal = proposals.propose_share(
        actor=kh_coordinator, case=world.case, agency=interpol, level="view", reason="Needed."
    )
    proposals.accept_proposal(actor=knp_coordinator, proposal=proposal)
    again = CaseParticipation.objects.get(case=world.case, agency=interpol, revoked_at=None)
    assert again in access.visible_participations(kh_coordinator)
