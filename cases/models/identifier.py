import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from ..choices import Chain, IdentifierKind
from .case import Case
from .handling import HandlingMixin


class Identifier(HandlingMixin):
    """A wallet, phone, account, person… recorded on a case for deconfliction.

    `normalised_value` is the canonical form (`cases.identifiers`);
    `value_hash` is an HMAC of (kind, normalised value), the only column
    searches look up, through its index. Matching runs across every case;
    what a searcher is told is filtered in `cases.deconfliction`.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="identifiers", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=IdentifierKind.choices)
    raw_value = models.CharField(_("value as recorded"), max_length=500)
    normalised_value = models.TextField(_("normalised value"), editable=False)
    value_hash = models.BinaryField(max_length=32, editable=False, verbose_name=_("value hash"))
    chain = models.CharField(_("blockchain"), max_length=12, choices=Chain.choices, blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        help_text=_(
            "Nationality of a person, issuing country of a document, country of a bank "
            "account or a phone number."
        ),
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    platform = models.CharField(_("platform"), max_length=50, blank=True)
    bank_code = models.CharField(_("bank code"), max_length=40, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("added by"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="identifiers", verbose_name=_("agency")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Copies of the case's lead agency and `discoverable`, kept by triggers
    # (migration 0031), never written by the application: the pooled
    # statistics count the values that link agencies from one index of the
    # identifiers (`identifier_linking`), not a join of millions to the cases.
    case_lead_agency_id = models.BigIntegerField(editable=False, null=True)
    case_discoverable = models.BooleanField(editable=False, db_default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("identifier")
        verbose_name_plural = _("identifiers")
        constraints = [
            models.UniqueConstraint(fields=["case", "value_hash"], name="identifier_once_per_case")
        ]
        # The API's sync order (created_at, public_id), either direction: a
        # page is read from it, each row asked the gate's rule, instead of
        # sorting every identifier the agency sees; the search takes its most
        # recent matches first from it too (`cases.search`).
        indexes = [
            models.Index(fields=["created_at", "public_id"], name="identifier_sync_order"),
            # Deconfliction's lookup by value, and a value's holders newest
            # case first, read in that order (`cases.graph`'s other cases).
            models.Index(fields=["value_hash", "-case"], name="identifier_hash_case"),
            # A value's holders agency by agency, each one's earliest first:
            # a trace's borders (`deconfliction.answer_recorded`).
            models.Index(
                fields=["value_hash", "agency", "created_at", "id"], name="identifier_hash_agency"
            ),
            # The pooled count of values held by two agencies or more, read
            # value by value from this index alone (`cases.statistics`).
            models.Index(
                fields=["value_hash", "agency"],
                include=["case_lead_agency_id", "created_at"],
                condition=models.Q(case_discoverable=True),
                name="identifier_linking",
            ),
            # What the gate's rule reads of a link's or transaction's end
            # (`access._end_rule`), from this narrow index instead of the
            # wide identifier rows: a 4-hop trace asks it of thousands.
            models.Index(
                fields=["id"],
                include=["case", "agency", "handling_code"],
                name="identifier_rule_columns",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.raw_value}"


class RecordedValue(models.Model):
    """Each value (deconfliction hash) recorded, the first agency that
    recorded it, and whether another agency has recorded it too.

    Written only by a trigger on the identifiers (migration 0032), an upsert
    of the value's row: a second agency recording the value at the same
    moment waits on that row until the first commits, so neither misses the
    other, with no lock held per value beyond the row's own. Never removed:
    `shared` marks a superset of the values that link agencies, which the
    pooled statistics narrow down (about 35,000 of 3.1 million values at 1M
    cases) instead of grouping every identifier by its value.
    """

    value_hash = models.BinaryField(primary_key=True, max_length=32, editable=False)
    agency_id = models.BigIntegerField(editable=False)
    shared = models.BooleanField(editable=False, default=False)

    class Meta:
        verbose_name = _("recorded value")
        verbose_name_plural = _("recorded values")
        indexes = [
            models.Index(
                fields=["value_hash"], condition=models.Q(shared=True), name="value_shared"
            )
        ]

    def __str__(self) -> str:
        return bytes(self.value_hash).hex()


class ContactRequest(models.Model):
    """A searcher's request that the holder of a match get in touch.

    The search hands out a signed contact token, not a row, so a search of
    1,000 identifiers writes nothing; the row is written when the token is
    redeemed, once per (requesting agency, holding agency, value). The
    searched value is kept only as its keyed hash, enough to find the
    holder's matching identifiers and nothing more.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requester_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("requesting agency")
    )
    holder_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("holding agency")
    )
    kind = models.CharField(max_length=20, choices=IdentifierKind.choices, verbose_name=_("kind"))
    value_hash = models.BinaryField(max_length=32, verbose_name=_("value hash"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contact request")
        verbose_name_plural = _("contact requests")
        constraints = [
            models.UniqueConstraint(
                fields=["requester_agency", "holder_agency", "value_hash"],
                name="contact_request_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.requester_agency_id} → {self.holder_agency_id} ({self.kind})"
