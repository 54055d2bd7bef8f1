"""End to end on a real worker and broker: the many messages of one commit are
handed over as one task, and each is still delivered exactly once."""

import pytest
from django.db import transaction

from notifications import outbox
from notifications.choices import OutboxStatus
from notifications.models import OutboxMessage
from notifications.outbox import emit_many

from .harness import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_many_messages_of_one_commit_are_each_delivered_once_through_one_task(
    worker, shared_case, knp_coordinator, ccos, monkeypatch
):
    assert wait_until(
        lambda: not OutboxMessage.objects.exclude(status=OutboxStatus.DELIVERED).exists()
    )
    before = set(OutboxMessage.objects.values_list("pk", flat=True))
    sent = []
    real_send = outbox._send
    monkeypatch.setattr(
        outbox, "_send", lambda name, *args, **kw: sent.append(name) or real_send(name, *args, **kw)
    )
    count = 3 * outbox.PUBLISH_IN_REQUEST
    events = [(shared_case, {"agency": ccos.public_id}) for _ in range(count)]
    with transaction.atomic():
        emit_many("case.shared", events, actor=knp_coordinator)

    assert sent == [outbox.PUBLISH_MESSAGES]  # one task from the request
    ours = OutboxMessage.objects.exclude(pk__in=before)
    assert ours.count() == count
    assert wait_until(lambda: ours.filter(status=OutboxStatus.DELIVERED).count() == count)
    assert all(message.attempts == 1 for message in ours)
