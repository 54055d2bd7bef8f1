"""A user whose agency does not (or no longer) participate sees and touches nothing.

Each blind persona is run against every selector and every service of the
gate. A service must answer NotFound, never PermissionDenied (a 403 would
confirm the case exists), and leave every row as it was.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from agencies.models import Agency
from cases import access, services
from cases.choices import AccessLevel, CaseStatus
from gate.errors import NotFound
from tests.factories import pass_expiry

from .helpers import unchanged

User = get_user_model()

BLIND_PERSONAS = [
    "outsider",
    "superuser_without_membership",
    "inactive_user",
    "user_of_inactive_agency",
    "revoked_agency_user",
    "expired_agency_user",
]


@pytest.fixture
def blind(request, world, outsider, kh_coordinator, knp_coordinator):
    """A user who must see nothing of `world.case`, built per persona.

    The KH-CCOS personas are coordinators of an agency that held `manage`, so
    anything they could still do would be a real leak, not a role refusal.
    """
    persona = request.param
    if persona == "outsider":
        return outsider
    if persona == "superuser_without_membership":
        return User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    if persona == "inactive_user":
        User.objects.filter(pk=kh_coordinator.pk).update(is_active=False)
        return User.objects.get(pk=kh_coordinator.pk)
    if persona == "user_of_inactive_agency":
        Agency.objects.filter(pk=world.ccos.pk).update(active=False)
        return User.objects.get(pk=kh_coordinator.pk)
    if persona == "revoked_agency_user":
        services.revoke_case(actor=knp_coordinator, participation=world.ccos_participation)
        return User.objects.get(pk=kh_coordinator.pk)
    if persona == "expired_agency_user":
        # Time passes beyond the expiry; the expiry job has NOT run, so the
        # grant rows still exist: the gate alone must stop access.
        services.change_access(
            actor=knp_coordinator,
            participation=world.ccos_participation,
            expires_at=timezone.now() + dt.timedelta(hours=1),
        )
        pass_expiry(world.case, world.ccos)
        return User.objects.get(pk=kh_coordinator.pk)
    raise AssertionError(persona)


pytestmark = pytest.mark.parametrize("blind", BLIND_PERSONAS, indirect=True)


# --- selectors --------------------------------------------------------------


def test_blind_user_gets_no_cases(blind, world):
    assert access.visible_cases(blind).count() == 0
    assert not access.visible_cases(blind).filter(pk=world.case.pk).exists()


def test_blind_user_gets_no_tasks(blind, world):
    assert access.visible_tasks(blind).count() == 0


def test_blind_user_gets_no_notes(blind, world):
    assert access.visible_notes(blind).count() == 0


def test_blind_user_gets_no_participations(blind, world):
    assert access.visible_participations(blind).count() == 0


def test_blind_user_sees_no_member_of_the_lead_agency(blind, world):
    assert not access.visible_memberships(blind).filter(agency=world.knp).exists()


def test_blind_user_cannot_do_anything_to_the_case(blind, world):
    for action in access.CASE_RULES:
        assert not access.can(blind, action, world.case)
        with pytest.raises(NotFound):
            access.require(blind, action, world.case)


def test_blind_user_cannot_do_anything_to_tasks_notes_participations(blind, world):
    for obj, actions in [
        (world.knp_task, ["view", "manage", "work"]),
        (world.ccos_task, ["view", "manage", "work"]),
        (world.knp_note, ["view"]),
        (world.ccos_note, ["view"]),
        (world.knp_participation, ["view"]),
        (world.ccos_participation, ["view"]),
    ]:
        for action in actions:
            assert not access.can(blind, action, obj)
            with pytest.raises(NotFound):
                access.require(blind, action, obj)


# --- services ---------------------------------------------------------------


def _calls(world):
    """Every case service, each with arguments that would succeed for the lead."""
    tomorrow = timezone.now().date() + dt.timedelta(days=2)
    return {
        "update_case": lambda u: services.update_case(actor=u, case=world.case, title="Leaked"),
        "update_case_stale": lambda u: services.update_case(
            actor=u, case=world.case, expected_version=0, title="Leaked"
        ),
        "change_case_status": lambda u: services.change_case_status(
            actor=u, case=world.case, status=CaseStatus.ACTIVE
        ),
        "close_case": lambda u: services.change_case_status(
            actor=u, case=world.case, status=CaseStatus.CLOSED
        ),
        "change_case_status_unknown": lambda u: services.change_case_status(
            actor=u, case=world.case, status="bogus"
        ),
        "share_case": lambda u: services.share_case(
            actor=u, case=world.case, agency=world.third, level=AccessLevel.VIEW
        ),
        "share_case_bad_level": lambda u: services.share_case(
            actor=u, case=world.case, agency=world.third, level="bogus"
        ),
        "change_access": lambda u: services.change_access(
            actor=u, participation=world.ccos_participation, level=AccessLevel.VIEW
        ),
        "change_access_lead": lambda u: services.change_access(
            actor=u, participation=world.knp_participation, level=AccessLevel.VIEW
        ),
        "revoke_case": lambda u: services.revoke_case(
            actor=u, participation=world.ccos_participation
        ),
        "revoke_lead": lambda u: services.revoke_case(
            actor=u, participation=world.knp_participation
        ),
        "hand_over_case": lambda u: services.hand_over_case(
            actor=u, case=world.case, new_lead=world.third
        ),
        "create_task": lambda u: services.create_task(
            actor=u, case=world.case, title="t", assigned_agency=world.knp, due_date=tomorrow
        ),
        "update_task_status": lambda u: services.update_task(
            actor=u, task=world.ccos_task, status="in_progress"
        ),
        "update_task_manager_fields": lambda u: services.update_task(
            actor=u, task=world.knp_task, title="Leaked"
        ),
        "update_task_unknown_field": lambda u: services.update_task(
            actor=u, task=world.knp_task, case=None
        ),
        "add_note": lambda u: services.add_note(actor=u, case=world.case, body="Leaked"),
        "add_empty_note": lambda u: services.add_note(actor=u, case=world.case, body=""),
    }


SERVICE_CALLS = list(_calls(None).keys())


@pytest.mark.parametrize("call", SERVICE_CALLS)
def test_blind_user_gets_not_found_from_every_service_and_changes_nothing(blind, world, call):
    with unchanged(), pytest.raises(NotFound):
        _calls(world)[call](blind)
