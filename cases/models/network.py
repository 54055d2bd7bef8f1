"""Networks and money: who is in a case, how they connect, where the money
went and what was frozen.

Children of a case like notes and identifiers: each has its case, the agency
that recorded it and its own handling code, and is read through the gate
(`cases.access`). A link or a transaction is shown only when both of its
ends are too; a reference to another object (a parent company, a source
note, an MLA request) is shown only to a reader who sees that object.

Both ends of a link or a transaction, and every object an entity, a link or
an asset refers to, are on the same case as it (`cases.networks` checks it):
a case's network is the case's own knowledge. Money followed across cases
goes from an identifier to the same value recorded elsewhere, by the
deconfliction hash (`Identifier.value_hash`), which each transaction copies
for its two ends (`from_hash`, `to_hash`: identifiers are never edited, so
the copies never go stale) and indexes with the time, so one hop of a trace
is one index range whatever the case.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from ..choices import (
    AssetKind,
    AssetState,
    EntityKind,
    InformationAccuracy,
    LinkKind,
    PersonRole,
    SourceReliability,
)
from .case import Case
from .document import Document
from .handling import HandlingMixin
from .identifier import Identifier
from .mla import MLARequest
from .note import Note

#: Amounts and values: up to 18 digits before the point and 18 after (a
#: token's smallest unit, e.g. wei), exact on PostgreSQL.
AMOUNT_DIGITS = 36
AMOUNT_DECIMALS = 18


class _Recorded(HandlingMixin):
    """What every network object carries: its public id, its case, the
    agency that recorded it (which alone changes it), its version and the
    times of the sync order."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    if TYPE_CHECKING:
        case_id: int

    class Meta:
        abstract = True


