import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from .case import Case
from .document import Document
from .handling import HandlingMixin
from .mla import MLARequest
from .task import Task


class EvidenceUpload(HandlingMixin):
    """An evidence file in transit: a resumable upload (`cases.uploads`).

    It holds what the finished document will say (case, title, handling) and
    how far the bytes have come (`offset` of `length`); the bytes themselves
    wait in a partial file until the last one arrives, when the evidence
    intake turns them into a `Document`. Until then it is nobody's evidence:
    visible to its uploader only, and deleted with its bytes when it expires.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="+", verbose_name=_("agency")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    task = models.ForeignKey(
        Task,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("task"),
    )
    mla_request = models.ForeignKey(
        MLARequest,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("MLA request"),
    )
    supersedes = models.ForeignKey(
        Document,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("supersedes"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    original_name = models.CharField(_("original file name"), max_length=255)
    # The hash the client says the whole file has: checked when complete.
    declared_sha256 = models.CharField(_("declared SHA-256"), max_length=64, blank=True)
    length = models.PositiveBigIntegerField(_("length in bytes"))
    offset = models.PositiveBigIntegerField(_("bytes received"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    # Set once the bytes became evidence.
    document = models.OneToOneField(
        Document,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("document"),
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("evidence upload")
        verbose_name_plural = _("evidence uploads")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.offset}/{self.length})"

    @property
    def is_complete(self) -> bool:
        return self.document_id is not None
