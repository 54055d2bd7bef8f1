"""Fixtures of the notification tests: a real broker and worker when asked for.

Tests that need the worker take `worker` (and so `transactional_db`); the
others run the same code in-process.
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.db import connection
from kombu import pools as kombu_pools

from config.celery import app as celery_app
from gate.roles import Role
from tests.factories import make_user

from .harness import Receiver, RedisBroker, Worker

WORKER_SETTINGS = {
    "NOTIFICATIONS_MAX_ATTEMPTS": "3",
    "NOTIFICATIONS_RETRY_BASE_SECONDS": "0.2",
    "NOTIFICATIONS_RETRY_MAX_SECONDS": "1",
    "NOTIFICATIONS_WEBHOOK_MAX_ATTEMPTS": "6",
    "NOTIFICATIONS_WEBHOOK_ALLOW_HTTP": "1",
    "NOTIFICATIONS_WEBHOOK_TIMEOUT": "5",
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Personas are created with passwords; PBKDF2 costs seconds per test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _publishing_not_paused():
    """A broker refusal pauses this process's publishing (notifications.outbox):
    one test's outage must not silence the next test's publishing."""
    from notifications import outbox

    outbox._pause.update(until=0.0, reason="")
    yield
    outbox._pause.update(until=0.0, reason="")


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    broker = RedisBroker(tmp_path_factory.mktemp("redis"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def queue_name():
    return f"cb-notify-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="session")
def worker_env(broker, queue_name, mail_dir, django_db_setup):
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_DEFAULT_QUEUE": queue_name,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SECRET_KEY": "test-only-secret-key",
        "DEBUG": "0",
        **WORKER_SETTINGS,
    }


@pytest.fixture
def producer(broker, queue_name, settings):
    """Make this (test) process publish to the private broker, not run eagerly."""
    before = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=broker.url, task_always_eager=False)
    celery_app.conf.task_default_queue = queue_name
    _forget_connections()
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_HTTP = True
    settings.NOTIFICATIONS_PUBLISH_PAUSE_SECONDS = 1.0
    yield celery_app
    celery_app.conf.update(**before)
    _forget_connections()


def _forget_connections():
    """Celery caches its broker pools: drop them so the new broker_url is used
    (an earlier eager test may have created them for the default broker).

    Celery's pools come from kombu's process-wide registry, keyed by broker:
    closing one without clearing the registry leaves a closed pool to be
    handed out again ("Acquire on closed pool"), so reset the registry too."""
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def session_worker(worker_env, queue_name, tmp_path_factory):
    """One worker for the session (starting one costs seconds); tests that
    kill it get it restarted by the `worker` fixture of the next test."""
    worker = Worker(env=worker_env, queue=queue_name, log=tmp_path_factory.mktemp("w") / "log")
    yield worker
    worker.stop()


@pytest.fixture
def worker(session_worker, transactional_db, producer, queue_name):
    with producer.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue_name)  # leftovers of earlier tests
    if session_worker.process is None or session_worker.exited:
        session_worker.start()
    return session_worker


@pytest.fixture
def eager(settings):
    """Run tasks in this process, as `make run` does without a broker."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_HTTP = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def receiver():
    receivers = []

    def make(script=None, default=200) -> Receiver:
        r = Receiver(script, default)
        receivers.append(r)
        return r

    yield make
    for r in receivers:
        r.close()


@pytest.fixture
def kh_admin(ccos):
    return make_user(ccos, Role.AGENCY_ADMIN)


@pytest.fixture
def unodc_admin(unodc):
    return make_user(unodc, Role.AGENCY_ADMIN)
