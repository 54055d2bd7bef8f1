"""Deadline reminders, run hourly by beat.

Each reminder carries a dedup key (event, object, deadline), so running the
job every hour tells each deadline once; moving a due date makes a new
deadline and a new reminder. "Within 48 hours" and "overdue" are judged in
the assigned agency's time zone: a due date is a local calendar day.

Each deadline source (tasks, expiring participations, MLA responses) is a
function in `SOURCES`, added with `register_source`; each returns the number
of reminders it emitted.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from cases.models import CaseParticipation, MLARequest, Task
from cases.models.mla import FINAL_STATUSES as FINAL_MLA_STATUSES
from cases.services import FINAL_TASK_STATUSES

from .choices import EventType
from .outbox import emit

SOURCES: list[Callable[[dt.datetime], int]] = []
SOON = dt.timedelta(hours=48)


def register_source(fn: Callable[[dt.datetime], int]) -> Callable[[dt.datetime], int]:
    """Add a deadline source: it emits its reminders with a dedup key, like
    `task_deadlines`, so an hourly run tells each deadline once."""
    SOURCES.append(fn)
    return fn


def run(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(source(now) for source in SOURCES)


def _local_today(tz_name: str, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(tz_name)).date()


def _deadline_event(due: dt.date, tz_name: str, now: dt.datetime, soon: str, overdue: str):
    """`overdue` past the local day, `soon` within 48 hours, else None."""
    if due < _local_today(tz_name, now):
        return overdue
    if due <= _local_today(tz_name, now + SOON):
        return soon
    return None


@register_source
def task_deadlines(now: dt.datetime) -> int:
    horizon = (now + SOON).date() + dt.timedelta(days=1)  # widest time-zone spread
    emitted = 0
    tasks = (
        Task.objects.select_related("assigned_agency")
        .exclude(status__in=FINAL_TASK_STATUSES)
        .filter(due_date__isnull=False, due_date__lte=horizon)
    )
    for task in tasks.iterator():
        tz_name = task.assigned_agency.timezone
        event = _deadline_event(
            task.due_date, tz_name, now, EventType.TASK_DUE_SOON, EventType.TASK_OVERDUE
        )
        if event is None:
            continue
        with transaction.atomic():
            key = f"{event}:{task.public_id}:{task.due_date.isoformat()}"
            if emit(event, obj=task, dedup_key=key, case=task.case.public_id):
                emitted += 1
    return emitted


@register_source
def expiring_participations(now: dt.datetime) -> int:
    emitted = 0
    due = CaseParticipation.objects.active(now).filter(expires_at__lte=now + SOON)
    for participation in due.select_related("case", "agency").iterator():
        key = (
            f"{EventType.PARTICIPATION_EXPIRING}:{participation.public_id}:"
            f"{participation.expires_at.isoformat()}"
        )
        with transaction.atomic():
            if emit(
                EventType.PARTICIPATION_EXPIRING,
                obj=participation.case,
                dedup_key=key,
                agency=participation.agency.public_id,
                participation=participation.public_id,
            ):
                emitted += 1
    return emitted


@register_source
def mla_response_deadlines(now: dt.datetime) -> int:
    """The response date asked of a request: judged in the requested agency's
    time zone (it is the one that must answer)."""
    horizon = (now + SOON).date() + dt.timedelta(days=1)
    emitted = 0
    requests = (
        MLARequest.objects.select_related("requested_agency")
        .exclude(status__in=["draft", *FINAL_MLA_STATUSES])
        .filter(response_due_date__isnull=False, response_due_date__lte=horizon)
    )
    for request in requests.iterator():
        tz_name = request.requested_agency.timezone
        event = _deadline_event(
            request.response_due_date, tz_name, now, EventType.MLA_DUE_SOON, EventType.MLA_OVERDUE
        )
        if event is None:
            continue
        with transaction.atomic():
            key = f"{event}:{request.public_id}:{request.response_due_date.isoformat()}"
            if emit(event, obj=request, dedup_key=key):
                emitted += 1
    return emitted