class Entity(_Recorded):
    """A person, an organisation or a place on a case.

    Names and aliases are kept as written, in any script. Which fields apply
    depends on the kind (a nationality for a person, a registration number
    for an organisation, coordinates for a place); `cases.networks` refuses
    the others.
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="entities", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EntityKind.choices)
    name = models.CharField(_("name"), max_length=300)
    aliases = models.JSONField(
        _("aliases"),
        default=list,
        blank=True,
        help_text=_("Other names, in any script: one per line."),
    )
    description = models.TextField(_("description"), blank=True)
    # A person.
    role = models.CharField(
        _("role on the case"), max_length=12, choices=PersonRole.choices, blank=True
    )
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    # An organisation (and the country of a place).
    registration_number = models.CharField(_("registration number"), max_length=40, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="subsidiaries",
        null=True,
        blank=True,
        verbose_name=_("parent organisation"),
    )
    # A place.
    address = models.CharField(_("address"), max_length=500, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("entity")
        verbose_name_plural = _("entities")
        indexes = [
            models.Index(fields=["updated_at", "public_id"], name="entity_sync_order"),
            # The victims the statistics count, a few among the suspects,
            # companies and places: read from here, not from every entity.
            models.Index(
                fields=["case"],
                condition=Q(kind=EntityKind.PERSON, role=PersonRole.VICTIM),
                name="entity_victims",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="entity_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="entity_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


def _one_end(prefix: str) -> Q:
    """Exactly one of `<prefix>_entity` and `<prefix>_identifier` is set."""
    return Q(**{f"{prefix}_entity__isnull": False, f"{prefix}_identifier__isnull": True}) | Q(
        **{f"{prefix}_entity__isnull": True, f"{prefix}_identifier__isnull": False}
    )


class Link(_Recorded):
    """A relation between two nodes of a case's network, each an entity or an
    identifier: "Kim controls Golden Sands Ltd", "Golden Sands Ltd holds the
    wallet T…". Read from `from_…` to `to_…`, with its source and the 4x4
    evaluation of what it says."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="links", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=LinkKind.choices)
    from_entity = models.ForeignKey(
        Entity,
        on_delete=models.PROTECT,
        related_name="links_out",
        null=True,
        blank=True,
        verbose_name=_("from entity"),
    )
    from_identifier = models.ForeignKey(
        Identifier,
        on_delete=models.PROTECT,
        related_name="links_out",
        null=True,
        blank=True,
        verbose_name=_("from identifier"),
    )
    to_entity = models.ForeignKey(
        Entity,
        on_delete=models.PROTECT,
        related_name="links_in",
        null=True,
        blank=True,
        verbose_name=_("to entity"),
    )
    to_identifier = models.ForeignKey(
        Identifier,
        on_delete=models.PROTECT,
        related_name="links_in",
        null=True,
        blank=True,
        verbose_name=_("to identifier"),
    )
    source_note = models.ForeignKey(
        Note,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("source note"),
    )
    source_document = models.ForeignKey(
        Document,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("source document"),
    )
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
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("link")
        verbose_name_plural = _("links")
        indexes = [models.Index(fields=["updated_at", "public_id"], name="link_sync_order")]
        constraints = [
            models.CheckConstraint(condition=_one_end("from"), name="link_one_from_end"),
            models.CheckConstraint(condition=_one_end("to"), name="link_one_to_end"),
            models.CheckConstraint(
                condition=Q(source_note__isnull=True) | Q(source_document__isnull=True),
                name="link_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.public_id})"


class Transaction(_Recorded):
    """Money moving from one identifier (a bank account, a wallet) to another.

    Indexed for following the money: by its sender and time within the
    recorded identifiers, and by the sender's deconfliction hash and time
    across cases (see the module's docstring).
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="transactions", verbose_name=_("case")
    )
    # Indexed as the first column of (from_identifier, occurred_at).
    from_identifier = models.ForeignKey(
        Identifier,
        on_delete=models.PROTECT,
        related_name="transactions_out",
        db_index=False,
        verbose_name=_("from"),
    )
    to_identifier = models.ForeignKey(
        Identifier,
        on_delete=models.PROTECT,
        related_name="transactions_in",
        verbose_name=_("to"),
    )
    from_hash = models.BinaryField(max_length=32, editable=False, verbose_name=_("sender hash"))
    to_hash = models.BinaryField(max_length=32, editable=False, verbose_name=_("recipient hash"))
    amount = models.DecimalField(
        _("amount"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_DECIMALS
    )
    currency = models.CharField(
        _("currency or token"),
        max_length=21,
        help_text=_("An ISO 4217 code (KRW, USD) or a token and its network (USDT-TRC20)."),
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    reference = models.CharField(
        _("transaction hash or bank reference"), max_length=200, blank=True
    )
    source_document = models.ForeignKey(
        Document,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("source document"),
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        indexes = [
            models.Index(fields=["from_identifier", "occurred_at"], name="transaction_from_time"),
            # A trace reads each value's first transactions in this order and
            # stops at its bound (`cases.trace`); without `id` a sort of the
            # value's whole ledger came first. The columns the gate's rule
            # reads are carried, so that the rows walked past (not the
            # reader's) are judged from the index without their heap pages.
            models.Index(
                fields=["from_hash", "occurred_at", "id"],
                include=["case", "agency", "handling_code", "from_identifier", "to_identifier"],
                name="transaction_from_hash_cover",
            ),
            models.Index(fields=["updated_at", "public_id"], name="transaction_sync_order"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(
                condition=~Q(from_identifier=F("to_identifier")),
                name="transaction_two_ends",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount.normalize():f} {self.currency} ({self.occurred_at:%Y-%m-%d})"


class Asset(_Recorded):
    """Something frozen, seized, confiscated or returned to victims, with the
    history of its states (`AssetStateChange`). `state` and `state_on` repeat
    the latest step of the history, for lists."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="assets", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=14, choices=AssetKind.choices)
    description = models.TextField(_("description"))
    value = models.DecimalField(
        _("value"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_DECIMALS
    )
    currency = models.CharField(_("currency or token"), max_length=21)
    state = models.CharField(_("state"), max_length=12, choices=AssetState.choices)
    state_on = models.DateField(_("state since"))
    holding_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("holding agency"),
        help_text=_("The agency that froze, seized or holds it."),
    )
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    identifier = models.ForeignKey(
        Identifier,
        on_delete=models.PROTECT,
        related_name="assets",
        null=True,
        blank=True,
        verbose_name=_("account or wallet"),
    )
    mla_request = models.ForeignKey(
        MLARequest,
        on_delete=models.PROTECT,
        related_name="assets",
        null=True,
        blank=True,
        verbose_name=_("MLA request"),
    )

    class Meta:
        ordering = ["-state_on", "-id"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        indexes = [models.Index(fields=["updated_at", "public_id"], name="asset_sync_order")]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="asset_value_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value.normalize():f} {self.currency}"


class AssetStateChange(models.Model):
    """One step of an asset's history: its state from a date, who recorded it.

    Append-only. `case` repeats the asset's case so that the gate reads a
    step like any other case child (its agency disclosed or not).
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    asset = models.ForeignKey(
        Asset, on_delete=models.CASCADE, related_name="history", verbose_name=_("asset")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    state = models.CharField(_("state"), max_length=12, choices=AssetState.choices)
    on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True, max_length=2000)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["on", "created_at", "id"]
        verbose_name = _("asset state change")
        verbose_name_plural = _("asset state changes")

    def __str__(self) -> str:
        return f"{self.get_state_display()} {self.on:%Y-%m-%d}"
