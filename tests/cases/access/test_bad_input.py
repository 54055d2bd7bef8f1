"""Bad input: a clear domain error naming the field, and nothing changed.

Every call here is made by a user allowed to do the action with good input
(the lead's coordinator unless stated), so only the input is at fault.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from agencies.models import Agency
from cases import services
from cases.choices import AccessLevel, CaseStatus
from gate.errors import Conflict, PermissionDenied, PreconditionFailed, ValidationFailed
from tests.factories import make_user

from .helpers import unchanged

FUTURE = dt.timedelta(days=3)


def _yesterday_for(agency):
    return services._agency_today(agency) - dt.timedelta(days=1)


def _assert_field(exc_info, field):
    assert field in exc_info.value.errors, exc_info.value.errors
    assert all(str(m) for m in exc_info.value.errors[field])


# --- agencies and levels -------------------------------------------------------


@pytest.mark.parametrize(
    "agency",
    [None, "unsaved", "deleted", "inactive", "code string"],
)
def test_share_with_unknown_agency_is_refused(world, knp_coordinator, agency):
    if agency == "unsaved":
        agency = Agency(code="XX-NONE", name="Nobody", country="XX", kind="police")
    elif agency == "deleted":
        agency = Agency(pk=987654, code="XX-GONE", name="Gone", country="XX", kind="police")
    elif agency == "inactive":
        Agency.objects.filter(pk=world.third.pk).update(active=False)
        agency = world.third  # stale object: still says active=True
    elif agency == "code string":
        agency = "TH-CCIB"
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.share_case(
            actor=knp_coordinator, case=world.case, agency=agency, level=AccessLevel.VIEW
        )
    _assert_field(exc, "agency")


def test_hand_over_to_unknown_agency_is_refused(world, knp_coordinator):
    ghost = Agency(pk=987654, code="XX-GONE", name="Gone", country="XX", kind="police")
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.hand_over_case(actor=knp_coordinator, case=world.case, new_lead=ghost)
    _assert_field(exc, "new_lead")


def test_share_with_the_lead_itself_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.share_case(
            actor=knp_coordinator, case=world.case, agency=world.knp, level=AccessLevel.VIEW
        )
    _assert_field(exc, "agency")


def test_share_with_a_participating_agency_is_a_conflict(world, knp_coordinator):
    with unchanged(), pytest.raises(Conflict):
        services.share_case(
            actor=knp_coordinator, case=world.case, agency=world.ccos, level=AccessLevel.VIEW
        )


def test_share_with_unknown_level_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.share_case(actor=knp_coordinator, case=world.case, agency=world.third, level="x")
    _assert_field(exc, "level")


def test_change_access_to_unknown_level_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.change_access(
            actor=knp_coordinator, participation=world.ccos_participation, level="owner"
        )
    _assert_field(exc, "level")


def test_hand_over_with_unknown_kept_level_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.hand_over_case(
            actor=knp_coordinator, case=world.case, new_lead=world.ccos, keep_level="owner"
        )
    _assert_field(exc, "keep_level")


def test_investigator_trying_to_share_is_refused(world, kh_investigator):
    with unchanged(), pytest.raises(PermissionDenied):
        services.share_case(
            actor=kh_investigator, case=world.case, agency=world.third, level=AccessLevel.VIEW
        )


def test_sharing_an_amber_strict_case_is_refused(knp_coordinator, thcc):
    case = services.create_case(actor=knp_coordinator, title="x", handling_code="AMBER+STRICT")
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.share_case(actor=knp_coordinator, case=case, agency=thcc, level="view")
    _assert_field(exc, "agency")


# --- expiry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_at",
    [
        timezone.now() - dt.timedelta(minutes=1),
        dt.datetime(2099, 1, 1, 12, 0),  # noqa: DTZ001 - naive on purpose
    ],
    ids=["past", "naive"],
)
def test_share_with_bad_expiry_is_refused(world, knp_coordinator, expires_at):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.share_case(
            actor=knp_coordinator,
            case=world.case,
            agency=world.third,
            level=AccessLevel.VIEW,
            expires_at=expires_at,
        )
    _assert_field(exc, "expires_at")


@pytest.mark.parametrize(
    "expires_at",
    [
        timezone.now() - dt.timedelta(minutes=1),
        dt.datetime(2099, 1, 1, 12, 0),  # noqa: DTZ001 - naive on purpose
    ],
    ids=["past", "naive"],
)
def test_change_access_with_bad_expiry_is_refused(world, knp_coordinator, expires_at):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.change_access(
            actor=knp_coordinator, participation=world.ccos_participation, expires_at=expires_at
        )
    _assert_field(exc, "expires_at")


# --- tasks ----------------------------------------------------------------------


def test_task_for_non_participating_agency_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_task(
            actor=knp_coordinator, case=world.case, title="t", assigned_agency=world.third
        )
    _assert_field(exc, "assigned_agency")


def test_task_for_revoked_agency_is_refused(world, knp_coordinator):
    services.revoke_case(actor=knp_coordinator, participation=world.ccos_participation)
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_task(
            actor=knp_coordinator, case=world.case, title="t", assigned_agency=world.ccos
        )
    _assert_field(exc, "assigned_agency")


def test_task_with_no_agency_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_task(
            actor=knp_coordinator, case=world.case, title="t", assigned_agency=None
        )
    _assert_field(exc, "assigned_agency")


def test_task_assignee_from_another_agency_is_refused(world, knp_coordinator, kh_investigator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_task(
            actor=knp_coordinator,
            case=world.case,
            title="t",
            assigned_agency=world.knp,
            assigned_user=kh_investigator,
        )
    _assert_field(exc, "assigned_user")


def test_worker_cannot_hand_task_to_another_agencys_user(world, kh_investigator, knp_viewer):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.update_task(actor=kh_investigator, task=world.ccos_task, assigned_user=knp_viewer)
    _assert_field(exc, "assigned_user")


def test_task_due_in_the_past_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_task(
            actor=knp_coordinator,
            case=world.case,
            title="t",
            assigned_agency=world.knp,
            due_date=_yesterday_for(world.knp),
        )
    _assert_field(exc, "due_date")


def test_moving_task_due_date_to_the_past_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.update_task(
            actor=knp_coordinator, task=world.knp_task, due_date=_yesterday_for(world.knp)
        )
    _assert_field(exc, "due_date")


def test_task_with_empty_title_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_task(
            actor=knp_coordinator, case=world.case, title="", assigned_agency=world.knp
        )
    _assert_field(exc, "title")


def test_task_with_unknown_priority_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_task(
            actor=knp_coordinator,
            case=world.case,
            title="t",
            assigned_agency=world.knp,
            priority="urgent!!",
        )
    _assert_field(exc, "priority")


def test_task_with_unknown_status_is_refused(world, kh_investigator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.update_task(actor=kh_investigator, task=world.ccos_task, status="finished")
    _assert_field(exc, "status")


def test_task_with_unknown_field_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.update_task(actor=knp_coordinator, task=world.knp_task, case=None)
    _assert_field(exc, "case")


# --- cases ----------------------------------------------------------------------


def test_case_with_unknown_crime_type_is_refused(knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_case(actor=knp_coordinator, title="x", crime_types=["jaywalking"])
    _assert_field(exc, "crime_types")


def test_case_update_with_unknown_crime_type_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.update_case(actor=knp_coordinator, case=world.case, crime_types=["x"])
    _assert_field(exc, "crime_types")


def test_case_with_unknown_handling_code_is_refused(knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_case(actor=knp_coordinator, title="x", handling_code="PURPLE")
    _assert_field(exc, "handling_code")


def test_case_with_empty_title_is_refused(knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_case(actor=knp_coordinator, title="")
    _assert_field(exc, "title")


def test_case_update_of_a_read_only_field_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.update_case(actor=knp_coordinator, case=world.case, lead_agency=world.ccos)
    _assert_field(exc, "lead_agency")


def test_unknown_case_status_is_refused(world, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.change_case_status(actor=knp_coordinator, case=world.case, status="solved")
    _assert_field(exc, "status")


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], CaseStatus.ARCHIVED),
        ([], CaseStatus.SUSPENDED),
        ([], CaseStatus.OPEN),
        ([CaseStatus.CLOSED, CaseStatus.ARCHIVED], CaseStatus.ACTIVE),
    ],
)
def test_illegal_case_status_transition_is_a_conflict(world, knp_coordinator, path, target):
    for status in path:
        services.change_case_status(actor=knp_coordinator, case=world.case, status=status)
    with unchanged(), pytest.raises(Conflict) as exc:
        services.change_case_status(actor=knp_coordinator, case=world.case, status=target)
    assert exc.value.field == "status"


# --- notes ----------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "   \n\t"])
def test_empty_note_is_refused(world, kh_investigator, body):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.add_note(actor=kh_investigator, case=world.case, body=body)
    _assert_field(exc, "body")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source_reliability", "Z"),
        ("information_accuracy", "5"),
        ("handling_code", "PURPLE"),
        ("handling_instruction", "H9"),
    ],
)
def test_note_with_unknown_grading_is_refused(world, kh_investigator, field, value):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.add_note(actor=kh_investigator, case=world.case, body="b", **{field: value})
    _assert_field(exc, field)


# --- optimistic concurrency -------------------------------------------------------


def test_stale_case_version_is_a_failed_precondition(world, knp_coordinator):
    stale = world.case.version - 1
    with unchanged(), pytest.raises(PreconditionFailed):
        services.update_case(
            actor=knp_coordinator, case=world.case, expected_version=stale, title="x"
        )
    with unchanged(), pytest.raises(PreconditionFailed):
        services.change_case_status(
            actor=knp_coordinator, case=world.case, status="active", expected_version=stale
        )


def test_stale_participation_version_is_a_failed_precondition(world, knp_coordinator):
    with unchanged(), pytest.raises(PreconditionFailed):
        services.change_access(
            actor=knp_coordinator,
            participation=world.ccos_participation,
            level=AccessLevel.VIEW,
            expected_version=world.ccos_participation.version + 1,
        )


def test_stale_task_version_is_a_failed_precondition(world, knp_coordinator):
    with unchanged(), pytest.raises(PreconditionFailed):
        services.update_task(
            actor=knp_coordinator,
            task=world.knp_task,
            expected_version=world.knp_task.version + 1,
            title="x",
        )


def test_current_version_is_accepted(world, knp_coordinator):
    case = services.update_case(
        actor=knp_coordinator, case=world.case, expected_version=world.case.version, title="New"
    )
    assert case.version == world.case.version + 1


def test_user_without_agency_cannot_create_a_case(db):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="pw-nobody-1")
    with unchanged(), pytest.raises(PermissionDenied):
        services.create_case(actor=nobody, title="x")


def test_inactive_member_cannot_create_a_case(knp):
    user = make_user(knp)
    user.is_active = False
    user.save()
    with unchanged(), pytest.raises(PermissionDenied):
        services.create_case(actor=user, title="x")
