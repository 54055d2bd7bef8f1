"""A non-participating agency hears nothing, even when a revoke races with delivery."""

import pytest
from django.db import transaction

from cases import services
from cases.choices import AccessLevel
from notifications.choices import Channel, OutboxStatus
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

    assert OutboxMessage.objects.count() == 3  # shared, revoked, shared
    assert wait_until(
        lambda: OutboxMessage.objects.filter(status=OutboxStatus.DELIVERED).count() == 3
    )
    assert Notification.objects.filter(recipient=kh_coordinator).count() == 1  # not vacuous
    assert not Notification.objects.filter(recipient__in=[outsider, unodc_admin]).exists()
    assert not Delivery.objects.filter(user=outsider).exists()
    assert not Delivery.objects.filter(channel=Channel.WEBHOOK).exists()
    assert hook.requests == []
