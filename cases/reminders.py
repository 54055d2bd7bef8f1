"""The case domain's deadlines, told by `notifications.reminders` every hour.

Registered as deadline sources when the cases app is ready (`cases.apps`).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from notifications.choices import EventType
from notifications.outbox import emit
from notifications.reminders import SOON, deadline_event, register_source

from .models import CaseParticipation, MLARequest, Task
from .models.mla import FINAL_STATUSES as FINAL_MLA_STATUSES
from .services import FINAL_TASK_STATUSES


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
        event = deadline_event(
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
        event = deadline_event(
            request.response_due_date, tz_name, now, EventType.MLA_DUE_SOON, EventType.MLA_OVERDUE
        )
        if event is None:
            continue
        with transaction.atomic():
            key = f"{event}:{request.public_id}:{request.response_due_date.isoformat()}"
            if emit(event, obj=request, dedup_key=key):
                emitted += 1
    return emitted
