import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from .case import Case
from .handling import HandlingMixin
from .mla import MLARequest
from .task import Task


class Document(HandlingMixin):
    """An evidence file attached to a case, immutable once stored.

    A correction is a new document that `supersedes` this one: evidence whose
    bytes or description can change after the fact is worthless in court.
    The original file name is data only; the stored file lives at a generated
    `storage_path`, and `sha256` is re-verified on every download.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="documents", verbose_name=_("case")
    )
    task = models.ForeignKey(
        Task,
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
        verbose_name=_("task"),
    )
    # Annexes of a request, or the evidence the requested side sends back: the
    # request's parties see it even when they do not see the case.
    mla_request = models.ForeignKey(
        MLARequest,
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
        verbose_name=_("MLA request"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    original_name = models.CharField(_("original file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    content_type = models.CharField(_("content type (detected)"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    storage_path = models.CharField(
        max_length=255, unique=True, editable=False, verbose_name=_("storage path")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="documents", verbose_name=_("agency")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Immutable once stored: the only way to change evidence is a new
        # document that supersedes this one (`cases.documents`).
        if self.pk is not None:
            raise ValueError("Evidence documents are immutable once stored.")
        super().save(*args, **kwargs)


class CustodyEvent(models.Model):
    """One hand the evidence passed through: the chain of custody, row by row.

    Written only by `cases.documents`; never changed afterwards.
    """

    class Action(models.TextChoices):
        UPLOAD = "upload", _("Upload")
        DOWNLOAD = "download", _("Download")
        SHARE = "share", _("Shared with another agency")
        VERIFY = "verify", _("Integrity verified")
        SUPERSEDE = "supersede", _("Superseded")
        INTEGRITY_FAILURE = "integrity_failure", _("Integrity failure")

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    document = models.ForeignKey(
        Document,
        on_delete=models.PROTECT,
        related_name="custody_events",
        verbose_name=_("document"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("who"),
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("agency"),
    )
    # For a share: the agency the evidence became visible to.
    recipient_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("recipient agency"),
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    ip = models.CharField(_("IP address"), max_length=45, blank=True)
    purpose = models.TextField(_("purpose"), blank=True)
    sha256 = models.CharField(_("hash at the time"), max_length=64, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")

    def __str__(self) -> str:
        return f"{self.action} {self.occurred_at:%Y-%m-%d %H:%M}"
