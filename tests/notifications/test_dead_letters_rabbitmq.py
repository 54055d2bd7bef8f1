"""Dead letters on RabbitMQ, through the production commands: `check_outbox`
fails listing what is dead (outbox rows, dropped messages, the dead-letter
queue) and `redrive_outbox` clears the queue into the database."""

import json
import subprocess
import sys
import uuid

import pytest
from kombu import Connection

from notifications.choices import OutboxStatus
from notifications.models import DeadLetter, OutboxMessage

from .harness import ROOT, Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture(scope="module")
def rabbit_env(worker_env):
    queue = f"cb-dead-test-{uuid.uuid4().hex[:8]}"
    env = {**worker_env, "CELERY_BROKER_URL": RABBITMQ, "CELERY_TASK_DEFAULT_QUEUE": queue}
    yield env
    with Connection(RABBITMQ) as conn:
        for name in (queue, f"{queue}.dead"):
            conn.default_channel.queue_delete(name)


@pytest.fixture(scope="module")
def rabbit_worker(rabbit_env, tmp_path_factory):
    worker = Worker(
        env=rabbit_env,
        queue=rabbit_env["CELERY_TASK_DEFAULT_QUEUE"],
        log=tmp_path_factory.mktemp("rabbit") / "log",
        concurrency=2,
    )
    worker.start()
    yield worker
    worker.stop()


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def queued(queue: str) -> int:
    with Connection(RABBITMQ) as conn:
        return conn.default_channel.queue_declare(queue=queue, passive=True)[1]


def send_raw(queue: str, body, headers: dict | None, serializer: str = "json") -> None:
    """A message on the work queue as a foreign or broken producer would send it."""
    with Connection(RABBITMQ) as conn:
        conn.Producer().publish(
            body, exchange=queue, routing_key=queue, headers=headers, serializer=serializer
        )


def test_dead_and_dropped_messages_fail_check_outbox_until_redriven_or_dismissed(
    rabbit_env, rabbit_worker, shared_case
):
    queue = rabbit_env["CELERY_TASK_DEFAULT_QUEUE"]
    OutboxMessage.objects.all().delete()  # the fixtures' share, never published here
    poison = OutboxMessage.objects.create(
        event_type="test.poison",
        object_type="case",
        object_id=shared_case.public_id,
        status=OutboxStatus.DEAD,
    )
    # Re-driven, it dies again: three attempts, then rejected into the DLX.
    redrive = manage(rabbit_env, "redrive_outbox", "--id", str(poison.pk))
    assert redrive.returncode == 0, redrive.stderr
    assert wait_until(lambda: queued(f"{queue}.dead") == 1, timeout=30), rabbit_worker.tail()
    poison.refresh_from_db()
    assert (poison.status, poison.attempts) == (OutboxStatus.DEAD, 3)

    unknown_task = str(uuid.uuid4())
    send_raw(queue, [[], {}, {}], {"task": "notifications.no_such_task", "id": unknown_task})
    send_raw(queue, [[str(uuid.uuid4())], {}, {}], {"task": "notifications.deliver_message",
                                                   "id": str(uuid.uuid4())})  # fmt: skip
    send_raw(queue, {"not": "a task"}, None)
    send_raw(queue, {"a": "pickle"}, None, serializer="pickle")  # refused content type
    assert wait_until(lambda: DeadLetter.objects.count() == 4, timeout=30), list(
        DeadLetter.objects.values_list("task", "reason")
    )

    check = manage(rabbit_env, "check_outbox")
    assert check.returncode != 0
    assert f"{poison.pk} test.poison" in check.stderr
    assert "no audience registered" in check.stderr
    assert "4 dropped broker message(s)" in check.stderr
    assert "unreadable message (ContentDisallowed)" in check.stderr
    assert "notifications.no_such_task" in check.stderr and "unknown task" in check.stderr
    assert "no outbox message with this id" in check.stderr
    assert "not a task message" in check.stderr
    assert "message(s) in the broker's dead-letter queue" in check.stderr

    dismiss = manage(rabbit_env, "redrive_outbox", "--dismiss")
    assert dismiss.returncode == 0, dismiss.stderr
    assert queued(f"{queue}.dead") == 0
    # The rejected unknown task was recorded once, by the worker and the drain alike.
    assert DeadLetter.objects.filter(key=unknown_task).count() == 1
    check = manage(rabbit_env, "check_outbox")
    assert check.returncode == 0, check.stderr
    assert json.loads(DeadLetter.objects.get(key=unknown_task).body) == [[], {}, {}]
