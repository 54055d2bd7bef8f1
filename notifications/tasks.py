"""Celery tasks: thin wrappers that take ids and call `dispatch`, `outbox`,
`reminders` and the services. The top of the app: no module of it imports
this one but `apps` (to register the tasks); the outbox sends them by name.

Delivery guarantees come from the database (see `dispatch`), not from the
broker: tasks are acknowledged late and re-queued if their worker dies, and
a duplicate delivery of a task is harmless.
"""

from __future__ import annotations

import datetime as dt
import uuid

from celery import shared_task
from celery.exceptions import Reject
from django.conf import settings
from django.db import DatabaseError, InterfaceError

from audit import services as audit_services

from . import dispatch, outbox, reminders
from .dispatch import Outcome

# Infrastructure failures (database restarting, connection dropped) are
# retried by Celery itself, with exponential backoff and jitter, a bounded
# number of times; domain failures are counted in the database (dispatch).
INFRA_RETRY = {
    "autoretry_for": (DatabaseError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


def _after(task, result: dispatch.Result) -> str:
    if result.outcome is Outcome.RETRY and not task.request.is_eager:
        raise task.retry(countdown=result.countdown, max_retries=None)
    if result.outcome is Outcome.DEAD and not task.request.is_eager:
        # RabbitMQ: dead-lettered to the DLX queue (config/celery.py) for
        # inspection; Redis: dropped. The database row is the dead letter
        # either way, with its error.
        raise Reject("dead letter", requeue=False)
    return result.outcome.value


@shared_task(bind=True, name=outbox.DELIVER_MESSAGE, **INFRA_RETRY)
def deliver_message(self, message_id: str) -> str:
    result = dispatch.deliver_message(message_id)
    for delivery_id in result.webhook_ids:
        outbox.enqueue_webhook(delivery_id)
    return _after(self, result)


@shared_task(name=outbox.PUBLISH_MESSAGES, **INFRA_RETRY)
def publish_messages(message_ids: list[str]) -> int:
    """The messages of one commit, handed over in one go (`outbox.publish`)."""
    return outbox.publish_now([uuid.UUID(message_id) for message_id in message_ids])


@shared_task(bind=True, name=outbox.DELIVER_WEBHOOK, **INFRA_RETRY)
def deliver_webhook(self, delivery_id: int) -> str:
    return _after(self, dispatch.send_webhook(delivery_id))


@shared_task(name=outbox.SWEEP_OUTBOX, **INFRA_RETRY)
def sweep_outbox(pending_after: float | None = None) -> int:
    """Publish what the broker lost or refused, messages and webhook retries;
    `pending_after=0` right after the broker's return (`outbox.sweep`)."""
    published = outbox.sweep(
        pending_after=None if pending_after is None else dt.timedelta(seconds=pending_after)
    )
    older_than = dt.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS)
    for delivery_id in dispatch.stranded_webhooks(older_than=older_than):
        outbox.enqueue_webhook(delivery_id)
    return published


@shared_task(name="notifications.send_email_digests", **INFRA_RETRY)
def send_email_digests() -> int:
    return dispatch.send_email_digests()


@shared_task(name="notifications.deadline_reminders", **INFRA_RETRY)
def deadline_reminders() -> int:
    return reminders.run()


@shared_task(name="notifications.audit_checkpoint", **INFRA_RETRY)
def audit_checkpoint() -> str:
    """Signs the audit chain's head (`audit.services.record_checkpoint`)."""
    audit_services.record_checkpoint()
    return "ok"
