"""The Celery application; settings come from Django's (CELERY_* names).

Configured from the environment (config/settings.py): `CELERY_BROKER_URL`
picks Redis (`redis://…`) or RabbitMQ (`amqp://…`); without it, tasks run
in-process (`task_always_eager`) so the app works with no broker at all.

Delivery is at-least-once at the broker and exactly-once in effect in the
database: tasks are acknowledged late (`acks_late`) and re-queued when their
worker dies (`task_reject_on_worker_lost`), each worker takes one message
at a time (prefetch 1), and every task is idempotent and bounded by an
attempt counter kept in the database (notifications.dispatch). A message
that exhausts its attempts becomes a dead letter: status `dead` with its
error on the `OutboxMessage` / `Delivery` row, and on RabbitMQ the broker
message is also rejected into the `casebridge.dead` queue (the work queue's
name + ".dead") through a dead-letter exchange; `manage.py check_outbox`
fails while anything is dead there or in the database.

Beat: Celery's own scheduler with `CELERY_BEAT_SCHEDULE` in settings, not
django-celery-beat. The jobs are fixed parts of the system, reviewed
with the code; a database-edited schedule would add tables, an admin and a
way to switch off the outbox sweeper by accident, for no benefit here.
"""

import logging
import os

from celery import Celery, bootsteps
from celery.signals import worker_init
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("casebridge")
app.config_from_object("django.conf:settings", namespace="CELERY")

DEAD_LETTER_EXCHANGE = "casebridge.dlx"


def dead_letter_queue() -> str:
    """`casebridge.dead` for the `casebridge` work queue: one per work queue,
    so that two deployments (or test runs) sharing a RabbitMQ keep theirs apart."""
    return f"{app.conf.task_default_queue}.dead"


def _is_rabbitmq() -> bool:
    return (app.conf.broker_url or "").startswith(("amqp://", "amqps://", "pyamqp://"))


def _configure_dead_lettering() -> None:
    """On RabbitMQ, the work queue dead-letters rejected messages to a DLX."""
    if not _is_rabbitmq():
        return
    name = app.conf.task_default_queue
    app.conf.task_queues = [
        Queue(
            name,
            Exchange(name, type="direct", durable=True),
            routing_key=name,
            queue_arguments={
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                "x-dead-letter-routing-key": dead_letter_queue(),
            },
        )
    ]


@worker_init.connect
def _declare_dead_letter_queue(**kwargs) -> None:
    # Declared, never consumed (so not in task_queues): a human inspects it.
    if not _is_rabbitmq():
        return
    dlx = Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)
    with app.connection_for_write() as connection:
        Queue(dead_letter_queue(), dlx, routing_key=dead_letter_queue())(
            connection.default_channel
        ).declare()


class SweepOnConnect(bootsteps.StartStopStep):
    """Ask for an outbox sweep each time the worker (re)connects to the broker.

    Celery restarts a consumer's steps after every lost connection, so this
    runs right after the broker comes back: what the web processes wrote
    during the outage (pending in the outbox) goes out now, not at the next
    beat tick (notifications.outbox.sweep).
    """

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, c) -> None:
        try:
            c.app.send_task("notifications.sweep_outbox", kwargs={"pending_after": 0})
        except Exception as exc:  # gone again: beat's sweep follows
            logging.getLogger(__name__).warning(
                "outbox sweep not requested on connect (%s)", type(exc).__name__
            )


_configure_dead_lettering()
app.steps["consumer"].add(SweepOnConnect)
app.autodiscover_tasks()
