"""`manage.py check_outbox`: monitoring's view of notifications that stopped going out."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from notifications.choices import OutboxStatus
from notifications.models import OutboxMessage

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


@pytest.mark.parametrize("status", [OutboxStatus.DELIVERED, OutboxStatus.DEAD])
def test_old_final_messages_are_not_overdue(quiet_outbox, shared_case, status):
    message(shared_case, age_seconds=3600, status=status)
    call_command("check_outbox", "--max-age", "600")


def test_check_outbox_refuses_a_max_age_below_one_second():
    with pytest.raises(CommandError, match="at least 1 second"):
        call_command("check_outbox", "--max-age", "0")
