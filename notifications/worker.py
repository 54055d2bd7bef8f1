"""The worker's side of dead letters: what Celery would drop is recorded.

Celery acknowledges or rejects, with one log line, a message for a task it
does not know, a message it cannot read, and a task that fails outright
(wrong arguments): on Redis the message is gone, on RabbitMQ a rejected one
waits in `casebridge.dead` where nobody looks. Each becomes a `DeadLetter`
instead (`notifications.deadletters`), which `check_outbox` reports: the
signals are connected in `NotificationsConfig.ready` (only a worker sends
them), and a body Celery cannot decode at all, which no signal reports,
through the worker's consumer class (`Consumer`, CELERY_WORKER_CONSUMER).
"""

from __future__ import annotations

import logging

from celery.exceptions import Ignore, Reject, Retry
from celery.signals import task_failure, task_rejected, task_unknown
from celery.worker.consumer import Consumer as CeleryConsumer
from django.db import DatabaseError

from . import deadletters

logger = logging.getLogger(__name__)


def _body(message) -> str:
    body = getattr(message, "body", b"")
    return body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")


def _record(**fields) -> None:
    try:
        deadletters.record(**fields)
    except DatabaseError:  # the database is down too: the log line is all there is
        logger.exception("dead letter not recorded: %s", fields.get("reason"))


@task_unknown.connect
def _unknown_task(sender=None, name="", id="", message=None, exc=None, **kwargs) -> None:
    _record(reason="unknown task", task=name or "", body=_body(message), key=id or None)


@task_rejected.connect
def _unreadable(sender=None, message=None, exc=None, **kwargs) -> None:
    reason = f"unreadable message ({type(exc).__name__})" if exc else "not a task message"
    headers = getattr(message, "headers", None) or {}
    _record(
        reason=reason,
        task=str(headers.get("task", "")),
        body=_body(message),
        key=str(headers.get("id") or "") or None,
    )


@task_failure.connect
def _failed(sender=None, task_id=None, exception=None, args=None, kwargs=None, **extra) -> None:
    name = getattr(sender, "name", "") or ""
    if not name.startswith("notifications.") or isinstance(exception, Reject | Retry | Ignore):
        return  # a dead outbox row is its own record
    _record(
        reason=f"task failed: {type(exception).__name__}",
        task=name,
        body={"args": args, "kwargs": kwargs},
        key=task_id,
    )


class Consumer(CeleryConsumer):
    """Celery's consumer, recording the message it acknowledges undecoded."""

    def on_decode_error(self, message, exc) -> None:
        headers = getattr(message, "headers", None) or {}
        _record(
            reason=f"unreadable message ({type(exc).__name__})",
            task=str(headers.get("task", "")),
            body=_body(message),
            key=str(headers.get("id") or "") or None,
        )
        super().on_decode_error(message, exc)
