"""The delivery rules, run in-process (the same code the worker runs)."""

import datetime as dt

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import translation

from cases import services
from notifications import dispatch, rendering
from notifications.choices import DeliveryStatus, OutboxStatus
from notifications.models import Delivery, Notification, OutboxMessage, WebhookDelivery
from notifications.outbox import emit, sweep
from notifications.services import create_webhook_endpoint

pytestmark = pytest.mark.usefixtures("eager")


def emit_share(case, actor, agency):
    return emit("case.shared", obj=case, actor=actor, agency=agency.public_id)


def participation_of(case, agency):
    return case.participations.get(agency=agency, revoked_at__isnull=True)


def test_emit_is_rolled_back_with_the_callers_transaction(shared_case, knp_coordinator, ccos):
    before = OutboxMessage.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        emit_share(shared_case, knp_coordinator, ccos)
        raise RuntimeError
    assert OutboxMessage.objects.count() == before


def test_emit_refuses_content_in_the_payload(shared_case, knp_coordinator):
    before = OutboxMessage.objects.count()
    with pytest.raises(ValueError, match="identifiers"):
        emit("note.added", obj=shared_case, actor=knp_coordinator, body="Victim statements " * 9)
    assert OutboxMessage.objects.count() == before


def test_emit_refuses_an_unknown_event_type(shared_case):
    with pytest.raises(ValueError, match="unknown event type"):
        emit("case.exploded", obj=shared_case)


def test_message_is_delivered_after_commit(
    shared_case, knp_coordinator, ccos, kh_coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = emit_share(shared_case, knp_coordinator, ccos)
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert Notification.objects.get().recipient == kh_coordinator


def test_the_actor_is_not_told_of_their_own_action(
    shared_case, knp_coordinator, kh_coordinator, kh_investigator
):
    note = services.add_note(actor=knp_coordinator, case=shared_case, body="Wallets traced.")
    message = emit("note.added", obj=note, actor=knp_coordinator)
    dispatch.deliver_message(str(message.pk))
    # Investigators of an agency working the case hear of its notes too (issue 16).
    told = set(Notification.objects.values_list("recipient", flat=True))
    assert told == {kh_coordinator.pk, kh_investigator.pk}


def test_redelivered_message_has_one_effect(shared_case, knp_coordinator, ccos, kh_coordinator):
    message = emit_share(shared_case, knp_coordinator, ccos)
    assert dispatch.deliver_message(str(message.pk)).outcome is dispatch.Outcome.DONE
    assert dispatch.deliver_message(str(message.pk)).outcome is dispatch.Outcome.DONE
    assert Notification.objects.count() == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_database_refuses_a_second_delivery_to_the_same_recipient(
    shared_case, knp_coordinator, ccos, kh_coordinator
):
    message = emit_share(shared_case, knp_coordinator, ccos)
    dispatch.deliver_message(str(message.pk))
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            message=message,
            recipient=kh_coordinator,
            kind=message.event_type,
            object_type=message.object_type,
            object_id=message.object_id,
            text="Told twice",
        )


def test_user_who_lost_access_before_delivery_gets_nothing(
    shared_case, knp_coordinator, ccos, kh_coordinator
):
    message = emit_share(shared_case, knp_coordinator, ccos)
    services.revoke_case(actor=knp_coordinator, participation=participation_of(shared_case, ccos))
    dispatch.deliver_message(str(message.pk))
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert not Notification.objects.filter(recipient=kh_coordinator).exists()


def test_outsider_is_never_a_recipient_even_when_an_audience_names_it(
    shared_case, knp_coordinator, unodc, outsider
):
    """The gate filters the audience: naming a non-participating agency in
    the payload (a bug in a caller) still tells it nothing."""
    message = emit("case.shared", obj=shared_case, actor=knp_coordinator, agency=unodc.public_id)
    dispatch.deliver_message(str(message.pk))
    assert not Notification.objects.filter(recipient=outsider).exists()


def test_delivery_started_too_often_becomes_a_dead_letter(
    shared_case, knp_coordinator, ccos, settings
):
    """A message whose worker dies every time (nothing records a failure)
    still stops: the attempt is counted before the work."""
    message = emit_share(shared_case, knp_coordinator, ccos)
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS)
    assert dispatch.deliver_message(str(message.pk)).outcome is dispatch.Outcome.DEAD
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert "gave up" in message.last_error
    assert not Notification.objects.exists()


def test_sweeper_publishes_messages_the_broker_never_got(
    shared_case, knp_coordinator, ccos, kh_coordinator
):
    message = emit_share(shared_case, knp_coordinator, ccos)  # on_commit never ran
    undelivered = OutboxMessage.objects.exclude(status=OutboxStatus.DELIVERED).count()
    assert sweep(older_than=dt.timedelta(0)) == undelivered
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.DELIVERED).exists()


def test_sweeper_leaves_recent_messages_to_their_own_publication(
    shared_case, knp_coordinator, ccos
):
    emit_share(shared_case, knp_coordinator, ccos)
    assert sweep(older_than=dt.timedelta(minutes=1)) == 0


