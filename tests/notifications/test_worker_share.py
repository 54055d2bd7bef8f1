"""End to end on a real worker and broker: sharing a case tells the receiving agency."""

import email
import json

import pytest

from cases import services
from cases.choices import AccessLevel
from notifications import webhooks
from notifications.choices import Channel, DeliveryStatus
from notifications.models import Delivery, Notification, OutboxMessage, WebhookDelivery
from notifications.services import create_webhook_endpoint
from notifications.tasks import send_email_digests

from .harness import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def share(actor, case, agency):
    services.share_case(actor=actor, case=case, agency=agency, level=AccessLevel.VIEW)


def with_email(user, address):
    user.email = address
    user.save(update_fields=["email"])
    return user


def read_mail(mail_dir):
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(mail_dir.glob("*.log"))]


def test_share_notifies_coordinators_in_app_by_email_and_by_signed_webhook(
    worker, receiver, mail_dir, case, knp_coordinator, ccos, kh_coordinator, kh_admin
):
    with_email(kh_coordinator, "kh.coordinator@ccos.example")
    hook = receiver()
    endpoint = create_webhook_endpoint(actor=kh_admin, url=hook.url, events=["case.shared"])
    for old in mail_dir.glob("*"):
        old.unlink()

    share(knp_coordinator, case, ccos)

    message = OutboxMessage.objects.get(event_type="case.shared")
    assert wait_until(lambda: Notification.objects.filter(recipient=kh_coordinator).exists())
    notification = Notification.objects.get(recipient=kh_coordinator)
    assert notification.object_id == case.public_id
    assert case.reference in notification.text

    assert wait_until(
        lambda: (
            Delivery.objects.filter(channel=Channel.WEBHOOK, status=DeliveryStatus.SENT)
            .filter(endpoint=endpoint)
            .exists()
        )
    )
    [request] = hook.requests
    headers = request["headers"]
    assert webhooks.verify(
        endpoint.secret,
        headers[webhooks.TIMESTAMP_HEADER],
        request["body"],
        headers[webhooks.SIGNATURE_HEADER],
    )
    body = json.loads(request["body"])
    assert body["id"] == str(message.pk)
    assert body["type"] == "case.shared"
    assert body["object"]["id"] == str(case.public_id)
    assert body["object"]["url"].endswith(f"/api/v1/cases/{case.public_id}/")
    assert set(body) == {"id", "type", "version", "time", "object"}  # identifiers only, no content
    assert case.title not in request["body"].decode()

    send_email_digests.delay()
    assert wait_until(lambda: read_mail(mail_dir))
    [mail] = read_mail(mail_dir)
    assert mail["To"] == "kh.coordinator@ccos.example"
    assert case.reference in mail.get_payload()
    assert wait_until(lambda: message.__class__.objects.get(pk=message.pk).status == "delivered")
    assert WebhookDelivery.objects.count() == 1
