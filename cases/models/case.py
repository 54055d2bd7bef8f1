import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase

from agencies.models import Agency

from ..choices import AccessLevel, CaseStatus
from .handling import HandlingMixin


class Case(HandlingMixin):
    """A case file: the unit that agencies share with each other.

    Visibility is never decided here: see `cases.access`, the one gate.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    reference = models.CharField(_("reference"), max_length=40, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    crime_types = models.JSONField(_("crime types"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    # Indexed by (lead_agency, -updated_at) below; a second index on the
    # column alone would only slow every case write.
    lead_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="led_cases",
        verbose_name=_("lead agency"),
        db_index=False,
    )
    discoverable = models.BooleanField(
        _("discoverable"),
        default=True,
        help_text=_(
            "Other agencies' deconfliction searches may learn that the lead agency holds a "
            "match. Off: they learn nothing, and the lead agency is still told of the search."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("updated by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Indexed by (updated_at, public_id), the keyset order, below.
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # Bumped by every service write: the basis of ETags and optimistic locking.
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    if TYPE_CHECKING:
        # Not columns: set on the rows that the gate's bulk reads return
        # (`access.require_many`, `sharing`), named here for the type checker.
        cb_gate_level: str | None
        cb_hidden: bool
        cb_has_documents: bool

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        permissions = [
            ("contribute_case", "Can contribute to case"),
            ("manage_case", "Can manage case"),
        ]
        indexes = [
            models.Index(fields=["lead_agency", "-updated_at"]),
            # The API's keyset order (updated_at, public_id), either direction:
            # an agency that sees many cases walks it newest first and stops
            # after one page instead of sorting everything it sees.
            models.Index(fields=["updated_at", "public_id"], name="case_updated_public"),
            # The list's `ordering=created_at` (either direction): the cases
            # walked in that order, each joined to the agency's grant, instead
            # of every visible case sorted (713 ms → 2 ms at 1M).
            models.Index(fields=["created_at", "public_id"], name="case_created_public"),
            # The few cases kept out of deconfliction, whose leads are told
            # when their values are searched (`deconfliction.answer_recorded`).
            models.Index(
                fields=["id"], condition=models.Q(discoverable=False), name="case_not_discoverable"
            ),
            # The lead of a case a child row names, read by the gate's rule
            # from this small index instead of the wide case rows (a trace
            # asks it of thousands of transactions' cases).
            models.Index(fields=["id"], include=["lead_agency"], name="case_lead_columns"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def lead_agency_code(self) -> str:
        """What the API calls the lead agency (a list row carries it as a column)."""
        return self.lead_agency.code


class CaseSequence(models.Model):
    """Last reference number used per agency and year.

    A counter row locked by UPDATE serialises concurrent `create_case` calls
    for the same agency and year, so two never get the same reference.
    """

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="+", verbose_name=_("agency")
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    last_value = models.PositiveIntegerField(default=0, verbose_name=_("last number used"))

    class Meta:
        verbose_name = _("case reference counter")
        verbose_name_plural = _("case reference counters")
        constraints = [
            models.UniqueConstraint(fields=["agency", "year"], name="case_sequence_agency_year")
        ]

    def __str__(self) -> str:
        return f"{self.agency_id}/{self.year}: {self.last_value}"


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian's direct-FK grant table for cases: the one source of truth of
    access. A row is an agency Group's `view`/`contribute`/`manage` grant on a
    case, and carries everything the access decision needs: its expiry, and
    the case's position in the agency's list.
    """

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE, verbose_name=_("case"))
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    # Access stops at this second, whether or not the expiry job has run.
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # The case's position in the agency's list: the later of the case's
    # `updated_at` and `granted_at` (a newly shared case shows after a
    # partner's sync cursor), and its `public_id`. Written by the database
    # (migration 0021, the one place), never by the application: with them an
    # agency's page is read from one index instead of sorting all it sees.
    list_updated_at = models.DateTimeField(null=True, editable=False)
    list_public_id = models.UUIDField(null=True, editable=False)
    # Copies of the case's columns that investigators filter the list by,
    # kept by the same triggers (migration 0021): a filtered page is read
    # from the agency's index, filtering index entries, instead of visiting
    # each case it walks past. Never read for access.
    list_status = models.CharField(max_length=12, db_default="", editable=False)
    list_handling_code = models.CharField(max_length=12, db_default="", editable=False)
    list_lead_agency_id = models.BigIntegerField(null=True, editable=False)
    # And of its crime types, its creation and its own last change (the list
    # position above is the later of that and the share), which the list's
    # `crime_type`, `created_*` and `updated_*` filters and its
    # `ordering=created_at` read (migration 0026, the same triggers).
    list_crime_types = models.JSONField(null=True, editable=False)
    list_created_at = models.DateTimeField(null=True, editable=False)
    list_case_updated_at = models.DateTimeField(null=True, editable=False)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("case permission")
        verbose_name_plural = _("case permissions")
        # An agency's list in order, with what a filter or the join needs
        # carried in the entry: a filtered page walks the entries, filtering
        # them in the index, and visits only the cases it returns. (An index
        # per filtered value was faster for rare values, but slowed the
        # 10,000-case share past its 5 s.)
        indexes = [
            models.Index(
                fields=["group", "permission", "list_updated_at", "list_public_id"],
                include=[
                    "expires_at",
                    "content_object",
                    "list_status",
                    "list_handling_code",
                    "list_lead_agency_id",
                    "list_crime_types",
                    "list_created_at",
                    "list_case_updated_at",
                ],
                name="case_grant_list_order",
            ),
            # The agency's list by creation (`ordering=created_at`, either
            # direction), keyed as the list order is: a page walks the
            # agency's own entries and stops. Only what the rule and the join
            # need is carried: a filter combined with this order reads the
            # grant row of each entry it walks (never the case's), which keeps
            # this second entry per grant at about half the list order's.
            models.Index(
                fields=["group", "permission", "list_created_at", "list_public_id"],
                include=["expires_at", "content_object"],
                name="case_grant_created_order",
            ),
            # The rule asked of one case (`grant_held`), answered from the
            # index alone: a child list (tasks, notes, identifiers) asks it
            # of each row it walks. Guardian's own unique index has the same
            # key but not the expiry.
            models.Index(
                fields=["group", "permission", "content_object"],
                include=["expires_at"],
                name="case_grant_probe",
            ),
        ]