# --- e-mail -----------------------------------------------------------------


def with_email(user, address):
    user.email = address
    user.save(update_fields=["email"])
    return user


def test_email_digest_sends_one_mail_per_user_per_run(
    shared_case, knp_coordinator, ccos, kh_coordinator
):
    with_email(kh_coordinator, "kh@ccos.example")
    for _ in range(3):
        dispatch.deliver_message(str(emit_share(shared_case, knp_coordinator, ccos).pk))

    assert dispatch.send_email_digests() == 1
    [message] = mail.outbox
    assert message.to == ["kh@ccos.example"]
    assert message.body.count(shared_case.reference) == 3
    assert dispatch.send_email_digests() == 0  # nothing twice
    assert len(mail.outbox) == 1


def test_texts_are_rendered_in_the_recipients_language(
    shared_case, knp_coordinator, ccos, kh_coordinator, monkeypatch
):
    class LanguageProbe:  # renders as the language active while rendering
        def __mod__(self, params):
            return translation.get_language()

    monkeypatch.setitem(rendering.TEXTS, "case.shared", LanguageProbe())
    with_email(kh_coordinator, "kh@ccos.example")
    kh_coordinator.membership.language = "km"
    kh_coordinator.membership.save(update_fields=["language"])

    with translation.override("ko"):
        dispatch.deliver_message(str(emit_share(shared_case, knp_coordinator, ccos).pk))
        dispatch.send_email_digests()
    assert Notification.objects.get().text == "km"
    assert "- km" in mail.outbox[0].body


def test_email_digest_drops_lines_about_a_case_revoked_after_fan_out(
    shared_case, knp_coordinator, ccos, kh_coordinator
):
    with_email(kh_coordinator, "kh@ccos.example")
    dispatch.deliver_message(str(emit_share(shared_case, knp_coordinator, ccos).pk))
    services.revoke_case(actor=knp_coordinator, participation=participation_of(shared_case, ccos))

    assert dispatch.send_email_digests() == 0
    assert mail.outbox == []
    assert Notification.objects.get().email_status == DeliveryStatus.SKIPPED


def test_email_digest_marks_the_lines_it_sent(shared_case, knp_coordinator, ccos, kh_coordinator):
    with_email(kh_coordinator, "kh@ccos.example")
    dispatch.deliver_message(str(emit_share(shared_case, knp_coordinator, ccos).pk))

    dispatch.send_email_digests()

    assert Notification.objects.get().email_status == DeliveryStatus.SENT


def test_email_digest_skips_the_lines_of_a_user_whose_address_was_removed(
    shared_case, knp_coordinator, ccos, kh_coordinator
):
    with_email(kh_coordinator, "kh@ccos.example")
    dispatch.deliver_message(str(emit_share(shared_case, knp_coordinator, ccos).pk))
    with_email(kh_coordinator, "")

    assert dispatch.send_email_digests() == 0
    assert mail.outbox == []
    assert Notification.objects.get().email_status == DeliveryStatus.SKIPPED


# --- webhooks ---------------------------------------------------------------


def test_webhook_is_not_sent_when_the_agency_is_revoked_after_fan_out(
    shared_case, knp_coordinator, ccos, kh_admin, receiver
):
    hook = receiver()
    create_webhook_endpoint(actor=kh_admin, url=hook.url)
    result = dispatch.deliver_message(str(emit_share(shared_case, knp_coordinator, ccos).pk))
    services.revoke_case(actor=knp_coordinator, participation=participation_of(shared_case, ccos))

    [delivery_id] = result.webhook_ids
    dispatch.send_webhook(delivery_id)
    assert hook.requests == []
    assert Delivery.objects.get(pk=delivery_id).status == DeliveryStatus.SKIPPED


def test_endpoint_is_disabled_after_consecutive_failures_and_its_admins_are_told(
    shared_case, knp_coordinator, ccos, kh_admin, receiver, settings
):
    settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER = 2
    hook = receiver(default=500)
    endpoint = create_webhook_endpoint(actor=kh_admin, url=hook.url)
    for _ in range(2):
        result = dispatch.deliver_message(str(emit_share(shared_case, knp_coordinator, ccos).pk))
        dispatch.send_webhook(result.webhook_ids[0])

    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2
    disabled = OutboxMessage.objects.get(event_type="webhook.disabled")
    dispatch.deliver_message(str(disabled.pk))
    assert Notification.objects.get(kind="webhook.disabled").recipient == kh_admin


def test_webhook_url_must_be_https_outside_development(kh_admin, settings):
    from gate.errors import ValidationFailed
    from notifications.models import WebhookEndpoint

    settings.NOTIFICATIONS_WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationFailed) as exc:
        create_webhook_endpoint(actor=kh_admin, url="http://partner.example/hook")
    assert "url" in exc.value.errors
    assert not WebhookEndpoint.objects.exists()
