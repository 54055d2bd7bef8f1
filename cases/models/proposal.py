import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from ..choices import AccessLevel, ShareProposalOutcome, ShareProposalStatus
from .case import Case


class ShareProposal(models.Model):
    """A co-managing agency's proposal that the lead share its case onward.

    Only the lead agency shares a case (the third-party rule); another
    managing agency asks it to, and the lead accepts (the share is then made
    by the lead, `cases.proposals`) or declines. Seen by the lead and the
    proposing agency only (`cases.proposals.visible_share_proposals`).
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="share_proposals", verbose_name=_("case")
    )
    proposing_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposing agency"),
        db_index=False,  # the pending-pair constraint's index leads with the case
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        verbose_name=_("proposed by"),
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("agency to share with"),
        db_index=False,
    )
    level = models.CharField(_("access level"), max_length=10, choices=AccessLevel.choices)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ShareProposalStatus.choices,
        default=ShareProposalStatus.PENDING,
    )
    outcome = models.CharField(
        _("outcome"), max_length=24, choices=ShareProposalOutcome.choices, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("share proposal")
        verbose_name_plural = _("share proposals")
        constraints = [
            # One open question per proposer and agency: a second would only
            # ask the lead the same thing twice.
            models.UniqueConstraint(
                fields=["case", "proposing_agency", "agency"],
                condition=Q(status=ShareProposalStatus.PENDING),
                name="one_pending_proposal_per_pair",
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposing_agency.code} → {self.agency.code}: {self.get_level_display()}"
