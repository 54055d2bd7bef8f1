"""Beat's health check: a heartbeat its scheduler touches on each wake, read
by the compose file's check, which fails when the file is stale or missing."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit import services as audit
from config import celery_app
from ops.beat import HeartbeatScheduler

from .conftest import COMPOSE, ROOT


def _health_check(heartbeat) -> int:
    """The beat service's health check, pointed at `heartbeat`."""
    beat = COMPOSE["services"]["beat"]
    command = beat["healthcheck"]["test"]
    assert command[0] == "CMD"
    configured = beat["environment"]["BEAT_HEARTBEAT_FILE"]
    assert configured in command[-1]
    args = [sys.executable, *command[2:-1], command[-1].replace(configured, str(heartbeat))]
    return subprocess.run(args, cwd=ROOT, capture_output=True, check=False).returncode  # noqa: S603


def test_the_scheduler_touches_the_heartbeat_each_time_it_wakes(tmp_path, settings):
    settings.BEAT_HEARTBEAT_FILE = str(tmp_path / "heartbeat")
    scheduler = HeartbeatScheduler(app=celery_app, schedule_filename=str(tmp_path / "schedule"))
    try:
        assert scheduler.tick() > 0
        first = os.stat(settings.BEAT_HEARTBEAT_FILE).st_mtime_ns
        os.utime(settings.BEAT_HEARTBEAT_FILE, (0, 0))
        scheduler.tick()
        assert os.stat(settings.BEAT_HEARTBEAT_FILE).st_mtime_ns >= first
    finally:
        scheduler.close()


@pytest.mark.parametrize(("age", "healthy"), [(5, True), (200, False)])
def test_the_health_check_fails_once_the_heartbeat_is_stale(tmp_path, age, healthy):
    heartbeat = tmp_path / "heartbeat"
    heartbeat.touch()
    then = time.time() - age
    os.utime(heartbeat, (then, then))
    assert (_health_check(heartbeat) == 0) is healthy


def test_the_health_check_fails_when_beat_never_wrote_a_heartbeat(tmp_path):
    assert _health_check(tmp_path / "missing") != 0


def test_beat_signs_audit_checkpoints_on_the_schedule_verify_audit_holds_it_to(settings):
    from notifications import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == tasks.audit_checkpoint.name
    assert entry["schedule"] == settings.AUDIT_CHECKPOINT_SECONDS


def test_verify_audit_fails_once_beat_has_missed_two_checkpoints(db, settings):
    """Signed at a time two periods and a minute ago: as if beat had died then."""
    settings.AUDIT_HMAC_KEY = "test-audit-key"
    settings.AUDIT_CHECKPOINT_SECONDS = 3600
    then = timezone.now() - dt.timedelta(seconds=2 * 3600 + 60)
    with mock.patch("audit.services.timezone.now", return_value=then):
        audit.record_checkpoint()
    with pytest.raises(CommandError, match=r"\d+ s old, more than the 7200 s allowed"):
        call_command("verify_audit")
