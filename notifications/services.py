"""Writes on notifications and webhook endpoints, for the API and the admin."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import services as audit
from audit.models import AuditAction
from gate import port
from gate.errors import Conflict, NotFound, PermissionDenied, PreconditionFailed, ValidationFailed
from gate.roles import Role

from . import catalogue, outbox
from .choices import Channel, DeliveryStatus
from .models import Delivery, Notification, WebhookDelivery, WebhookEndpoint


def visible_notifications(user) -> QuerySet[Notification]:
    """A user's own notifications: nobody reads another person's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def visible_webhook_endpoints(user) -> QuerySet[WebhookEndpoint]:
    """An agency's endpoints, for its agency administrators only."""
    membership = port.membership_of(user)
    if membership is None or membership.role != Role.AGENCY_ADMIN:
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(agency_id=membership.agency_id)


@transaction.atomic
def mark_read(*, actor, notification: Notification) -> Notification:
    if not visible_notifications(actor).filter(pk=notification.pk).exists():
        raise NotFound()
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now, updated_at=now
    )
    notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_read(*, actor) -> int:
    now = timezone.now()
    unread = visible_notifications(actor).filter(read_at__isnull=True)
    return unread.update(read_at=now, updated_at=now)


def _validate_events(events: Iterable[str]) -> list[str]:
    if not isinstance(events, (list, tuple)):
        raise ValidationFailed({"events": [_("Expected a list of event types.")]})
    # The catalogue is the partner's list of what may be subscribed to.
    unknown = [e for e in events if e not in catalogue.BY_TYPE]
    if unknown:
        raise ValidationFailed(
            {"events": [_("Unknown event type: %(e)s") % {"e": ", ".join(map(str, unknown))}]}
        )
    return list(dict.fromkeys(events))


def _require_agency_admin(actor):
    membership = port.membership_of(actor)
    if membership is None or membership.role != Role.AGENCY_ADMIN:
        raise PermissionDenied(_("Only agency administrators manage webhooks."))
    return membership


WEBHOOK_AUDIT_FIELDS = ("url", "events", "active")


def _record(action: str, endpoint: WebhookEndpoint, changes: dict) -> None:
    """Webhook changes go on the agency's audit trail like every admin action
    (the secret only as "[redacted]": the audit log never holds it)."""
    audit.record(action=action, obj=endpoint, agency=endpoint.agency, changes=changes)


def _clean(endpoint: WebhookEndpoint) -> None:
    try:
        endpoint.full_clean()
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc


def _locked(actor, endpoint: WebhookEndpoint, expected_version: int | None) -> WebhookEndpoint:
    """The actor's agency's endpoint under a row lock; 404 for anyone else's,
    412 when the caller's copy (`If-Match`) is stale."""
    locked = visible_webhook_endpoints(actor).select_for_update().filter(pk=endpoint.pk).first()
    if locked is None:
        raise NotFound()
    if expected_version is not None and locked.version != expected_version:
        raise PreconditionFailed()
    return locked


@transaction.atomic
def create_webhook_endpoint(
    *, actor, url: str, events: Iterable[str] = (), secret: str | None = None, active: bool = True
) -> WebhookEndpoint:
    """An endpoint of the actor's own agency; events empty = every event."""
    membership = _require_agency_admin(actor)
    endpoint = WebhookEndpoint(
        agency=membership.agency, url=url, events=_validate_events(events), active=active
    )
    if secret:
        endpoint.secret = secret
    if not active:
        endpoint.disabled_at = timezone.now()
    _clean(endpoint)
    endpoint.save()
    _record(
        AuditAction.CREATE,
        endpoint,
        {**audit.created(endpoint, WEBHOOK_AUDIT_FIELDS), "secret": audit.REDACTED},
    )
    return endpoint


WEBHOOK_EDITABLE_FIELDS = {"url", "events", "active"}


