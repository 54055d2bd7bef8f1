"""A broker that refuses or goes away: the API answers as usual, notifications
wait in the outbox, and they are delivered soon after the broker returns."""

import logging
import time

import pytest
from django.db.models import Count
from rest_framework.test import APIClient

from cases import services
from config.celery import app as celery_app
from notifications import outbox
from notifications.choices import OutboxStatus
from notifications.models import Notification, OutboxMessage

from .conftest import _forget_connections
from .harness import RedisBroker, free_port, wait_until

RABBITMQ = "127.0.0.1:5672"


@pytest.fixture(scope="module")
def locked_redis(tmp_path_factory):
    """Up, but refusing clients without its password."""
    redis = RedisBroker(tmp_path_factory.mktemp("locked"), password="not-given")
    redis.start()
    yield redis
    redis.stop()


REFUSALS = {
    "redis-down": (lambda r: f"redis://127.0.0.1:{free_port()}/0", "connection refused"),
    "redis-wrong-password": (lambda r: r.getfixturevalue("locked_redis").url, "authentication"),
    "rabbitmq-down": (lambda r: f"amqp://guest:guest@127.0.0.1:{free_port()}//", "refused"),
    "rabbitmq-unknown-vhost": (
        lambda r: f"amqp://guest:guest@{RABBITMQ}/casebridge-no-such-vhost",
        "not allowed (virtual host or permissions) (NotAllowed)",
    ),
    "rabbitmq-wrong-password": (
        lambda r: f"amqp://guest:wrong@{RABBITMQ}//",
        "access refused (credentials or permissions) (AccessRefused)",
    ),
}


@pytest.fixture(params=list(REFUSALS))
def refusing_broker(request, settings):
    url_of, reason = REFUSALS[request.param]
    before = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=url_of(request), task_always_eager=False)
    _forget_connections()
    settings.NOTIFICATIONS_PUBLISH_PAUSE_SECONDS = 60
    yield reason
    celery_app.conf.update(**before)
    _forget_connections()


def post_note(client, case, body, capture):
    with capture(execute=True):
        return client.post(
            "/api/v1/notes/", {"case": str(case.public_id), "body": body}, format="json"
        )


@pytest.mark.django_db
def test_a_refusing_broker_pauses_publishing_with_one_warning_and_the_api_unaffected(
    refusing_broker,
    shared_case,
    knp_coordinator,
    caplog,
    django_capture_on_commit_callbacks,
):
    client = APIClient()
    client.force_authenticate(knp_coordinator)
    with caplog.at_level(logging.INFO):
        answers = [
            post_note(client, shared_case, f"note {n}", django_capture_on_commit_callbacks)
            for n in range(3)
        ]
    assert [a.status_code for a in answers] == [201, 201, 201]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.exc_info) for r in warnings] == [("notifications.outbox", None)]
    assert refusing_broker in warnings[0].getMessage()
    assert "publishing paused" in warnings[0].getMessage()
    assert outbox.broker_paused()
    notes = OutboxMessage.objects.filter(event_type="note.added")
    assert list(notes.values_list("status", flat=True)) == [OutboxStatus.PENDING] * 3


@pytest.mark.django_db(transaction=True)
def test_notifications_written_while_the_broker_is_down_arrive_within_30_s_of_its_return(
    worker, broker, shared_case, knp_coordinator, kh_coordinator
):
    """No sweep by the test and no beat: the worker reconnecting (or the
    first publish that works again) triggers the sweep."""
    assert wait_until(lambda: not OutboxMessage.objects.exclude(status="delivered").exists())
    before = set(OutboxMessage.objects.values_list("pk", flat=True))
    broker.stop()
    for n in range(5):
        services.add_note(actor=knp_coordinator, case=shared_case, body=f"while down {n}")
    ours = OutboxMessage.objects.exclude(pk__in=before)
    assert list(ours.values_list("status", flat=True)) == [OutboxStatus.PENDING] * 5

    broker.start()
    back = time.monotonic()
    delivered = ours.filter(status=OutboxStatus.DELIVERED)
    assert wait_until(lambda: delivered.count() == 5, timeout=30), (
        f"{delivered.count()} of 5 delivered\n" + worker.tail()
    )
    print(f"delivered {time.monotonic() - back:.1f} s after the broker's return")
    time.sleep(1)  # a late duplicate would show now
    per_message = (
        Notification.objects.filter(message__in=ours)
        .values("message", "recipient")
        .annotate(n=Count("id"))
    )
    assert {row["n"] for row in per_message} == {1}
    assert Notification.objects.filter(message__in=ours, recipient=kh_coordinator).count() == 5


@pytest.mark.django_db(transaction=True)
def test_the_first_publish_after_a_refusal_has_what_waited_swept_at_once(
    worker, broker, shared_case, knp_coordinator
):
    """The worker never loses its broker here (only this process is refused),
    and no beat runs: only the publish that works again can send the sweep."""
    assert wait_until(lambda: not OutboxMessage.objects.exclude(status="delivered").exists())
    before = set(OutboxMessage.objects.values_list("pk", flat=True))
    celery_app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    _forget_connections()
    services.add_note(actor=knp_coordinator, case=shared_case, body="while refused")
    assert outbox.broker_paused()

    celery_app.conf.broker_url = broker.url
    _forget_connections()
    time.sleep(1.1)  # the pause (1 s under the `producer` fixture)
    services.add_note(actor=knp_coordinator, case=shared_case, body="after")
    ours = OutboxMessage.objects.exclude(pk__in=before)
    delivered = ours.filter(status=OutboxStatus.DELIVERED)
    assert wait_until(lambda: delivered.count() == 2, timeout=20), worker.tail()
