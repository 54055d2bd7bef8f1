"""Deadline reminders, run hourly by beat.

Each reminder carries a dedup key (event, object, deadline), so running the
job every hour tells each deadline once; moving a due date makes a new
deadline and a new reminder. "Within 48 hours" and "overdue" are judged in
the time zone of the agency that must act: a due date is a local calendar day.

Each deadline source is a function in `SOURCES`, added with
`register_source` by the app that owns the deadlines (`cases.reminders`:
tasks, expiring participations, MLA responses); each returns the number of
reminders it emitted.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django.utils import timezone

SOURCES: list[Callable[[dt.datetime], int]] = []
SOON = dt.timedelta(hours=48)


def register_source(fn: Callable[[dt.datetime], int]) -> Callable[[dt.datetime], int]:
    """Add a deadline source: it emits its reminders with a dedup key, like
    `cases.reminders.task_deadlines`, so an hourly run tells each deadline once."""
    SOURCES.append(fn)
    return fn


def run(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(source(now) for source in SOURCES)


def _local_today(tz_name: str, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(tz_name)).date()


def deadline_event(due: dt.date, tz_name: str, now: dt.datetime, soon: str, overdue: str):
    """`overdue` past the local day, `soon` within 48 hours, else None."""
    if due < _local_today(tz_name, now):
        return overdue
    if due <= _local_today(tz_name, now + SOON):
        return soon
    return None
