"""The role layer: what a person may do with what their agency sees.

`world`: KR-KNP leads the case, KH-CCOS holds `manage` on it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases import access, services
from cases.choices import AccessLevel, CaseStatus, TaskStatus
from cases.models import CaseParticipation
from gate.errors import Conflict, PermissionDenied

from .helpers import unchanged


def _level(agency, case):
    case.refresh_from_db()
    return access.agency_level(agency, case)


# --- viewer -----------------------------------------------------------------


def test_viewer_reads_case_tasks_notes(world, kh_viewer):
    assert list(access.visible_cases(kh_viewer)) == [world.case]
    assert set(access.visible_tasks(kh_viewer)) == {world.knp_task, world.ccos_task}
    assert set(access.visible_notes(kh_viewer)) == {world.knp_note, world.ccos_note}


@pytest.mark.parametrize(
    "call",
    [
        lambda w, u: services.add_note(actor=u, case=w.case, body="x"),
        lambda w, u: services.update_task(actor=u, task=w.ccos_task, status="in_progress"),
        lambda w, u: services.update_case(actor=u, case=w.case, title="x"),
        lambda w, u: services.share_case(
            actor=u, case=w.case, agency=w.third, level=AccessLevel.VIEW
        ),
        lambda w, u: services.create_task(actor=u, case=w.case, title="t", assigned_agency=w.ccos),
    ],
    ids=["add_note", "work_task", "update_case", "share", "create_task"],
)
def test_viewer_cannot_write(world, kh_viewer, call):
    with unchanged(), pytest.raises(PermissionDenied):
        call(world, kh_viewer)


def test_agency_admin_reads_like_a_viewer(world, kh_admin):
    assert access.can(kh_admin, "view", world.case)
    with unchanged(), pytest.raises(PermissionDenied):
        services.add_note(actor=kh_admin, case=world.case, body="x")


def test_viewer_cannot_create_a_case(kh_viewer):
    with unchanged(), pytest.raises(PermissionDenied):
        services.create_case(actor=kh_viewer, title="x")


# --- investigator -------------------------------------------------------------


def test_investigator_adds_a_note(world, kh_investigator):
    note = services.add_note(actor=kh_investigator, case=world.case, body="Wallet traced.")
    assert note.agency == world.ccos
    assert note in access.visible_notes(kh_investigator)


def test_investigator_works_a_task_assigned_to_its_agency(world, kh_investigator):
    task = services.update_task(
        actor=kh_investigator, task=world.ccos_task, status=TaskStatus.IN_PROGRESS
    )
    assert task.status == TaskStatus.IN_PROGRESS
    task = services.update_task(
        actor=kh_investigator, task=world.ccos_task, assigned_user=kh_investigator
    )
    assert task.assigned_user == kh_investigator


def test_investigator_cannot_work_another_agencys_task(world, kh_investigator):
    with unchanged(), pytest.raises(PermissionDenied):
        services.update_task(actor=kh_investigator, task=world.knp_task, status="in_progress")


def test_investigator_cannot_change_task_manager_fields(world, kh_investigator):
    with unchanged(), pytest.raises(PermissionDenied):
        services.update_task(actor=kh_investigator, task=world.ccos_task, title="Renamed")


def test_investigator_cannot_reopen_a_finished_task(world, kh_investigator):
    services.update_task(actor=kh_investigator, task=world.ccos_task, status=TaskStatus.DONE)
    with unchanged(), pytest.raises(Conflict):
        services.update_task(actor=kh_investigator, task=world.ccos_task, status=TaskStatus.TODO)


@pytest.mark.parametrize(
    "call",
    [
        lambda w, u: services.share_case(
            actor=u, case=w.case, agency=w.third, level=AccessLevel.VIEW
        ),
        lambda w, u: services.create_task(actor=u, case=w.case, title="t", assigned_agency=w.ccos),
        lambda w, u: services.revoke_case(actor=u, participation=w.ccos_participation),
        lambda w, u: services.change_case_status(actor=u, case=w.case, status="active"),
    ],
    ids=["share", "create_task", "revoke", "change_status"],
)
def test_investigator_cannot_coordinate(world, kh_investigator, call):
    with unchanged(), pytest.raises(PermissionDenied):
        call(world, kh_investigator)


def test_investigator_of_a_view_level_agency_cannot_add_notes(
    world, knp_coordinator, kh_investigator
):
    services.change_access(
        actor=knp_coordinator, participation=world.ccos_participation, level=AccessLevel.VIEW
    )
    with unchanged(), pytest.raises(PermissionDenied):
        services.add_note(actor=kh_investigator, case=world.case, body="x")


# --- coordinator ---------------------------------------------------------------


def test_coordinator_creates_a_case_its_agency_leads(kh_coordinator, ccos):
    case = services.create_case(actor=kh_coordinator, title="Laundering ring")
    assert case.lead_agency == ccos
    assert access.agency_level(ccos, case) == AccessLevel.MANAGE


def test_lead_coordinator_shares_changes_access_and_revokes(world, knp_coordinator, thcc):
    participation = services.share_case(
        actor=knp_coordinator, case=world.case, agency=thcc, level=AccessLevel.CONTRIBUTE
    )
    assert _level(thcc, world.case) == AccessLevel.CONTRIBUTE
    services.change_access(
        actor=knp_coordinator, participation=participation, level=AccessLevel.VIEW
    )
    assert _level(thcc, world.case) == AccessLevel.VIEW
    services.revoke_case(actor=knp_coordinator, participation=participation)
    assert _level(thcc, world.case) is None


def test_co_managing_coordinator_neither_shares_nor_changes_nor_ends_access(
    world, knp_coordinator, kh_coordinator, thcc
):
    """Who holds the case, and on what terms, is the lead's decision (the
    third-party rule): a co-manager proposes a share instead."""
    participation = services.share_case(
        actor=knp_coordinator, case=world.case, agency=thcc, level=AccessLevel.CONTRIBUTE
    )
    for call in (
        lambda: services.share_case(
            actor=kh_coordinator, case=world.case, agency=world.third, level=AccessLevel.VIEW
        ),
        lambda: services.change_access(
            actor=kh_coordinator, participation=participation, level=AccessLevel.VIEW
        ),
        lambda: services.revoke_case(actor=kh_coordinator, participation=participation),
    ):
        with unchanged(), pytest.raises(PermissionDenied):
            call()
    assert _level(thcc, world.case) == AccessLevel.CONTRIBUTE


def test_managing_coordinator_manages_any_task(world, kh_coordinator):
    task = services.update_task(actor=kh_coordinator, task=world.knp_task, title="Renamed")
    assert task.title == "Renamed"
    task = services.create_task(
        actor=kh_coordinator, case=world.case, title="New", assigned_agency=world.knp
    )
    assert task.case == world.case


# --- lead-only actions ---------------------------------------------------------


def test_lead_coordinator_closes_and_archives(world, knp_coordinator):
    services.change_case_status(actor=knp_coordinator, case=world.case, status=CaseStatus.CLOSED)
    case = services.change_case_status(
        actor=knp_coordinator, case=world.case, status=CaseStatus.ARCHIVED
    )
    assert case.status == CaseStatus.ARCHIVED


@pytest.mark.parametrize("status", [CaseStatus.CLOSED])
def test_non_lead_managing_coordinator_cannot_close(world, kh_coordinator, status):
    with unchanged(), pytest.raises(PermissionDenied):
        services.change_case_status(actor=kh_coordinator, case=world.case, status=status)


def test_non_lead_managing_coordinator_cannot_archive(world, knp_coordinator, kh_coordinator):
    services.change_case_status(actor=knp_coordinator, case=world.case, status=CaseStatus.CLOSED)
    with unchanged(), pytest.raises(PermissionDenied):
        services.change_case_status(
            actor=kh_coordinator, case=world.case, status=CaseStatus.ARCHIVED
        )


def test_non_lead_managing_coordinator_cannot_reopen_a_closed_case(
    world, knp_coordinator, kh_coordinator
):
    """Closing is the lead's decision; undoing it must be too."""
    services.change_case_status(actor=knp_coordinator, case=world.case, status=CaseStatus.CLOSED)
    with unchanged(), pytest.raises(PermissionDenied):
        services.change_case_status(actor=kh_coordinator, case=world.case, status="active")


