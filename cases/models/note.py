import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from ..choices import InformationAccuracy, SourceReliability
from .case import Case
from .handling import HandlingMixin


class Note(HandlingMixin):
    """A case journal entry, evaluated with the 4x4 grading.

    Append-only: a journal that can be rewritten is worthless as a record, so
    a correction is a new note.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="notes", verbose_name=_("case")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="notes", verbose_name=_("agency")
    )
    body = models.TextField(_("text"))
    source_reliability = models.CharField(
        _("source reliability"),
        max_length=1,
        choices=SourceReliability.choices,
        default=SourceReliability.X,
    )
    information_accuracy = models.CharField(
        _("information accuracy"),
        max_length=1,
        choices=InformationAccuracy.choices,
        default=InformationAccuracy.UNCORROBORATED,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        # The journal filtered by its author agency, read in the sync order.
        indexes = [
            models.Index(fields=["agency", "created_at", "public_id"], name="note_agency_order")
        ]

    def __str__(self) -> str:
        return f"{self.agency.code} {self.created_at:%Y-%m-%d}"
