"""A non-participating agency hears nothing, even when a revoke races with delivery."""

import pytest
from django.db import transaction

from cases import services
from cases.choices import AccessLevel
from notifications.choices import Channel, EventType, OutboxStatus
from notifications.models import Delivery, Notification, OutboxMessage
from notifications.services import create_webhook_endpoint

from .harness import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_agency_revoked_before_delivery_gets_no_notification_and_no_webhook(
    worker, receiver, case, knp_coordinator, ccos, kh_coordinator, unodc, outsider, unodc_admin
):
    outsider.email = "outsider@unodc.example"
    outsider.save(update_fields=["email"])
    hook = receiver()
    create_webhook_endpoint(actor=unodc_admin, url=hook.url)

    with transaction.atomic():  # the revoke commits before the share is delivered
        participation = services.share_case(
            actor=knp_coordinator, case=case, agency=unodc, level=AccessLevel.VIEW
        )
        services.revoke_case(actor=knp_coordinator, participation=participation)
    services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.VIEW)

    # shared, revoked, UNODC's access ended (its tombstone, issue 17), shared
    assert OutboxMessage.objects.count() == 4
    assert wait_until(
        lambda: OutboxMessage.objects.filter(status=OutboxStatus.DELIVERED).count() == 4
    )
    assert Notification.objects.filter(recipient=kh_coordinator).count() == 1  # not vacuous
    # UNODC hears that its access ended (its tombstone names the case), never of the share.
    heard = Notification.objects.filter(recipient__in=[outsider, unodc_admin])
    assert set(heard.values_list("kind", flat=True)) <= {EventType.CASE_ACCESS_REVOKED}
    assert not Delivery.objects.filter(user=outsider).exists()
    webhooks = Delivery.objects.filter(channel=Channel.WEBHOOK)
    assert set(webhooks.values_list("message__event_type", flat=True)) <= {
        EventType.CASE_ACCESS_REVOKED
    }
    assert all(body["type"] == EventType.CASE_ACCESS_REVOKED for body in hook.bodies())
