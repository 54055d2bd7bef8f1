"""Beat jobs: deadline reminders (once per deadline), expiry, audit checkpoint."""

import datetime as dt

import pytest
from django.utils import timezone

from cases import services
from cases import tasks as case_tasks
from cases.choices import AccessLevel, TaskStatus
from cases.models import Task
from notifications import reminders, tasks
from notifications.models import OutboxMessage
from tests.factories import pass_expiry

pytestmark = pytest.mark.usefixtures("eager")


REMINDERS = ["task.due_soon", "task.overdue", "participation.expiring"]


def reminders_sent():
    """Reminder messages only (the fixtures' share and task emit their own)."""
    return OutboxMessage.objects.filter(event_type__in=REMINDERS)


def set_due(task, days):
    Task.objects.filter(pk=task.pk).update(due_date=timezone.now().date() + dt.timedelta(days=days))


def test_task_due_tomorrow_is_reminded_once(task):
    set_due(task, 1)
    reminders.run()
    reminders.run()
    assert list(reminders_sent().values_list("event_type", flat=True)) == ["task.due_soon"]


def test_overdue_task_is_reminded_as_overdue(task):
    set_due(task, -2)
    reminders.run()
    assert reminders_sent().get().event_type == "task.overdue"


def test_task_due_next_week_and_finished_tasks_are_not_reminded(task, knp_coordinator):
    set_due(task, 7)
    late = services.create_task(
        actor=knp_coordinator, case=task.case, title="Done", assigned_agency=task.assigned_agency
    )
    Task.objects.filter(pk=late.pk).update(
        status=TaskStatus.DONE, due_date=timezone.now().date() - dt.timedelta(days=1)
    )
    reminders.run()
    assert not reminders_sent().exists()


def test_moving_the_due_date_makes_a_new_reminder(task):
    set_due(task, 1)
    reminders.run()
    set_due(task, 2)
    reminders.run()
    assert reminders_sent().filter(event_type="task.due_soon").count() == 2


def test_participation_expiring_within_48_hours_is_announced_once(case, knp_coordinator, ccos):
    services.share_case(
        actor=knp_coordinator,
        case=case,
        agency=ccos,
        level=AccessLevel.VIEW,
        expires_at=timezone.now() + dt.timedelta(hours=20),
    )
    reminders.run()
    reminders.run()
    message = reminders_sent().get()
    assert message.event_type == "participation.expiring"
    assert message.payload["ids"]["agency"] == str(ccos.public_id)


def test_expiry_job_ends_expired_participations(case, knp_coordinator, ccos):
    participation = services.share_case(
        actor=knp_coordinator,
        case=case,
        agency=ccos,
        level=AccessLevel.VIEW,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    pass_expiry(case, ccos)
    assert case_tasks.expire_participations.delay().get() == 1
    participation.refresh_from_db()
    assert participation.revoked_at is not None


def test_audit_checkpoint_job_signs_the_chain_head(case, settings):
    from audit.models import AuditCheckpoint

    settings.AUDIT_HMAC_KEY = "test-only-audit-key-0123456789abcdef"

    assert tasks.audit_checkpoint.delay().get() == "ok"
    assert AuditCheckpoint.objects.exists()


@pytest.fixture
def submitted_mla(case, knp_coordinator):
    from agencies.choices import AgencyKind
    from cases import mla
    from tests.cases.mla.helpers import draft
    from tests.factories import make_agency

    kh_moj = make_agency("KH-MOJ", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY)
    return mla.submit_mla_request(
        actor=knp_coordinator, request=draft(knp_coordinator, case, kh_moj)
    )


def mla_reminders():
    return OutboxMessage.objects.filter(event_type__in=["mla.due_soon", "mla.overdue"])


def set_mla_due(request, days):
    type(request).objects.filter(pk=request.pk).update(
        response_due_date=timezone.now().date() + dt.timedelta(days=days)
    )


def test_mla_response_due_tomorrow_is_reminded_once(submitted_mla):
    set_mla_due(submitted_mla, 1)
    reminders.run()
    reminders.run()
    assert list(mla_reminders().values_list("event_type", flat=True)) == ["mla.due_soon"]


def test_overdue_mla_response_is_reminded_to_both_sides(
    submitted_mla, knp_coordinator, django_capture_on_commit_callbacks
):
    from notifications.models import Notification
    from tests.factories import make_user

    moj_coordinator = make_user(submitted_mla.requested_agency, "coordinator")
    set_mla_due(submitted_mla, -3)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.run()
    assert mla_reminders().get().event_type == "mla.overdue"
    for user in (knp_coordinator, moj_coordinator):
        assert Notification.objects.filter(recipient=user, kind="mla.overdue").count() == 1


def test_withdrawn_mla_request_is_not_reminded(submitted_mla, knp_coordinator):
    from cases import mla

    mla.withdraw_mla_request(actor=knp_coordinator, request=submitted_mla, comment="Settled")
    set_mla_due(submitted_mla, -1)
    reminders.run()
    assert not mla_reminders().exists()