class ParticipationQuerySet(models.QuerySet["CaseParticipation"]):
    def active(self, at: datetime | None = None) -> "ParticipationQuerySet":
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )


class CaseParticipation(models.Model):
    """The human record of a share: who gave which agency what, when, until
    when, confidential or not. Read for display, disclosure and audit; access
    itself is decided by the grants (`CaseGroupObjectPermission`) alone.
    """

    class EndReason(models.TextChoices):
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="participations", verbose_name=_("case")
    )
    # Indexed by (agency, case) in Meta: a second index on the agency alone
    # would only slow every participation write (each case touch rewrites them).
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="participations",
        verbose_name=_("agency"),
        db_index=False,
    )
    level = models.CharField(_("access level"), max_length=10, choices=AccessLevel.choices)
    confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_(
            "This agency does not see who else participates, and other participants do not see it."
        ),
    )
    # Not indexed (nor is `revoked_by`): nothing looks participations up by
    # who granted or ended them, and every share and revoke wrote three more
    # index entries per row for it (cases 0012). Deleting a user or agency
    # (PROTECT) then scans the table once.
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        verbose_name=_("granted by"),
    )
    granted_by_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        verbose_name=_("granting agency"),
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        verbose_name=_("revoked by"),
    )
    end_reason = models.CharField(
        max_length=10, choices=EndReason.choices, blank=True, verbose_name=_("end reason")
    )
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    objects = ParticipationQuerySet.as_manager()

    class Meta:
        ordering = ["granted_at", "id"]
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "agency"],
                condition=Q(revoked_at__isnull=True),
                name="one_open_participation_per_agency",
            )
        ]
        indexes = [
            models.Index(fields=["agency", "case"], name="participation_agency_case"),
        ]

    def __str__(self) -> str:
        # Shown on the case page (participants): the level in words, translated.
        return f"{self.agency.code}: {self.get_level_display()}"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class CaseTombstone(models.Model):
    """That an agency lost access to a case, and when: what a partner
    system's sync needs to drop its copy (`GET /api/v1/cases/tombstones/`).

    Only the case's id and a time, so it can be shown to the agency that lost
    access without showing it anything it no longer sees; only that agency
    ever reads it (`access.visible_case_tombstones`). Written by the services
    that end a participation (revoke, expiry, hand-over without staying), in
    their transaction; one per (case, agency), removed when the case is shared
    with the agency again (it is then back in the agency's case feed).
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("case"), db_index=False
    )
    # The case's public id, copied (it never changes): the feed is read
    # without a join.
    case_public_id = models.UUIDField(editable=False, verbose_name=_("case public ID"))
    agency = models.ForeignKey(
        Agency,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("agency"),
        db_index=False,
    )
    at = models.DateTimeField(_("access ended at"))

    class Meta:
        verbose_name = _("case tombstone")
        verbose_name_plural = _("case tombstones")
        constraints = [
            models.UniqueConstraint(fields=["case", "agency"], name="one_tombstone_per_case_agency")
        ]
        indexes = [
            # The feed's keyset order (`config.api.pagination`), per agency.
            models.Index(fields=["agency", "at", "public_id"], name="tombstone_agency_feed")
        ]

    def __str__(self) -> str:
        return f"{self.case_public_id} gone for agency {self.agency_id} at {self.at}"
