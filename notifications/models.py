import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from .choices import Channel, DeliveryStatus, OutboxStatus
from .rendering import text_for


class OutboxMessage(models.Model):
    """One event worth telling, written in the same transaction as the change.

    The row is the source of truth, the broker only a doorbell: a message the
    broker lost (down, restarted, worker killed) is still here, undelivered,
    and the sweeper publishes it again. The payload holds identifiers, never
    content: what a recipient may read is decided at delivery time.
    """

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID")
    )
    # Not indexed: nothing looks messages up by type, and every event (10,000
    # for one bulk share) would pay for two indexes (the second for LIKE).
    event_type = models.CharField(_("event type"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.UUIDField(_("object id"))
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # Scheduled reminders ("task X due soon for due date D") are told once
    # (a unique constraint rather than `unique=True`: that adds a LIKE index).
    dedup_key = models.CharField(  # noqa: DJ001 (NULL: no key, many allowed)
        _("deduplication key"), max_length=200, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        constraints = [models.UniqueConstraint(fields=["dedup_key"], name="outbox_dedup_key")]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["pending", "published"]),
                name="outbox_undelivered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.object_type}:{self.object_id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (OutboxStatus.DELIVERED, OutboxStatus.DEAD, OutboxStatus.DISMISSED)


class DeadLetter(models.Model):
    """A broker message dropped before anything could be delivered: a task the
    worker does not know, a body it cannot read, an id that names no row, or
    a message found in RabbitMQ's dead-letter queue that names no outbox row.

    Acknowledged, such a message would vanish with one log line; recorded, it
    makes `check_outbox` fail until an operator re-drives what can be
    (`redrive_outbox`) or dismisses it. `key` (the task id, else a digest of
    the body) records a message once however often it is seen.
    """

    key = models.CharField(_("key"), max_length=64, unique=True)
    task = models.CharField(_("task"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")

    def __str__(self) -> str:
        return f"#{self.pk} {self.task or '?'}: {self.reason}"


def validate_webhook_url(value: str) -> None:
    """HTTPS only: the body is signed, not encrypted. Plain http for development."""
    if value.startswith("https://"):
        return
    if value.startswith("http://") and settings.NOTIFICATIONS_WEBHOOK_ALLOW_HTTP:
        return
    raise ValidationError(_("Webhook URLs must use https."))


class WebhookEndpoint(models.Model):
    """A partner system's URL that receives an agency's events, HMAC-signed."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("agency")
    )
    url = models.URLField(_("URL"), max_length=500, validators=[validate_webhook_url])
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_("Event types to send; empty: every event."),
    )
    secret = models.CharField(
        _("secret"),
        max_length=100,
        default=secrets.token_urlsafe,
        help_text=_("Shared secret of the HMAC-SHA256 signature."),
    )
    active = models.BooleanField(_("active"), default=True)
    # Optimistic concurrency for the API (`If-Match`), like the case domain's objects.
    version = models.PositiveIntegerField(_("version"), default=1)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["agency", "url"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.agency.code}: {self.url}"

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class Delivery(models.Model):
    """One message to one webhook endpoint (in-app and e-mail, a user's
    `Notification` is the delivery).

    The unique (message, channel, recipient) key is the idempotency guard: a
    task the broker delivers twice, or the sweeper publishes again, finds the
    row and does nothing a second time.
    """

    message = models.ForeignKey(
        OutboxMessage,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("message"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient_key = models.CharField(max_length=64, editable=False, verbose_name=_("recipient key"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_deliveries",
        verbose_name=_("user"),
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("webhook endpoint"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "channel", "recipient_key"], name="one_delivery_per_recipient"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(endpoint__isnull=False),
                name="delivery_has_recipient",
            ),
        ]
        indexes = [models.Index(fields=["channel", "status"], name="delivery_channel_status")]

    def __str__(self) -> str:
        return f"{self.message_id} {self.channel} {self.recipient_key} ({self.status})"

    @staticmethod
    def key_for(*, user=None, endpoint=None) -> str:
        return f"user:{user.pk}" if user is not None else f"endpoint:{endpoint.pk}"


class Notification(models.Model):
    """A message told to one user: the in-app notification, rendered in the
    recipient's language at delivery, and its line in the user's next e-mail
    digest (`email_status`).

    The unique (message, recipient) key is the idempotency guard of both
    channels: a redelivered message finds the row and writes nothing twice.
    One row per recipient and message for both channels, so a note to 1,250
    users writes 1,250 rows.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    # Indexed by the unique (message, recipient) key, which starts with it.
    message = models.ForeignKey(
        OutboxMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("message"),
    )
    kind = models.CharField(_("kind"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.UUIDField(_("object id"))
    text = models.CharField(_("text"), max_length=500)
    # What the text says, as codes (reference, agency codes, status, verb:
    # `notifications.rendering`): the admin renders it again in the reader's
    # current language; `text` is the delivery-time rendering (e-mail, API).
    data = models.JSONField(_("data"), default=dict, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    # Changes when it is read: the API's sync order.
    updated_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("updated at")
    )
    # The e-mail channel: "" for a user without an address, else pending
    # until the digest sends the line (sent) or drops it (skipped: the user
    # no longer sees the object).
    email_status = models.CharField(
        _("e-mail"), max_length=10, choices=DeliveryStatus.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "recipient"], name="one_notification_per_recipient"
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(email_status=DeliveryStatus.PENDING),
                name="notification_email_pending",
            ),
        ]

    def __str__(self) -> str:
        # In the active language (page titles, breadcrumbs), without the
        # object's title: that is added only once the gate says the reader sees it.
        if self.data:
            return text_for(self.kind, self.data)
        return self.text


class WebhookDelivery(models.Model):
    """The log of every POST attempt: what the partner's server answered, when."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="log",
        verbose_name=_("webhook endpoint"),
    )
    message = models.ForeignKey(
        OutboxMessage, on_delete=models.CASCADE, related_name="+", verbose_name=_("message")
    )
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="log", verbose_name=_("delivery")
    )
    attempt = models.PositiveIntegerField(_("attempt"))
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.endpoint_id} #{self.attempt}: {self.status_code or self.error[:40]}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
