"""Dead letters: what could not be delivered, listed until an operator acts.

Three kinds, all in the database so that one query answers "is anything
dead?" (`alarms`, behind `manage.py check_outbox`) on Redis and RabbitMQ
alike:

* an `OutboxMessage` with status `dead`: its delivery failed the bounded
  number of times (`dispatch`), with its last error;
* a `DeadLetter`: a broker message the worker dropped before any delivery
  (unknown task, unreadable body, an id naming no row), recorded rather than
  acknowledged in silence;
* on RabbitMQ, messages sitting in the `casebridge.dead` queue (rejected by
  the worker into the dead-letter exchange): `drain_dead_queue` turns each
  into one of the above, so the queue never holds the only trace.

`redrive` hands dead outbox messages to the broker again (delivery is
idempotent, so a message delivered meanwhile is not told twice); `dismiss`
is the operator giving up on what cannot be delivered.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from amqp.exceptions import NotFound
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.celery import _is_rabbitmq, app, dead_letter_queue
from config.outages import unreachable

from . import outbox
from .choices import Channel, DeliveryStatus, OutboxStatus
from .models import DeadLetter, Delivery, OutboxMessage
from .outbox import DELIVER_MESSAGE, DELIVER_WEBHOOK

logger = logging.getLogger(__name__)

BODY_LIMIT = 2000


def record(*, reason: str, task: str = "", body: Any = "", key: str | None = None) -> DeadLetter:
    """Record a dropped message once (by `key`, else by a digest of what it was)."""
    text = body if isinstance(body, str) else _dump(body)
    # PostgreSQL's text refuses NUL, which a binary body (pickle) has.
    text = text.replace("\x00", "\\x00")[:BODY_LIMIT]
    if not key:
        key = hashlib.sha256(f"{task}\0{text}".encode()).hexdigest()
    logger.error("dead letter %s (%s): %s", key, task or "no task", reason)
    try:
        with transaction.atomic():
            letter, _ = DeadLetter.objects.get_or_create(
                key=key[:64], defaults={"task": task[:200], "reason": reason[:500], "body": text}
            )
    except IntegrityError:  # recorded by a concurrent worker
        letter = DeadLetter.objects.get(key=key[:64])
    return letter


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


def as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- what check_outbox reports ----------------------------------------------


@dataclass
class Alarms:
    dead: list[OutboxMessage] = field(default_factory=list)
    dead_total: int = 0
    dropped: list[DeadLetter] = field(default_factory=list)
    dropped_total: int = 0
    queued: int = 0  # messages in RabbitMQ's casebridge.dead
    queue_error: str = ""  # why the queue could not be read

    def __bool__(self) -> bool:
        return bool(self.dead_total or self.dropped_total or self.queued)


def alarms(*, show: int = 20) -> Alarms:
    dead = OutboxMessage.objects.filter(status=OutboxStatus.DEAD).order_by("created_at")
    dropped = DeadLetter.objects.filter(dismissed_at__isnull=True)
    found = Alarms(
        dead=list(dead[:show]),
        dead_total=dead.count(),
        dropped=list(dropped[:show]),
        dropped_total=dropped.count(),
    )
    try:
        found.queued = dead_queue_count()
    except Exception as exc:
        reason = unreachable(exc)
        if reason is None:
            raise
        found.queue_error = reason
    return found


# --- RabbitMQ's dead-letter queue -------------------------------------------


def _dead_queue_in_use() -> bool:
    return _is_rabbitmq() and not app.conf.task_always_eager


def dead_queue_count() -> int:
    """Messages in `casebridge.dead` (0 on Redis, or before any worker declared it)."""
    if not _dead_queue_in_use():
        return 0
    with app.connection_for_write() as connection:
        try:
            _, count, _ = connection.default_channel.queue_declare(
                queue=dead_letter_queue(), passive=True
            )
        except NotFound:
            return 0
    return count


def drain_dead_queue() -> tuple[set[uuid.UUID], list[int], list[DeadLetter]]:
    """Empty `casebridge.dead` into the database: the outbox messages and
    webhook deliveries its messages name (to re-drive), and a `DeadLetter`
    for every message that names neither. Each message is acknowledged only
    after it is accounted for."""
    messages: set[uuid.UUID] = set()
    webhooks: list[int] = []
    letters: list[DeadLetter] = []
    if not _dead_queue_in_use() or not dead_queue_count():
        return messages, webhooks, letters
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(queue=dead_letter_queue(), no_ack=False)) is not None:
            headers = message.headers or {}
            task = str(headers.get("task", ""))
            first = _first_arg(message.body)
            pk = as_uuid(first) if task == DELIVER_MESSAGE else None
            if pk is not None and OutboxMessage.objects.filter(pk=pk).exists():
                messages.add(pk)
                channel.basic_ack(message.delivery_tag)
                continue
            if (
                task == DELIVER_WEBHOOK
                and isinstance(first, int)
                and Delivery.objects.filter(pk=first, channel=Channel.WEBHOOK).exists()
            ):
                webhooks.append(first)
                channel.basic_ack(message.delivery_tag)
                continue
            body = message.body or ""
            if isinstance(body, bytes):
                body = body.decode(errors="replace")
            letters.append(
                record(
                    reason="found in the broker's dead-letter queue, naming nothing to deliver",
                    task=task,
                    body=body,
                    key=str(headers.get("id") or "") or None,
                )
            )
            channel.basic_ack(message.delivery_tag)
    return messages, webhooks, letters


def _first_arg(body: bytes | str | None) -> Any:
    """The first positional argument of a Celery (protocol 2, JSON) task body."""
    try:
        args = json.loads(body or b"")[0]
        return args[0] if args else None
    except (ValueError, TypeError, IndexError, KeyError):
        return None


# --- operator actions --------------------------------------------------------


@transaction.atomic
def _reopen(ids: set[uuid.UUID] | None) -> list[uuid.UUID]:
    rows = OutboxMessage.objects.select_for_update().filter(status=OutboxStatus.DEAD)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    reopened = list(rows.values_list("pk", flat=True))
    OutboxMessage.objects.filter(pk__in=reopened).update(
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=None, published_at=None
    )
    return reopened


def redrive(ids: set[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Drain RabbitMQ's dead-letter queue, then give every dead outbox message
    (or those of `ids`) a fresh set of attempts and publish it; the sweeper
    publishes what the broker refuses now. Returns the re-driven ids."""
    _, webhooks, _ = drain_dead_queue()
    reopened = _reopen(ids)
    revived = Delivery.objects.filter(pk__in=webhooks, status=DeliveryStatus.DEAD)
    revived_ids = list(revived.values_list("pk", flat=True))
    revived.update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None)
    outbox.publish(reopened)
    for delivery_id in revived_ids:
        outbox.enqueue_webhook(delivery_id)
    return reopened


def dismiss(*, messages: set[uuid.UUID] | None = None, letters: set[int] | None = None) -> int:
    """Give up on dead outbox messages and dropped-message records (all of
    them when neither is named): they stay for the record, without alarm."""
    now = timezone.now()
    dead = OutboxMessage.objects.filter(status=OutboxStatus.DEAD)
    dropped = DeadLetter.objects.filter(dismissed_at__isnull=True)
    if messages is not None or letters is not None:
        dead = dead.filter(pk__in=messages or ())
        dropped = dropped.filter(pk__in=letters or ())
    return dead.update(status=OutboxStatus.DISMISSED) + dropped.update(dismissed_at=now)