def test_lead_viewer_cannot_close(world, knp_viewer):
    with unchanged(), pytest.raises(PermissionDenied):
        services.change_case_status(actor=knp_viewer, case=world.case, status=CaseStatus.CLOSED)


def test_non_lead_cannot_hand_over(world, kh_coordinator, thcc):
    with unchanged(), pytest.raises(PermissionDenied):
        services.hand_over_case(actor=kh_coordinator, case=world.case, new_lead=thcc)


def test_nobody_revokes_the_lead(world, knp_coordinator, kh_coordinator):
    with unchanged(), pytest.raises(Conflict):
        services.revoke_case(actor=knp_coordinator, participation=world.knp_participation)
    # A co-manager may revoke nobody at all.
    with unchanged(), pytest.raises(PermissionDenied):
        services.revoke_case(actor=kh_coordinator, participation=world.knp_participation)


def test_nobody_changes_the_leads_level(world, knp_coordinator):
    with unchanged(), pytest.raises(Conflict):
        services.change_access(
            actor=knp_coordinator, participation=world.knp_participation, level="view"
        )


@pytest.fixture
def third_manages(world, knp_coordinator, thcc):
    return services.share_case(
        actor=knp_coordinator, case=world.case, agency=thcc, level=AccessLevel.MANAGE
    )


