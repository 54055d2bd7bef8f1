"""Turning an outbox message into notifications, e-mails and webhook POSTs.

Called by the Celery tasks (`notifications.tasks`), which hold no logic.
Three guarantees:

* **Recipients at delivery time**: the audience is computed now, and every
  user and agency is checked against the permission gate now, so access
  lost between the event and its delivery means no notification.
* **Idempotent**: the message row is locked while it fans out; every
  (message, recipient) is a unique `Notification` (the in-app notification
  and the user's e-mail line) and every (message, endpoint) a unique webhook
  `Delivery`, written in the same transaction as the message's `delivered`
  status, so a redelivered task finds the work done.
* **Bounded**: each delivery attempt is counted in its own committed
  transaction *before* the work, so even a message that kills its worker
  every time reaches the dead-letter status after N attempts instead of
  looping forever.
"""

from __future__ import annotations

import enum
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.bulk import insert_rows

from . import deadletters, webhooks
from .choices import Channel, DeliveryStatus, EventType, OutboxStatus
from .models import Delivery, Notification, OutboxMessage, WebhookDelivery, WebhookEndpoint
from .outbox import DELIVER_MESSAGE, DELIVER_WEBHOOK, emit
from .registry import audience_for, object_type_named
from .rendering import facts_of, language_of, render_in

logger = logging.getLogger(__name__)


class Outcome(enum.Enum):
    DONE = "done"
    RETRY = "retry"
    DEAD = "dead"
    DROPPED = "dropped"  # names nothing deliverable: recorded as a DeadLetter


