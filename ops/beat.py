"""A beat scheduler that leaves a heartbeat for the container's health check.

Beat is one process whose failure is silent: nothing answers a request, and
its jobs (the outbox sweep, reminders, audit checkpoints) just stop. Its
scheduler wakes at least once a minute (the outbox sweep's period), so a
file touched on each wake is fresh while beat schedules, and goes stale
when it is dead or hung (a lost broker blocks the wake too). Run it as
`celery -A config beat -S ops.beat:HeartbeatScheduler`, with
`BEAT_HEARTBEAT_FILE` set; the compose file's health check reads the file's age.
"""

from __future__ import annotations

from pathlib import Path

from celery.beat import PersistentScheduler
from django.conf import settings


class HeartbeatScheduler(PersistentScheduler):
    """Celery's file-backed scheduler, touching `BEAT_HEARTBEAT_FILE` on each wake."""

    def tick(self, *args, **kwargs) -> float:
        interval = super().tick(*args, **kwargs)
        if settings.BEAT_HEARTBEAT_FILE:
            Path(settings.BEAT_HEARTBEAT_FILE).touch()
        return interval
