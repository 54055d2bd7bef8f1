"""Celery tasks: thin wrappers that take ids and call `dispatch`, `outbox`,
`reminders` and the services.

Delivery guarantees come from the database (see `dispatch`), not from the
broker: tasks are acknowledged late and re-queued if their worker dies, and
a duplicate delivery of a task is harmless.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from celery.exceptions import Reject
from django.conf import settings
from django.db import DatabaseError, InterfaceError

from . import dispatch, outbox, reminders
from .dispatch import Outcome

logger = logging.getLogger(__name__)

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


@shared_task(bind=True, name="notifications.deliver_message", **INFRA_RETRY)
def deliver_message(self, message_id: str) -> str:
    result = dispatch.deliver_message(message_id)
    for delivery_id in result.webhook_ids:
        _enqueue_webhook(delivery_id)
    return _after(self, result)


@shared_task(bind=True, name="notifications.deliver_webhook", **INFRA_RETRY)
def deliver_webhook(self, delivery_id: int) -> str:
    return _after(self, dispatch.send_webhook(delivery_id))


def _enqueue_webhook(delivery_id: int, countdown: float = 0) -> None:
    if outbox.broker_paused():
        return
    try:
        deliver_webhook.apply_async(
            args=[delivery_id],
            countdown=countdown or None,
            retry=True,
            retry_policy=settings.NOTIFICATIONS_PUBLISH_RETRY_POLICY,
        )
    except Exception as exc:  # broker down: the sweeper finds the pending delivery
        logger.warning("webhook %s not published (%s); left for the sweeper", delivery_id, exc)
        outbox.pause_broker()


@shared_task(name="notifications.sweep_outbox", **INFRA_RETRY)
def sweep_outbox() -> int:
    """Every minute: publish what the broker lost, messages and webhook retries."""
    published = outbox.sweep()
    older_than = dt.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS)
    for delivery_id in dispatch.stranded_webhooks(older_than=older_than):
        _enqueue_webhook(delivery_id)
    return published


@shared_task(name="notifications.send_email_digests", **INFRA_RETRY)
def send_email_digests() -> int:
    return dispatch.send_email_digests()


@shared_task(name="notifications.deadline_reminders", **INFRA_RETRY)
def deadline_reminders() -> int:
    return reminders.run()


@shared_task(name="notifications.expire_participations", **INFRA_RETRY)
def expire_participations() -> int:
    from cases.services import expire_participations as expire

    return expire()


@shared_task(name="notifications.audit_checkpoint", **INFRA_RETRY)
def audit_checkpoint() -> str:
    """Calls the audit app's checkpoint once that app is installed."""
    from django.apps import apps

    if not apps.is_installed("audit"):
        return "audit app not installed"
    from audit import services as audit_services

    audit_services.record_checkpoint()
    return "ok"
