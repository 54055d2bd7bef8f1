"""The audit tables: the chained events, the chain head and signed checkpoints."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    SHARE = "share", _("Share")
    REVOKE = "revoke", _("Revoke")
    TRANSITION = "transition", _("Transition")
    UPLOAD = "upload", _("Upload")
    DOWNLOAD = "download", _("Download")
    INTEGRITY_FAILURE = "integrity_failure", _("Integrity failure")
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOGOUT = "logout", _("Logout")
    PERMISSION_REFUSED = "permission_refused", _("Permission refused")
    EXPORT = "export", _("Export")
    SEARCH = "search", _("Search")


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    REFUSED = "refused", _("Refused")
    FAILED = "failed", _("Failed")


class AuditEvent(models.Model):
    """One append-only, hash-chained record of something that happened.

    `hash = sha256(prev_hash || canonical_json(row))` links every row to the
    one before it, so editing, deleting, inserting or reordering a row breaks
    the chain where `verify_audit` will find it. Actor and agency are kept
    both as ids (without database constraints: an append-only row can never
    be updated by an ON DELETE action) and as labels, so the record reads the
    same after a user or agency is renamed.
    """

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True, editable=False)
    occurred_at = models.DateTimeField(_("time (UTC)"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # `audit_agency_time` (agency, -occurred_at) serves it
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency"),
    )
    agency_code = models.CharField(_("agency code"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=24, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    # Looked up with its type (index `audit_object`).
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    changes = models.JSONField(_("changed fields"), default=dict, blank=True)
    # Text, not inet: PostgreSQL would rewrite some IPv6 spellings and break the hash.
    ip = models.CharField(_("IP address"), max_length=45, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS
    )
    reason = models.TextField(_("reason"), blank=True)
    prev_hash = models.CharField(max_length=64, editable=False, verbose_name=_("previous hash"))
    # Not unique-indexed: `seq` is, and each hash covers the previous one, so a
    # fork or an edit shows in `verify_audit` without a fourth random-key
    # index that every append would pay for.
    hash = models.CharField(max_length=64, editable=False, verbose_name=_("hash"))

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["agency", "-occurred_at"], name="audit_agency_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id}"


class AuditChainHead(models.Model):
    """The single row every append locks: it serialises writers, so the chain
    order is the commit order and no two events ever claim the same `seq`."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, verbose_name=_("ID"))
    last_seq = models.PositiveBigIntegerField(default=0, verbose_name=_("last sequence"))
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH, verbose_name=_("last hash"))

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"


class AuditCheckpoint(models.Model):
    """An HMAC-signed statement "the chain had `seq` rows ending in `hash`".

    The hash chain alone cannot show that rows were cut off the end; a
    signed checkpoint can, because a forger without the key cannot lower it.
    """

    seq = models.PositiveBigIntegerField(_("sequence"))
    hash = models.CharField(max_length=64, verbose_name=_("hash"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    signature = models.CharField(max_length=64, verbose_name=_("signature"))

    class Meta:
        ordering = ["-seq", "-id"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"checkpoint #{self.seq}"