@dataclass
class Result:
    outcome: Outcome
    countdown: float = 0.0
    webhook_ids: tuple[int, ...] = ()


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, then a random
    half of it, so retries of a burst of failures do not arrive together."""
    delay = min(
        settings.NOTIFICATIONS_RETRY_MAX_SECONDS,
        settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0),
    )
    # Jitter, not security: the standard generator is right here.
    return random.uniform(delay / 2, delay)  # noqa: S311  # nosec B311


def load_object(message: OutboxMessage):
    object_type = object_type_named(message.object_type)
    objects = object_type.model.objects.select_related(*object_type.load_related)
    return object_type, objects.filter(public_id=message.object_id).first()


# --- outbox messages --------------------------------------------------------


def _claim_attempt(message_id: str) -> int | None:
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(
            pk=message_id, status__in=[OutboxStatus.PENDING, OutboxStatus.PUBLISHED]
        ).update(attempts=F("attempts") + 1)
    if not updated:
        return None  # delivered, dead, or unknown: nothing to do
    return OutboxMessage.objects.values_list("attempts", flat=True).get(pk=message_id)


def deliver_message(message_id: str) -> Result:
    if deadletters.as_uuid(message_id) is None:
        return _drop(DELIVER_MESSAGE, message_id, "not an outbox message id")
    attempt = _claim_attempt(message_id)
    if attempt is None:
        if not OutboxMessage.objects.filter(pk=message_id).exists():
            return _drop(DELIVER_MESSAGE, message_id, "no outbox message with this id")
        return Result(Outcome.DONE)  # delivered or dead already
    max_attempts = settings.NOTIFICATIONS_MAX_ATTEMPTS
    if attempt > max_attempts:
        _fail(message_id, attempt, f"gave up: delivery started {attempt} times without finishing")
        return Result(Outcome.DEAD)
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.select_for_update().get(pk=message_id)
            if message.is_final:
                return Result(Outcome.DONE)
            webhook_ids = fan_out(message)
            message.status = OutboxStatus.DELIVERED
            message.delivered_at = timezone.now()
            message.next_attempt_at = None
            message.save(update_fields=["status", "delivered_at", "next_attempt_at"])
    except Exception as exc:
        logger.exception("outbox: delivering %s failed (attempt %d)", message_id, attempt)
        error = f"{type(exc).__name__}: {exc}"
        if attempt >= max_attempts:
            _fail(message_id, attempt, error)
            return Result(Outcome.DEAD)
        countdown = backoff(attempt)
        OutboxMessage.objects.filter(pk=message_id).update(
            last_error=error[:2000],
            next_attempt_at=timezone.now() + timedelta(seconds=countdown),
        )
        return Result(Outcome.RETRY, countdown)
    return Result(Outcome.DONE, webhook_ids=tuple(webhook_ids))


def _drop(task: str, argument, reason: str) -> Result:
    """A task naming nothing deliverable is recorded, not acknowledged in silence."""
    deadletters.record(reason=reason, task=task, body=[argument])
    return Result(Outcome.DROPPED)


def _fail(message_id: str, attempt: int, error: str) -> None:
    logger.error("outbox: %s is a dead letter after %d attempts: %s", message_id, attempt, error)
    OutboxMessage.objects.filter(pk=message_id).exclude(status=OutboxStatus.DELIVERED).update(
        status=OutboxStatus.DEAD, last_error=error[:2000], next_attempt_at=None
    )


def fan_out(message: OutboxMessage) -> list[int]:
    """Write the notifications of `message` (in-app, each with its pending
    e-mail line if the user has an address) and its pending webhook
    deliveries; return the webhook deliveries to send.

    Set-based, so that the cost per message barely grows with its audience:
    the audience's visibility is asked of the gate in a few queries for all
    candidates, each text is rendered once per language, and every row is
    written by a multi-row INSERT. About a dozen queries per message, for one
    recipient or for thousands (tests/notifications/test_fan_out.py).
    """
    object_type, obj = load_object(message)
    if obj is None:
        return []  # the object is gone: nobody can be told about it
    audience = audience_for(message.event_type)(message, obj)
    now = timezone.now()

    candidates: dict[int, object] = {}
    for user in audience.users:
        if user.pk != message.actor_id:
            candidates.setdefault(user.pk, user)
    visible = object_type.visible_user_ids(list(candidates.values()), obj)
    users = [user for pk, user in candidates.items() if pk in visible]
    # The languages of audiences listed as `User`s (`Member`s carry theirs), in one query.
    prefetch_related_objects([u for u in users if hasattr(u, "_meta")], "membership")

    # Codes, not words: each recipient's text is rendered from them, now in
    # their language, and again in the admin in the reader's language.
    data = facts_of(message, object_type, obj) if users else {}

    # One row per recipient: the notification is the in-app delivery and
    # carries the e-mail line (`email_status`); its unique (message, recipient)
    # key makes a redelivery write nothing, on either channel.
    texts: dict[str, str] = {}
    notifications = []
    for user in users:
        language = language_of(user)
        if language not in texts:
            texts[language] = render_in(language, message.event_type, data)
        email = DeliveryStatus.PENDING if user.email else ""
        notifications.append((uuid.uuid4(), user.pk, texts[language], email))
    _insert(
        Notification,
        ("public_id", "recipient_id", "text", "email_status"),
        notifications,
        same={
            "message_id": message.pk,
            "kind": message.event_type,
            "object_type": message.object_type,
            "object_id": message.object_id,
            "data": data,
            "read_at": None,
            "created_at": now,
            "updated_at": now,
        },
        unique=("message_id", "recipient_id"),
    )

    # Webhooks: the endpoints first, so that the gate is asked only about
    # agencies that have one (most have none).
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            agency__in=[a.pk for a in audience.agencies], active=True
        )
        if endpoint.wants(message.event_type)
    ]
    if endpoints:
        agencies = [a for a in audience.agencies if a.pk in {e.agency_id for e in endpoints}]
        seeing = object_type.visible_agency_ids(agencies, obj)
        endpoints = [endpoint for endpoint in endpoints if endpoint.agency_id in seeing]
    rows = [
        (Channel.WEBHOOK, Delivery.key_for(endpoint=endpoint), endpoint.pk, DeliveryStatus.PENDING)
        for endpoint in endpoints
    ]
    # Only the deliveries this INSERT created are sent: a redelivered
    # message finds them all and sends nothing twice.
    return [
        pk
        for (pk,) in _insert(
            Delivery,
            ("channel", "recipient_key", "endpoint_id", "status"),
            rows,
            same={
                "message_id": message.pk,
                "user_id": None,
                "attempts": 0,
                "last_error": "",
                "next_attempt_at": None,
                "created_at": now,
                "delivered_at": None,
            },
            unique=("message_id", "channel", "recipient_key"),
            returning=("id",),
        )
    ]


#: One statement per table, no model instance per row (`config.bulk`).
_insert = insert_rows


# --- webhooks ---------------------------------------------------------------


def send_webhook(delivery_id: int) -> Result:
    """One POST attempt of one webhook delivery, logged.

    The delivery row stays locked during the POST (bounded by the timeout),
    so a duplicate task skips it rather than posting twice. A worker killed
    after the partner answered but before the commit sends it again: partner
    systems deduplicate on the event id (`id`) or `X-Casebridge-Delivery`.
    """
    if not isinstance(delivery_id, int):
        return _drop(DELIVER_WEBHOOK, delivery_id, "not a webhook delivery id")
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint__agency", "message")
            .filter(pk=delivery_id, channel=Channel.WEBHOOK, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            if not Delivery.objects.filter(pk=delivery_id, channel=Channel.WEBHOOK).exists():
                return _drop(DELIVER_WEBHOOK, delivery_id, "no webhook delivery with this id")
            return Result(Outcome.DONE)  # sent, dead, or being sent by another worker
        endpoint, message = delivery.endpoint, delivery.message
        object_type, obj = load_object(message)
        # Checked again at send time: a revoke that raced with the fan-out wins.
        if not endpoint.active:
            return _skip(delivery, "endpoint disabled")
        if obj is None or not object_type.agency_can_see(endpoint.agency, obj):
            return _skip(delivery, "the agency no longer sees the object")

        delivery.attempts += 1
        result = webhooks.post(
            endpoint.url,
            secret=endpoint.secret,
            payload=webhooks.payload_for(message, object_type),
            delivery_id=delivery.pk,
        )
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            message=message,
            delivery=delivery,
            attempt=delivery.attempts,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
        )
        now = timezone.now()
        if result.ok:
            delivery.status, delivery.delivered_at = DeliveryStatus.SENT, now
            delivery.last_error, delivery.next_attempt_at = "", None
            delivery.save()
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
            return Result(Outcome.DONE)

        delivery.last_error = result.error or f"HTTP {result.status_code}"
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        endpoint.refresh_from_db(fields=["consecutive_failures", "active"])
        if (
            endpoint.active
            and endpoint.consecutive_failures >= settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER
        ):
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_at=now)
            emit(EventType.WEBHOOK_DISABLED, obj=endpoint)
            delivery.status = DeliveryStatus.DEAD
            delivery.save()
            return Result(Outcome.DEAD)
        if delivery.attempts >= settings.NOTIFICATIONS_WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.DEAD
            delivery.save()
            return Result(Outcome.DEAD)
        countdown = backoff(delivery.attempts)
        delivery.next_attempt_at = now + timedelta(seconds=countdown)
        delivery.save()
        return Result(Outcome.RETRY, countdown)


def _skip(delivery: Delivery, reason: str) -> Result:
    delivery.status, delivery.last_error = DeliveryStatus.SKIPPED, reason
    delivery.save(update_fields=["status", "last_error"])
    return Result(Outcome.DONE)


def stranded_webhooks(*, older_than: timedelta, limit: int = 500) -> list[int]:
    """Pending webhook deliveries whose retry the broker lost."""
    cutoff = timezone.now() - older_than
    return list(
        Delivery.objects.filter(channel=Channel.WEBHOOK, status=DeliveryStatus.PENDING)
        .filter(created_at__lte=cutoff)
        .exclude(next_attempt_at__gt=cutoff)
        .values_list("pk", flat=True)[:limit]
    )


# --- e-mail digests ---------------------------------------------------------


def send_email_digests() -> int:
    """One e-mail per user with everything pending for them.

    The lines are the user's notifications whose `email_status` is pending,
    with their text (rendered in the user's language at delivery). Each
    user's rows are locked (SKIP LOCKED: two runs never send the same lines)
    and marked sent in the transaction that sends the mail; a failed send
    rolls back and the lines wait for the next run. Visibility is checked
    once more: lines about objects the user lost access to are dropped
    (skipped).
    """
    sent = 0
    # A digest run tells many users of the same few objects: each object is
    # loaded once per run and each user's access checked once per object (in
    # the user's transaction, at send time).
    objects: dict[tuple[str, str], tuple] = {}
    user_ids = (
        Notification.objects.filter(email_status=DeliveryStatus.PENDING)
        .order_by()  # the model's ordering would make DISTINCT one row per line
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for user_id in list(user_ids):
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient__membership")
                .filter(email_status=DeliveryStatus.PENDING, recipient_id=user_id)
                .order_by("created_at", "pk")
            )
            if not rows:
                continue
            user = rows[0].recipient
            sees: dict[tuple[str, str], bool] = {}
            lines, shown, dropped = [], [], []
            for notification in rows:
                key = (notification.object_type, str(notification.object_id))
                if key not in objects:
                    object_type = object_type_named(notification.object_type)
                    obj = object_type.model.objects.filter(public_id=notification.object_id).first()
                    objects[key] = (object_type, obj)
                object_type, obj = objects[key]
                if key not in sees:
                    sees[key] = obj is not None and object_type.user_can_see(user, obj)
                if sees[key] and user.email:
                    lines.append(notification.text)
                    shown.append(notification.pk)
                else:
                    dropped.append(notification.pk)
            if lines:
                _send_digest(user, lines)
                sent += 1
            pending = Notification.objects.filter(email_status=DeliveryStatus.PENDING)
            pending.filter(pk__in=shown).update(email_status=DeliveryStatus.SENT)
            pending.filter(pk__in=dropped).update(email_status=DeliveryStatus.SKIPPED)
    return sent


def _send_digest(user, lines: list[str]) -> None:
    with translation.override(language_of(user)):
        subject = ngettext(
            "Casebridge: %(n)d new notification", "Casebridge: %(n)d new notifications", len(lines)
        ) % {"n": len(lines)}
        body = "\n".join(
            [
                *(f"- {line}" for line in lines),
                "",
                _("Open Casebridge to read them: %(url)s")
                % {"url": settings.CASEBRIDGE_BASE_URL.rstrip("/") + "/"},
            ]
        )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