@transaction.atomic
def update_webhook_endpoint(
    *, actor, endpoint: WebhookEndpoint, expected_version: int | None = None, **changes
) -> WebhookEndpoint:
    """Change URL, events or active (pause / resume); resuming clears the
    failure count, so an endpoint disabled after failures starts afresh."""
    _require_agency_admin(actor)
    endpoint = _locked(actor, endpoint, expected_version)
    unknown = set(changes) - WEBHOOK_EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed({f: [_("This field cannot be changed here.")] for f in unknown})
    if "events" in changes:
        changes["events"] = _validate_events(changes["events"])
    before = audit.snapshot(endpoint, WEBHOOK_AUDIT_FIELDS)
    if "active" in changes and changes["active"] != endpoint.active:
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None if changes["active"] else timezone.now()
    for field, value in changes.items():
        setattr(endpoint, field, value)
    _clean(endpoint)
    diff = audit.changes_between(before, audit.snapshot(endpoint, WEBHOOK_AUDIT_FIELDS))
    if diff:
        endpoint.version += 1
        endpoint.save()
        _record(AuditAction.UPDATE, endpoint, diff)
    return endpoint


@transaction.atomic
def rotate_webhook_secret(
    *, actor, endpoint: WebhookEndpoint, expected_version: int | None = None
) -> WebhookEndpoint:
    """A new random secret, effective for the next delivery. The caller shows
    it once: it is never readable again (only its rotation is audited)."""
    _require_agency_admin(actor)
    endpoint = _locked(actor, endpoint, expected_version)
    endpoint.secret = secrets.token_urlsafe()
    endpoint.version += 1
    endpoint.save(update_fields=["secret", "version"])
    _record(AuditAction.UPDATE, endpoint, {"secret": audit.REDACTED})
    return endpoint


@transaction.atomic
def delete_webhook_endpoint(
    *, actor, endpoint: WebhookEndpoint, expected_version: int | None = None
) -> None:
    _require_agency_admin(actor)
    endpoint = _locked(actor, endpoint, expected_version)
    _record(AuditAction.DELETE, endpoint, audit.snapshot(endpoint, WEBHOOK_AUDIT_FIELDS))
    endpoint.delete()


def webhook_deliveries(endpoint: WebhookEndpoint) -> QuerySet[Delivery]:
    """An endpoint's deliveries, newest first, each with its event and the
    partner's last answer (`last_status_code`), for the delivery log."""
    last_code = (
        WebhookDelivery.objects.filter(delivery=OuterRef("pk"))
        .order_by("-attempt", "-id")
        .values("status_code")[:1]
    )
    return (
        Delivery.objects.filter(channel=Channel.WEBHOOK, endpoint=endpoint)
        .select_related("message")
        .annotate(last_status_code=Subquery(last_code))
        .order_by("-created_at", "-id")
    )


@transaction.atomic
def redeliver_webhook(
    *, actor, endpoint: WebhookEndpoint, event_id: Any, expected_version: int | None = None
) -> Delivery:
    """Send one event to the endpoint again, whatever became of it (sent, dead
    or skipped): a fresh series of attempts, queued after commit. The gate is
    asked again at send time, so a redelivery never reaches an agency that
    lost sight of the object."""
    _require_agency_admin(actor)
    endpoint = _locked(actor, endpoint, expected_version)
    try:
        event_uuid = uuid.UUID(str(event_id))
    except ValueError:
        raise NotFound() from None
    delivery = (
        Delivery.objects.select_for_update()
        .filter(channel=Channel.WEBHOOK, endpoint=endpoint, message_id=event_uuid)
        .first()
    )
    if delivery is None:
        raise NotFound()
    if not endpoint.active:
        raise Conflict(_("The endpoint is paused: resume it before re-sending."))
    delivery.status, delivery.attempts = DeliveryStatus.PENDING, 0
    delivery.last_error, delivery.next_attempt_at, delivery.delivered_at = "", None, None
    delivery.save()
    _record(
        AuditAction.UPDATE,
        endpoint,
        {"redelivered": {"event": str(event_uuid), "type": delivery.message.event_type}},
    )
    transaction.on_commit(lambda: outbox.enqueue_webhook(delivery.pk), robust=True)
    return webhook_deliveries(endpoint).get(pk=delivery.pk)


def unread_count(user) -> int:
    return visible_notifications(user).filter(read_at__isnull=True).count()
