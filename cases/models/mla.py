import uuid
from datetime import datetime

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Case as DbCase
from django.db.models import Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase

from agencies.models import Agency

from ..choices import LegalBasis, MLAKind, MLAStatus, Urgency
from .case import Case

# States in which the requested side still owes a decision (accept or refuse).
DECIDING_STATUSES = (
    MLAStatus.SUBMITTED,
    MLAStatus.ACKNOWLEDGED,
    MLAStatus.MORE_INFO_REQUESTED,
)
FINAL_STATUSES = (
    MLAStatus.EXECUTED,
    MLAStatus.PARTIALLY_EXECUTED,
    MLAStatus.REFUSED,
    MLAStatus.WITHDRAWN,
)


def _short(text: str, length: int = 60) -> str:
    """The first line of `text`, cut at a word near `length` characters."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    if len(line) <= length:
        return line
    return line[:length].rsplit(" ", 1)[0] + "…"


class MLARequestQuerySet(models.QuerySet["MLARequest"]):
    """Clock filters and flags usable in lists (one query, no N+1)."""

    def decision_overdue(self, at: datetime | None = None) -> "MLARequestQuerySet":
        at = at or timezone.now()
        return self.filter(status__in=DECIDING_STATUSES, decision_due__lt=at)

    def execution_overdue(self, at: datetime | None = None) -> "MLARequestQuerySet":
        at = at or timezone.now()
        return self.filter(status=MLAStatus.IN_EXECUTION, execution_due__lt=at)

    def preservation_expired(self, at: datetime | None = None) -> "MLARequestQuerySet":
        at = at or timezone.now()
        return self.filter(_preservation_expired_q(at))

    def with_clock_flags(self, at: datetime | None = None) -> "MLARequestQuerySet":
        """Annotate `is_decision_overdue`, `is_execution_overdue`, `is_preservation_expired`."""
        at = at or timezone.now()

        def flag(q: Q) -> DbCase:
            return DbCase(When(q, then=Value(True)), default=Value(False))

        return self.annotate(
            is_decision_overdue=flag(Q(status__in=DECIDING_STATUSES, decision_due__lt=at)),
            is_execution_overdue=flag(Q(status=MLAStatus.IN_EXECUTION, execution_due__lt=at)),
            is_preservation_expired=flag(_preservation_expired_q(at)),
        )


def _preservation_expired_q(at: datetime) -> Q:
    # Budapest art. 29(7): once the follow-up request is received the data
    # stays preserved pending its decision, so a linked preservation never lapses.
    return Q(
        kind=MLAKind.PRESERVATION,
        follow_up__isnull=True,
        preservation_expires_at__lte=at,
    ) & ~Q(status__in=[MLAStatus.DRAFT, *FINAL_STATUSES])


class MLARequest(models.Model):
    """A formal request for mutual legal assistance, or for preservation of data.

    Tied to the requesting side's case, but seen by the requested agency on
    its own: the requested agency gets a grant on the request, never on the
    case (`cases.access.visible_mla_requests`). Every change goes through
    `cases.mla`, where the state machine lives.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=MLAKind.choices, default=MLAKind.FULL)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="mla_requests", verbose_name=_("case")
    )
    requesting_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="mla_requests_sent",
        verbose_name=_("requesting agency"),
    )
    requested_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="mla_requests_received",
        verbose_name=_("requested agency"),
    )
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    legal_basis_detail = models.CharField(
        _("legal basis detail"),
        max_length=300,
        blank=True,
        help_text=_("Treaty title and articles relied on."),
    )
    assistance_types = models.JSONField(_("assistance types"), default=list, blank=True)
    # Per assistance type, what the completeness check needs (see cases.mla.COMPLETENESS).
    details = models.JSONField(_("details"), default=dict, blank=True)
    facts = models.TextField(_("summary of facts"), blank=True)
    offences = models.TextField(_("offences and penalties"), blank=True)
    assistance_sought = models.TextField(_("assistance sought"), blank=True)
    procedures = models.TextField(
        _("procedures to be followed"),
        blank=True,
        help_text=_("Formalities the evidence must meet to be admissible (certification, oath…)."),
    )
    persons_concerned = models.TextField(_("persons and accounts concerned"), blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    urgency_reason = models.TextField(_("reason for urgency"), blank=True)
    confidentiality_required = models.BooleanField(_("confidentiality required"), default=False)
    language = models.CharField(
        _("language"),
        max_length=8,
        default="en",
        validators=[RegexValidator(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$", _("A language code."))],
    )
    response_due_date = models.DateField(
        _("response requested by"),
        null=True,
        blank=True,
        help_text=_("A shorter deadline asked by the requesting side; needs reasons."),
    )
    response_due_reason = models.TextField(_("reasons for the deadline"), blank=True)
    contact_details = models.TextField(_("contact"), blank=True)
    requesting_reference = models.CharField(
        _("requesting side reference"), max_length=100, blank=True
    )
    requested_reference = models.CharField(
        _("requested side reference"), max_length=100, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=MLAStatus.choices, default=MLAStatus.DRAFT
    )
    # Clocks (see cases.mla): receipt starts the decision clock, acceptance
    # (start of execution) the execution clock.
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    decision_due = models.DateTimeField(_("decision due"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    execution_due = models.DateTimeField(_("execution due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    delay_notice_at = models.DateTimeField(_("delay notice filed at"), null=True, blank=True)
    delay_notice_reason = models.TextField(_("delay notice reasons"), blank=True)
    delay_notice_new_due = models.DateTimeField(_("delay notice estimate"), null=True, blank=True)
    preservation_expires_at = models.DateTimeField(
        _("preservation expires at"), null=True, blank=True
    )
    follow_up = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="preservation",
        verbose_name=_("follow-up request"),
        help_text=_("The full request that replaces this preservation request."),
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
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_index=True)
    # Bumped by every service write: the basis of ETags and optimistic locking.
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    objects = MLARequestQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("MLA request")
        verbose_name_plural = _("MLA requests")
        constraints = [
            models.CheckConstraint(
                condition=~Q(requesting_agency=models.F("requested_agency")),
                name="mla_request_between_two_agencies",
            ),
        ]
        indexes = [
            models.Index(fields=["requesting_agency", "status"]),
            models.Index(fields=["requested_agency", "status"]),
        ]

    def __str__(self) -> str:
        # "MLA KR-MOJ → KH-MOJ: <reference>": what both sides call the request.
        kind = _("Preservation") if self.kind == MLAKind.PRESERVATION else _("MLA")
        label = self.requesting_reference.strip() or _short(self.facts) or self.get_kind_display()
        return _("%(kind)s %(requesting)s → %(requested)s: %(label)s") % {
            "kind": kind,
            "requesting": self.requesting_agency.code,
            "requested": self.requested_agency.code,
            "label": label,
        }

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def decision_overdue(self) -> bool:
        return (
            self.status in DECIDING_STATUSES
            and self.decision_due is not None
            and self.decision_due < timezone.now()
        )

    @property
    def execution_overdue(self) -> bool:
        return (
            self.status == MLAStatus.IN_EXECUTION
            and self.execution_due is not None
            and self.execution_due < timezone.now()
        )

    @property
    def preservation_expired(self) -> bool:
        return (
            self.kind == MLAKind.PRESERVATION
            and self.follow_up_id is None
            and self.status not in (MLAStatus.DRAFT, *FINAL_STATUSES)
            and self.preservation_expires_at is not None
            and self.preservation_expires_at <= timezone.now()
        )


# One sentence per recorded event (`MLAStatusChange.event`), naming the agency
# that took the step: the history both sides read.
EVENT_SENTENCES = {
    "submit": _("%(agency)s submitted the request"),
    "acknowledge": _("%(agency)s acknowledged receipt"),
    "request-more-info": _("%(agency)s asked for more information"),
    "provide-info": _("%(agency)s provided the information asked for"),
    "start-execution": _("%(agency)s accepted the request and started executing it"),
    "execute": _("%(agency)s executed the request"),
    "execute-partially": _("%(agency)s executed the request in part"),
    "refuse": _("%(agency)s refused the request"),
    "withdraw": _("%(agency)s withdrew the request"),
    "file-delay-notice": _("%(agency)s announced a delay"),
    "extend-preservation": _("%(agency)s extended the preservation"),
    "link-follow-up": _("%(agency)s linked the follow-up request"),
}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class MLAStatusChange(models.Model):
    """One row per transition or clock event on a request: the formal record.

    Append-only; written only by `cases.mla` in the same transaction as the
    change it records.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    request = models.ForeignKey(
        MLARequest, on_delete=models.CASCADE, related_name="history", verbose_name=_("MLA request")
    )
    event = models.CharField(_("event"), max_length=30)
    from_status = models.CharField(_("from"), max_length=20, choices=MLAStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=MLAStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("actor"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("MLA status change")
        verbose_name_plural = _("MLA status changes")

    def __str__(self) -> str:
        """A history row in words: "KH-MOJ asked for more information: <question>"."""
        agency = self.agency.code if self.agency_id else "?"
        sentence = EVENT_SENTENCES.get(self.event)
        text = str(sentence) % {"agency": agency} if sentence else f"{agency}: {self.event}"
        comment = (self.comment or "").strip()
        if self.event == "link-follow-up":
            # The service records the follow-up's id; both parties see that request.
            follow_up = (
                MLARequest.objects.select_related("requesting_agency", "requested_agency")
                .filter(public_id=comment)
                .first()
                if _is_uuid(comment)
                else None
            )
            comment = str(follow_up) if follow_up else ""
        return f"{text}: {comment}" if comment else text


class MLARequestGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian's direct-FK grant table for MLA requests: the agency layer.

    Only two groups ever appear here per request: the requesting and the
    requested agency's.
    """

    content_object = models.ForeignKey(
        MLARequest, on_delete=models.CASCADE, verbose_name=_("MLA request")
    )

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("MLA request permission")
        verbose_name_plural = _("MLA request permissions")
        indexes = [models.Index(fields=["group", "permission", "content_object"])]
