"""`manage.py check_outbox`: monitoring's view of notifications that stopped going out."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from notifications import deadletters, dispatch
from notifications.choices import OutboxStatus
from notifications.models import DeadLetter, Notification, OutboxMessage
from notifications.outbox import emit

pytestmark = pytest.mark.django_db


def message(shared_case, *, age_seconds, status=OutboxStatus.PUBLISHED, retry_in=None):
    now = timezone.now()
    return OutboxMessage.objects.create(
        event_type="case.shared",
        object_type="case",
        object_id=shared_case.public_id,
        status=status,
        created_at=now - dt.timedelta(seconds=age_seconds),
        next_attempt_at=None if retry_in is None else now + dt.timedelta(seconds=retry_in),
    )


@pytest.fixture
def quiet_outbox(shared_case):
    """The fixtures' own share is delivered (the suite runs tasks eagerly)."""
    OutboxMessage.objects.all().delete()


def test_check_outbox_passes_while_undelivered_messages_are_younger_than_max_age(
    quiet_outbox, shared_case, capsys
):
    message(shared_case, age_seconds=60)
    call_command("check_outbox", "--max-age", "600")
    assert "nothing undelivered for more than 600 s" in capsys.readouterr().out


def test_check_outbox_fails_naming_how_many_messages_are_overdue(quiet_outbox, shared_case):
    message(shared_case, age_seconds=700, status=OutboxStatus.PENDING)
    message(shared_case, age_seconds=900)
    with pytest.raises(CommandError, match=r"^2 notification message\(s\) undelivered"):
        call_command("check_outbox", "--max-age", "600")


def test_message_waiting_for_its_retry_time_is_not_overdue(quiet_outbox, shared_case):
    message(shared_case, age_seconds=3600, retry_in=300)
    call_command("check_outbox", "--max-age", "600")


@pytest.mark.parametrize("status", [OutboxStatus.DELIVERED, OutboxStatus.DISMISSED])
def test_old_delivered_or_dismissed_messages_pass(quiet_outbox, shared_case, status):
    message(shared_case, age_seconds=3600, status=status)
    call_command("check_outbox", "--max-age", "600")


def test_check_outbox_fails_listing_dead_messages_with_their_error(quiet_outbox, shared_case):
    dead = message(shared_case, age_seconds=30, status=OutboxStatus.DEAD)
    OutboxMessage.objects.filter(pk=dead.pk).update(attempts=6, last_error="KeyError: 'x'\nmore")
    with pytest.raises(CommandError) as failure:
        call_command("check_outbox")
    assert f"{dead.pk} case.shared case:{shared_case.public_id}, 6 attempts" in str(failure.value)
    assert "KeyError: 'x'" in str(failure.value)
    assert "redrive_outbox" in str(failure.value)


def test_check_outbox_fails_listing_dropped_broker_messages(quiet_outbox):
    letter = deadletters.record(
        reason="no outbox message with this id",
        task="notifications.deliver_message",
        body=["6c1a…"],
    )
    with pytest.raises(CommandError, match=rf"#{letter.pk} notifications.deliver_message"):
        call_command("check_outbox")


def test_redrive_gives_dead_messages_new_attempts_and_delivers_them(
    quiet_outbox, shared_case, knp_coordinator, ccos, kh_coordinator, eager
):
    dead = emit("case.shared", obj=shared_case, actor=knp_coordinator, agency=ccos.public_id)
    OutboxMessage.objects.filter(pk=dead.pk).update(status=OutboxStatus.DEAD, attempts=6)
    out = StringIO()
    call_command("redrive_outbox", stdout=out)
    assert f"re-driven {dead.pk}" in out.getvalue()
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (OutboxStatus.DELIVERED, 1)
    assert Notification.objects.filter(message=dead, recipient=kh_coordinator).count() == 1
    call_command("check_outbox")


def test_redrive_with_ids_leaves_the_other_dead_messages_alone(quiet_outbox, shared_case, eager):
    first = message(shared_case, age_seconds=30, status=OutboxStatus.DEAD)
    second = message(shared_case, age_seconds=30, status=OutboxStatus.DEAD)
    call_command("redrive_outbox", "--id", str(first.pk), stdout=StringIO())
    assert OutboxMessage.objects.get(pk=first.pk).status == OutboxStatus.DELIVERED
    assert OutboxMessage.objects.get(pk=second.pk).status == OutboxStatus.DEAD


def test_dismiss_silences_the_alarm_and_keeps_the_rows(quiet_outbox, shared_case):
    dead = message(shared_case, age_seconds=30, status=OutboxStatus.DEAD)
    letter = deadletters.record(reason="unknown task", task="x.y", key="task-1")
    call_command("redrive_outbox", "--dismiss", stdout=StringIO())
    call_command("check_outbox")
    assert OutboxMessage.objects.get(pk=dead.pk).status == OutboxStatus.DISMISSED
    assert DeadLetter.objects.get(pk=letter.pk).dismissed_at is not None


def test_dropped_messages_cannot_be_redriven_only_dismissed(quiet_outbox):
    letter = deadletters.record(reason="unknown task", task="x.y", key="task-1")
    with pytest.raises(CommandError, match="dismiss them with --dismiss"):
        call_command("redrive_outbox", "--id", f"#{letter.pk}")
    call_command("redrive_outbox", "--dismiss", "--id", f"#{letter.pk}", stdout=StringIO())
    call_command("check_outbox")


def test_the_same_dropped_message_is_recorded_once(db):
    first = deadletters.record(reason="unknown task", task="x.y", body="{}")
    again = deadletters.record(reason="unknown task", task="x.y", body="{}")
    assert first.pk == again.pk and DeadLetter.objects.count() == 1


@pytest.mark.parametrize("argument", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_a_delivery_naming_no_outbox_message_is_recorded_not_dropped(db, argument):
    assert dispatch.deliver_message(argument).outcome is dispatch.Outcome.DROPPED
    letter = DeadLetter.objects.get()
    assert letter.task == "notifications.deliver_message"
    assert argument in letter.body


def test_a_webhook_delivery_naming_no_row_is_recorded(db):
    assert dispatch.send_webhook(987654).outcome is dispatch.Outcome.DROPPED
    assert DeadLetter.objects.get().reason == "no webhook delivery with this id"


def test_check_outbox_refuses_a_max_age_below_one_second():
    with pytest.raises(CommandError, match="at least 1 second"):
        call_command("check_outbox", "--max-age", "0")


def test_a_binary_body_is_recorded_with_its_nul_bytes_escaped(db):
    letter = deadletters.record(reason="unreadable message", body="\x80\x04\x00}")
    assert letter.body == "\x80\x04\\x00}"
