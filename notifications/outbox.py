"""The transactional outbox: `emit` inside the change's transaction, publish after it.

`emit` writes an `OutboxMessage` in the caller's transaction: if the change
rolls back, so does the message, and if it commits, the message exists even
if the broker is down. Publishing happens on commit and is best effort; the
sweeper (`sweep`, every NOTIFICATIONS_SWEEP_SECONDS from beat, and at once
when a worker reconnects to the broker or a publish works again after a
refusal) publishes whatever is still undelivered, so a broker outage or a
crash between commit and publish delays a message but never loses it.

The outbox hands work to Celery by task name (`DELIVER_MESSAGE`…), as the
worker's `SweepOnConnect` does: the tasks (`notifications.tasks`) call the
outbox and the dispatcher, which emits in turn, so naming the tasks is what
keeps these modules free of an import cycle. `NotificationsConfig.ready()`
imports the tasks, so every process knows them by name (and runs them
in-process when there is no broker).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Model, Q
from django.utils import timezone

from agencies.actors import Actor
from config.bulk import insert_rows
from config.celery import app
from config.outages import unreachable
from gate import port

from .choices import EventType, OutboxStatus
from .models import OutboxMessage
from .registry import object_type_of

logger = logging.getLogger(__name__)

#: The Celery tasks the outbox and the dead-letter tools hand work to.
DELIVER_MESSAGE = "notifications.deliver_message"
DELIVER_WEBHOOK = "notifications.deliver_webhook"
SWEEP_OUTBOX = "notifications.sweep_outbox"
PUBLISH_MESSAGES = "notifications.publish_messages"
#: More messages than this from one commit are handed to the broker as one
#: task that publishes them from a worker: a trace tells hundreds of agencies,
#: and a broker round trip for each held its request some 300 ms.
PUBLISH_IN_REQUEST = 20

_ID_TYPES = (uuid.UUID, str, int, dt.date)


def emit(
    event_type: str,
    *,
    obj: Model,
    actor: Actor | None = None,
    dedup_key: str | None = None,
    **ids: Any,
) -> OutboxMessage | None:
    """Record that `event_type` happened to `obj`; deliver it after commit.

    `ids` are identifiers only (public ids, codes), never content: the
    payload may outlive the recipient's access. With `dedup_key`, a second
    emit with the same key is a no-op and returns None (scheduled reminders).
    """
    message = _message(event_type, obj, actor, ids, dedup_key=dedup_key)
    if dedup_key is not None:
        if OutboxMessage.objects.filter(dedup_key=dedup_key).exists():
            return None
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            return None
    else:
        message.save(force_insert=True)
    transaction.on_commit(lambda: publish([message.pk]), robust=True)
    return message


def emit_many(
    event_type: str, events: list[tuple[Any, dict[str, Any]]], *, actor: Actor | None = None
) -> None:
    """`emit` for many objects in one INSERT: a search with a thousand matches,
    or 10,000 cases shared with one agency, must not cost a round trip (nor
    a model instance) per message. `events` pairs an object with its ids."""
    _check_event_type(event_type)
    if not events:
        return
    now = timezone.now()
    rows = []
    for obj, ids in events:
        _check_ids(ids)
        object_type = object_type_of(obj)
        rows.append(
            (
                uuid.uuid4(),
                object_type.name,
                obj.public_id,
                _payload(event_type, object_type.name, obj, ids, now),
            )
        )
    agency = port.agency_of(actor) if actor is not None else None
    insert_rows(
        OutboxMessage,
        ("id", "object_type", "object_id", "payload"),
        rows,
        same={
            "event_type": event_type,
            "agency_id": getattr(agency, "pk", None),
            "actor_id": actor.pk if actor is not None and actor.pk else None,
            "dedup_key": None,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "last_error": "",
            "created_at": now,
            "published_at": None,
            "next_attempt_at": None,
            "delivered_at": None,
        },
    )
    message_ids = [row[0] for row in rows]
    transaction.on_commit(lambda: publish(message_ids), robust=True)


# `EventType.values` builds a new list on each access; `emit_many` checks
# thousands of messages.
_EVENT_TYPES = frozenset(EventType.values)


def _check_event_type(event_type: str) -> None:
    if event_type not in _EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; add it to EventType")


def _check_ids(ids: dict[str, Any]) -> None:
    for name, value in ids.items():
        if not isinstance(value, _ID_TYPES) or (isinstance(value, str) and len(value) > 64):
            raise ValueError(f"{name}: outbox payloads hold identifiers, not content")


def _payload(
    event_type: str, object_type: str, obj: Any, ids: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    return {
        "type": event_type,
        "time": now.isoformat(),
        "object": {"type": object_type, "id": str(obj.public_id)},
        "ids": {name: str(value) for name, value in ids.items()},
    }


def _message(
    event_type: str,
    obj: Any,  # a model with a `public_id`
    actor: Actor | None,
    ids: dict[str, Any],
    dedup_key: str | None = None,
) -> OutboxMessage:
    _check_event_type(event_type)
    _check_ids(ids)
    object_type = object_type_of(obj)
    now = timezone.now()
    return OutboxMessage(
        event_type=event_type,
        object_type=object_type.name,
        object_id=obj.public_id,
        payload=_payload(event_type, object_type.name, obj, ids, now),
        agency=port.agency_of(actor) if actor is not None else None,
        actor=actor if actor is not None and actor.pk else None,
        dedup_key=dedup_key,
        created_at=now,
    )


# When the broker refuses (down, restarting, wrong credentials, no permission
# on the virtual host), each publish attempt can cost seconds of the request
# (the client's own retries). After one refusal this process stops trying for
# NOTIFICATIONS_PUBLISH_PAUSE_SECONDS: messages stay in the outbox, committed
# with the change, and the sweeper publishes them. One warning line when the
# outage starts and one when it ends, never a traceback per request.
_pause: dict[str, Any] = {"until": 0.0, "reason": ""}


def broker_paused() -> bool:
    until: float = _pause["until"]
    return time.monotonic() < until


def broker_refused(exc: BaseException) -> bool:
    """Pause publishing if `exc` is the broker refusing us (`config.outages`);
    False when it is something else, which the caller logs as a bug."""
    reason = unreachable(exc)
    if reason is None:
        return False
    seconds = settings.NOTIFICATIONS_PUBLISH_PAUSE_SECONDS
    if _pause["reason"]:
        logger.info("outbox: broker still unreachable: %s", reason)
    else:
        logger.warning(
            "outbox: broker unreachable: %s; publishing paused for %g s, "
            "messages stay in the outbox for the sweeper",
            reason,
            seconds,
        )
    _pause.update(until=time.monotonic() + seconds, reason=reason)
    return True


def _broker_back() -> None:
    """The first publish that works after a refusal: say so, and have a worker
    sweep now what the outage left behind instead of at the next beat."""
    if not _pause["reason"]:
        return
    _pause["reason"] = ""
    logger.warning("outbox: broker reachable again; sweeping the outbox now")
    _send(SWEEP_OUTBOX, [], {"pending_after": 0})


def _send(task_name: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> bool:
    """`apply_async` of the task `task_name`; False (and publishing paused)
    when the broker refuses."""
    try:
        app.tasks[task_name].apply_async(
            args=args,
            kwargs=kwargs,
            retry=True,
            retry_policy=settings.NOTIFICATIONS_PUBLISH_RETRY_POLICY,
        )
    except Exception as exc:
        if broker_refused(exc):
            return False
        raise
    return True


def enqueue_webhook(delivery_id: int) -> None:
    """Hand one webhook delivery to a worker; while the broker refuses, the
    sweeper finds the pending delivery later."""
    if broker_paused():
        return
    try:
        _send(DELIVER_WEBHOOK, [delivery_id])
    except Exception:
        logger.exception("webhook %s not published; left for the sweeper", delivery_id)


def publish(message_ids: list[uuid.UUID]) -> int:
    """Hand messages to the broker; what it refuses is left to the sweeper.
    Many at once go as one `PUBLISH_MESSAGES` task, which a worker turns into
    theirs (`publish_now`); until it has, they stay pending, so the sweeper
    finds them if that task is lost. The count is of those published here."""
    if len(message_ids) > PUBLISH_IN_REQUEST and not broker_paused():
        _send(PUBLISH_MESSAGES, [[str(message_id) for message_id in message_ids]])
        return 0
    return publish_now(message_ids)


def publish_now(message_ids: list[uuid.UUID]) -> int:
    """`publish`, each message its own task, whatever their number."""
    return len(_publish(message_ids))


def _publish(message_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    published = []
    for message_id in message_ids:
        if broker_paused():
            break
        try:
            if not _send(DELIVER_MESSAGE, [str(message_id)]):
                break
        except Exception:
            logger.exception("outbox: publishing %s failed; left for the sweeper", message_id)
            continue
        published.append(message_id)
    if published:
        OutboxMessage.objects.filter(pk__in=published, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.PUBLISHED, published_at=timezone.now()
        )
        _broker_back()
    return published


def sweep(
    *,
    older_than: dt.timedelta | None = None,
    pending_after: dt.timedelta | None = None,
    limit: int = 500,
) -> int:
    """Publish again every undelivered message left alone for a while.

    A message never handed to the broker (pending: the broker refused, or
    the process died after the commit) is due after
    NOTIFICATIONS_SWEEP_PENDING_AFTER_SECONDS (`pending_after`: at once
    when the broker has just come back), so that delivery resumes within
    seconds of the broker's return; one the broker took (published)
    only after `older_than` (NOTIFICATIONS_SWEEP_AFTER_SECONDS), as it may
    just be queued behind others. Rows are claimed with SELECT … FOR UPDATE
    SKIP LOCKED, so two sweepers never fight over a row; claiming stamps
    `published_at` (undone for what the broker then refuses), so the next
    sweep leaves them alone for a while. A message published twice is
    harmless: delivery is idempotent.
    """
    if broker_paused():
        return 0
    if older_than is None:
        older_than = dt.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS)
    now = timezone.now()
    cutoff = now - older_than
    if pending_after is None:
        pending_after = dt.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_PENDING_AFTER_SECONDS)
    soon = now - min(older_than, pending_after)
    due = (Q(status=OutboxStatus.PENDING, created_at__lte=soon) & ~Q(published_at__gt=soon)) | (
        Q(status=OutboxStatus.PUBLISHED, created_at__lte=cutoff) & ~Q(published_at__gt=cutoff)
    )
    with transaction.atomic():
        claimed = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(due)
            .exclude(next_attempt_at__gt=now)
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        OutboxMessage.objects.filter(pk__in=claimed).update(published_at=now)
    if not claimed:
        return 0
    published = _publish(claimed)
    if len(published) < len(claimed):  # refused: due again at the next sweep
        left = set(claimed).difference(published)
        OutboxMessage.objects.filter(pk__in=left, published_at=now).update(published_at=None)
    logger.info("outbox sweep: %d undelivered, %d published", len(claimed), len(published))
    return len(published)


@dataclass(frozen=True)
class Backlog:
    overdue: int
    oldest: dt.datetime | None


def backlog(*, older_than: dt.timedelta) -> Backlog:
    """Undelivered messages that have been due for longer than `older_than`.

    The sweeper retries quietly, so nothing else notices workers that are
    down, or up but no longer consuming (a Celery worker can lose its broker
    and not come back): users just stop being told. A message waiting for its
    own retry time is not overdue until that time is `older_than` past.
    `manage.py check_outbox` turns this into an exit code for monitoring.
    """
    cutoff = timezone.now() - older_than
    figures = (
        OutboxMessage.objects.filter(
            status__in=[OutboxStatus.PENDING, OutboxStatus.PUBLISHED], created_at__lte=cutoff
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=cutoff))
        .aggregate(overdue=Count("pk"), oldest=Min("created_at"))
    )
    return Backlog(**figures)
