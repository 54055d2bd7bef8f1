"""Fault tests on a real worker and broker: nothing lost, nothing doubled."""

import datetime as dt
import os
import signal
import time

import pytest
from django.db import transaction
from django.db.models import Count

from notifications.choices import Channel, DeliveryStatus, OutboxStatus
from notifications.models import Delivery, Notification, OutboxMessage, WebhookDelivery
from notifications.outbox import emit, publish, sweep
from notifications.services import create_webhook_endpoint

from .harness import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def emit_shares(n, case, actor, agency):
    for _ in range(n):
        with transaction.atomic():
            emit("case.shared", obj=case, actor=actor, agency=agency.public_id)


def delivered(after: frozenset = frozenset()) -> int:
    ours = OutboxMessage.objects.exclude(pk__in=after)
    return ours.filter(status=OutboxStatus.DELIVERED).count()


def settle() -> frozenset:
    """Let the fixtures' own events (the share of `shared_case`) be delivered
    first; returns their ids, so what follows counts only the test's own."""
    assert wait_until(lambda: delivered() == OutboxMessage.objects.count())
    return frozenset(OutboxMessage.objects.values_list("pk", flat=True))


def sweep_until_delivered(total, after, timeout=150, older_than=10):
    def swept_and_done():
        if delivered(after) == total:
            return True
        sweep(older_than=dt.timedelta(seconds=older_than))
        return delivered(after) == total

    return wait_until(swept_and_done, timeout=timeout, interval=2)


def assert_exactly_once(recipient, total, after):
    ours = Notification.objects.exclude(message__pk__in=after)
    assert ours.filter(recipient=recipient).count() == total
    per_message = ours.values("message").annotate(n=Count("id"))
    assert {row["n"] for row in per_message} == {1}
    assert ours.count() == total


def test_thousand_events_survive_a_broker_stopped_and_restarted_part_way(
    worker, broker, shared_case, knp_coordinator, ccos, kh_coordinator
):
    """The private broker is really stopped: messages published before the stop
    and not yet consumed die with it, messages emitted during the outage are
    never published; the sweeper publishes both once it is back. The worker
    may exit on the lost connection (a Celery 5.7.0 fault, see harness.Worker)
    and be restarted by its supervisor: nothing may be lost or doubled either way."""
    after = settle()
    emit_shares(300, shared_case, knp_coordinator, ccos)
    broker.stop()
    emit_shares(400, shared_case, knp_coordinator, ccos)
    never_published = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count()
    broker.start()
    time.sleep(1.1)  # the producer's pause after a failed publish
    emit_shares(300, shared_case, knp_coordinator, ccos)

    assert never_published >= 399  # the outage really left messages behind
    assert sweep_until_delivered(1000, after), (
        f"{delivered(after)} of 1000 delivered, {worker.restarts} worker restart(s)\n"
        + worker.tail()
    )
    assert_exactly_once(kh_coordinator, 1000, after)


def test_worker_killed_mid_batch_still_delivers_every_message_exactly_once(
    worker, shared_case, knp_coordinator, ccos, kh_coordinator
):
    after = settle()
    emit_shares(200, shared_case, knp_coordinator, ccos)
    assert wait_until(lambda: delivered(after) >= 20, timeout=60)
    worker.kill()
    assert delivered(after) < 200  # killed mid-batch, not after it

    worker.start()
    assert sweep_until_delivered(200, after), (
        f"{delivered(after)} of 200 delivered\n" + worker.tail()
    )
    assert_exactly_once(kh_coordinator, 200, after)


def test_worker_exiting_on_its_own_is_restarted_and_delivers_every_message_exactly_once(
    worker, shared_case, knp_coordinator, ccos, kh_coordinator
):
    """An exit nobody asked for (here SIGKILL from outside the harness, as a
    crash would be) is what the supervisor is for: a new worker takes over and
    the sweeper hands it what the dead one held."""
    after = settle()
    emit_shares(200, shared_case, knp_coordinator, ccos)
    assert wait_until(lambda: delivered(after) >= 20, timeout=60)
    restarts = worker.restarts  # the session's worker may have been restarted before
    os.kill(worker.process.pid, signal.SIGKILL)

    assert wait_until(lambda: worker.restarts == restarts + 1 and not worker.exited, timeout=60)
    assert sweep_until_delivered(200, after), (
        f"{delivered(after)} of 200 delivered\n" + worker.tail()
    )
    assert_exactly_once(kh_coordinator, 200, after)


def test_webhook_failing_three_times_is_delivered_once_with_four_attempts_logged(
    worker, receiver, shared_case, knp_coordinator, ccos, kh_admin
):
    hook = receiver(script=[500, 503, 500])
    settle()  # the fixtures' own share is delivered before the endpoint exists
    endpoint = create_webhook_endpoint(actor=kh_admin, url=hook.url)
    emit_shares(1, shared_case, knp_coordinator, ccos)

    sent = Delivery.objects.filter(channel=Channel.WEBHOOK, status=DeliveryStatus.SENT)
    assert wait_until(sent.exists, timeout=30)
    time.sleep(1.5)  # no further attempt after the success
    assert [r["status"] for r in hook.requests] == [500, 503, 500, 200]
    log = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("attempt")
    assert [(e.attempt, e.status_code) for e in log] == [(1, 500), (2, 503), (3, 500), (4, 200)]
    assert sent.get().attempts == 4
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.active


def test_poison_message_becomes_a_dead_letter_after_the_bounded_attempts(worker, shared_case):
    """A message no code can deliver (here: an event nobody registered an
    audience for) is retried with backoff three times (the worker's
    NOTIFICATIONS_MAX_ATTEMPTS), then parked as `dead` with its error."""
    message = OutboxMessage.objects.create(
        event_type="test.poison", object_type="case", object_id=shared_case.public_id
    )
    publish([message.pk])

    dead = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.DEAD)
    assert wait_until(dead.exists, timeout=30)
    time.sleep(2)  # and it stays there: no endless loop
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert message.attempts == 3
    assert "no audience registered" in message.last_error
    assert not Notification.objects.filter(message=message).exists()