def test_non_lead_cannot_revoke_a_managing_agency(world, kh_coordinator, third_manages):
    with unchanged(), pytest.raises(PermissionDenied):
        services.revoke_case(actor=kh_coordinator, participation=third_manages)


def test_non_lead_cannot_downgrade_a_managing_agency(world, kh_coordinator, third_manages):
    with unchanged(), pytest.raises(PermissionDenied):
        services.change_access(
            actor=kh_coordinator, participation=third_manages, level=AccessLevel.VIEW
        )


def test_non_lead_cannot_put_an_expiry_on_a_managing_agency(world, kh_coordinator, third_manages):
    """An expiry is a revocation with a delay: the lead's decision alone."""
    with unchanged(), pytest.raises(PermissionDenied):
        services.change_access(
            actor=kh_coordinator,
            participation=third_manages,
            expires_at=timezone.now() + dt.timedelta(minutes=5),
        )


def test_non_lead_cannot_grant_manage(world, kh_coordinator, thcc):
    """Otherwise a co-manager could create managers that it then cannot revoke."""
    with unchanged(), pytest.raises(PermissionDenied):
        services.share_case(
            actor=kh_coordinator, case=world.case, agency=thcc, level=AccessLevel.MANAGE
        )


def test_non_lead_cannot_promote_to_manage(world, knp_coordinator, kh_coordinator, thcc):
    participation = services.share_case(
        actor=knp_coordinator, case=world.case, agency=thcc, level=AccessLevel.VIEW
    )
    with unchanged(), pytest.raises(PermissionDenied):
        services.change_access(
            actor=kh_coordinator, participation=participation, level=AccessLevel.MANAGE
        )


def test_lead_revokes_a_managing_agency(world, knp_coordinator):
    services.revoke_case(actor=knp_coordinator, participation=world.ccos_participation)
    assert _level(world.ccos, world.case) is None


# --- hand-over -------------------------------------------------------------------


def test_hand_over_gives_new_lead_manage_and_old_lead_its_kept_level(
    world, knp_coordinator, kh_coordinator
):
    case = services.hand_over_case(
        actor=knp_coordinator, case=world.case, new_lead=world.ccos, keep_level=AccessLevel.VIEW
    )
    assert case.lead_agency == world.ccos
    assert _level(world.ccos, case) == AccessLevel.MANAGE
    assert _level(world.knp, case) == AccessLevel.VIEW
    assert CaseParticipation.objects.active().filter(case=case).count() == 2
    # The new lead now holds the lead-only powers, the old one does not.
    assert access.can(kh_coordinator, "close", case)
    assert not access.can(knp_coordinator, "close", case)


def test_hand_over_to_a_new_agency_creates_its_participation(world, knp_coordinator, thcc):
    case = services.hand_over_case(
        actor=knp_coordinator, case=world.case, new_lead=thcc, keep_level=AccessLevel.CONTRIBUTE
    )
    assert _level(thcc, case) == AccessLevel.MANAGE
    assert _level(world.knp, case) == AccessLevel.CONTRIBUTE


def test_hand_over_with_no_kept_level_removes_the_old_lead(world, knp_coordinator, knp_viewer):
    case = services.hand_over_case(
        actor=knp_coordinator, case=world.case, new_lead=world.ccos, keep_level=None
    )
    assert _level(world.knp, case) is None
    assert not access.visible_cases(knp_viewer).exists()
