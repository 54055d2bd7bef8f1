"""Writes on notifications and webhook endpoints, for the API and the admin."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.choices import Role
from cases import access
from cases.errors import NotFound, PermissionDenied, ValidationFailed

from .choices import EventType
from .models import Notification, WebhookEndpoint


def visible_notifications(user) -> QuerySet[Notification]:
    """A user's own notifications: nobody reads another person's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def visible_webhook_endpoints(user) -> QuerySet[WebhookEndpoint]:
    """An agency's endpoints, for its agency administrators only."""
    membership = access.membership_of(user)
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
    unknown = [e for e in events if e not in EventType.values]
    if unknown:
        raise ValidationFailed(
            {"events": [_("Unknown event type: %(e)s") % {"e": ", ".join(map(str, unknown))}]}
        )
    return list(dict.fromkeys(events))


def _require_agency_admin(actor):
    membership = access.membership_of(actor)
    if membership is None or membership.role != Role.AGENCY_ADMIN:
        raise PermissionDenied(_("Only agency administrators manage webhooks."))
    return membership


@transaction.atomic
def create_webhook_endpoint(
    *, actor, url: str, events: Iterable[str] = (), secret: str | None = None
) -> WebhookEndpoint:
    """An endpoint of the actor's own agency; events empty = every event."""
    membership = _require_agency_admin(actor)
    endpoint = WebhookEndpoint(agency=membership.agency, url=url, events=_validate_events(events))
    if secret:
        endpoint.secret = secret
    try:
        endpoint.full_clean()
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc
    endpoint.save()
    return endpoint


WEBHOOK_EDITABLE_FIELDS = {"url", "events", "active"}


@transaction.atomic
def update_webhook_endpoint(*, actor, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change URL, events or active; re-activating clears the failure count."""
    if not visible_webhook_endpoints(actor).filter(pk=endpoint.pk).exists():
        raise NotFound()
    unknown = set(changes) - WEBHOOK_EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed({f: [_("This field cannot be changed here.")] for f in unknown})
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if "events" in changes:
        changes["events"] = _validate_events(changes["events"])
    if "active" in changes and changes["active"] != endpoint.active:
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None if changes["active"] else timezone.now()
    for field, value in changes.items():
        setattr(endpoint, field, value)
    try:
        endpoint.full_clean()
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc
    endpoint.save()
    return endpoint


@transaction.atomic
def delete_webhook_endpoint(*, actor, endpoint: WebhookEndpoint) -> None:
    if not visible_webhook_endpoints(actor).filter(pk=endpoint.pk).exists():
        raise NotFound()
    endpoint.delete()


def unread_count(user) -> int:
    return visible_notifications(user).filter(read_at__isnull=True).count()
