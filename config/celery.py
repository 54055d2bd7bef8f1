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
message is also rejected into the `casebridge.dead` queue through a
dead-letter exchange.

Beat: Celery's own scheduler with `CELERY_BEAT_SCHEDULE` in settings, not
django-celery-beat. The jobs are fixed parts of the system, reviewed
with the code; a database-edited schedule would add tables, an admin and a
way to switch off the outbox sweeper by accident, for no benefit here.
"""

import os

from celery import Celery
from celery.signals import worker_init
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("casebridge")
app.config_from_object("django.conf:settings", namespace="CELERY")

DEAD_LETTER_EXCHANGE = "casebridge.dlx"
DEAD_LETTER_QUEUE = "casebridge.dead"


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
                "x-dead-letter-routing-key": DEAD_LETTER_QUEUE,
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
        Queue(DEAD_LETTER_QUEUE, dlx, routing_key=DEAD_LETTER_QUEUE)(
            connection.default_channel
        ).declare()


_configure_dead_lettering()
app.autodiscover_tasks()
