"""Share proposals: how a case goes on to another agency when its lead did not think of it.

Only the lead agency shares a case onward (the third-party rule: what an
agency contributed goes on only with the originator's consent, and the lead
answers for the case). Another managing agency's coordinator *proposes* a
share instead (`propose_share`); the lead's coordinators accept it (the
share is then made by the lead, through `cases.sharing`) or decline it.

The proposer learns nothing it could not see before. Whether the agency it
names already takes part is decided only from the participations the
proposer may see (`access.visible_participations`): a confidential
participant is proposed like any other agency, and accepting such a proposal
shares nothing and is recorded, for the lead alone, as "already
participates" (`outcome`). The proposer is told "accepted" either way: it
then sees the agency among the participants only if the lead shared openly,
the same as when the lead accepts and chooses a confidential share, so the
two cannot be told apart.

A proposal is seen by the lead agency and the proposing agency, while they
see the case (`visible_share_proposals`); to everybody else it does not exist.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from audit import services as audit
from audit.models import AuditAction
from gate.errors import Conflict, NotFound, PermissionDenied, PreconditionFailed, ValidationFailed
from notifications.outbox import emit

from . import access, sharing
from .choices import (
    ACCESS_LEVEL_ORDER,
    HandlingCode,
    ShareProposalOutcome,
    ShareProposalStatus,
)
from .models import Case, CaseParticipation, ShareProposal

REASON_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 2000

ALREADY_PARTICIPATES = _("This agency already takes part in this case.")
LEAD_SHARES = _("Your agency leads this case: share it directly.")


# --- who sees a proposal ---------------------------------------------------------


def visible_share_proposals(user) -> QuerySet[ShareProposal]:
    """The proposals on cases the user's agency sees, that it made or must decide."""
    return share_proposals_of_agency(access.agency_of(user))


def share_proposals_of_agency(agency: Agency | None) -> QuerySet[ShareProposal]:
    """`visible_share_proposals` for an agency rather than a user (notifications, webhooks)."""
    if agency is None or not agency.active:
        return ShareProposal.objects.none()
    return ShareProposal.objects.filter(
        Q(case__lead_agency_id=agency.pk) | Q(proposing_agency_id=agency.pk),
        case__in=access.visible_to_agency(agency, Case),
    )


def agency_can_see(agency: Agency | None, proposal: ShareProposal) -> bool:
    return (
        proposal.pk is not None
        and share_proposals_of_agency(agency).filter(pk=proposal.pk).exists()
    )


def user_can_see(user, proposal: ShareProposal) -> bool:
    return agency_can_see(access.agency_of(user), proposal)


def outcome_shown_to(user, proposal: ShareProposal) -> str | None:
    """What accepting did, for the lead agency's members; None for anyone else
    (the proposer would learn of a confidential participant)."""
    agency = access.agency_of(user)
    if agency is None or agency.pk != proposal.case.lead_agency_id:
        return None
    return proposal.outcome or None


# --- proposing -----------------------------------------------------------------


@transaction.atomic
def propose_share(
    *,
    actor,
    case: Case,
    agency: Agency,
    level: str,
    reason: str,
    expires_at: dt.datetime | None = None,
    confidential: bool = False,
) -> ShareProposal:
    """Ask the lead agency to share `case` with `agency` (a co-manager's coordinators).

    The answer does not depend on any participation the proposer may not
    see: a proposal naming a confidential participant is accepted for the
    lead to decide, like any other.
    """
    # The case row is locked: two proposals of the same pair, or a proposal
    # and the lead's share, are then taken one after the other.
    (case,) = access.require_many(
        actor,
        "propose_share",
        Case.objects.filter(pk=case.pk).select_for_update(of=("self",)),
        count=1,
    )
    me = access.agency_of(actor)
    if me is None:  # the gate admitted a member of an active agency
        raise NotFound()
    if me.pk == case.lead_agency_id:
        raise PermissionDenied(LEAD_SHARES)
    stored = _check_terms(case, agency, level, reason, expires_at, confidential)
    if stored.pk == case.lead_agency_id:
        raise ValidationFailed({"agency": [_("The lead agency already manages this case.")]})
    # Only what the proposer may see answers here (see the module docstring).
    seen = access.visible_participations(actor).active().filter(case_id=case.pk, agency=stored)
    if seen.exists():
        raise Conflict(ALREADY_PARTICIPATES, field="agency")
    if ShareProposal.objects.filter(
        case=case, proposing_agency=me, agency=stored, status=ShareProposalStatus.PENDING
    ).exists():
        raise Conflict(
            _("Your agency already proposed sharing with this agency; the lead has not decided."),
            field="agency",
        )
    proposal = ShareProposal.objects.create(
        case=case,
        proposing_agency=me,
        proposed_by=actor,
        agency=stored,
        level=level,
        expires_at=expires_at,
        reason=reason.strip(),
    )
    proposal.case = case
    emit("share_proposal.created", obj=proposal, actor=actor)
    audit.record(
        action=AuditAction.CREATE,
        obj=proposal,
        actor=actor,
        changes={
            # The reason is free text, kept on the proposal: only named here.
            **audit.created(proposal, ("level", "expires_at")),
            "case": {"before": None, "after": str(case.public_id)},
            "agency": {"before": None, "after": stored.code},
            "reason": "[set]",
        },
    )
    return proposal


def _check_terms(case, agency, level, reason, expires_at, confidential) -> Agency:
    """Every field error of a proposal at once; the agency as stored now."""
    errors: dict[str, list] = {}
    pk = agency.pk if isinstance(agency, Agency) else None
    stored = Agency.objects.filter(pk=pk).first() if pk else None
    if stored is None:
        errors["agency"] = [_("Unknown agency.")]
    elif not stored.active:
        errors["agency"] = [_("This agency is not active.")]
    elif case.handling_code == HandlingCode.AMBER_STRICT:
        errors["agency"] = [sharing.STRICT]
    if level not in ACCESS_LEVEL_ORDER:
        errors["level"] = [_("Unknown access level.")]
    try:
        sharing._validate_expiry(expires_at)
    except ValidationFailed as error:
        errors.update(error.errors)
    text = (reason or "").strip()
    if not text:
        errors["reason"] = [_("Say why the case should be shared with this agency.")]
    elif len(text) > REASON_MAX_LENGTH:
        errors["reason"] = [
            _("At most %(max)d characters.") % {"max": REASON_MAX_LENGTH},
        ]
    if confidential:
        errors["confidential"] = [
            _(
                "Only the lead agency makes a share confidential; it may choose to when "
                "it accepts your proposal."
            )
        ]
    if errors or stored is None:
        raise ValidationFailed(errors)
    return stored


# --- deciding ----------------------------------------------------------------------


@transaction.atomic
def accept_proposal(
    *,
    actor,
    proposal: ShareProposal,
    confidential: bool = False,
    note: str = "",
    expected_version: int | None = None,
) -> ShareProposal:
    """The lead agency shares the case as proposed (confidentially if it
    chooses). An agency that already takes part is left as it is; the
    proposal is accepted all the same (see the module docstring)."""
    proposal = _decidable(actor, proposal, note, expected_version)
    if proposal.expires_at is not None and proposal.expires_at <= timezone.now():
        raise Conflict(
            _(
                "The proposed access would already have ended; decline this proposal "
                "(the agency may propose again)."
            )
        )
    participates = (
        CaseParticipation.objects.active().filter(case=proposal.case, agency=proposal.agency)
    ).exists()
    if participates:
        outcome = ShareProposalOutcome.ALREADY_PARTICIPATING
    else:
        sharing.share_case(
            actor=actor,
            case=proposal.case,
            agency=proposal.agency,
            level=proposal.level,
            expires_at=proposal.expires_at,
            confidential=confidential,
        )
        outcome = ShareProposalOutcome.SHARED
    return _decide(actor, proposal, ShareProposalStatus.ACCEPTED, outcome, note)


@transaction.atomic
def decline_proposal(
    *, actor, proposal: ShareProposal, note: str = "", expected_version: int | None = None
) -> ShareProposal:
    """The lead agency does not share the case as proposed."""
    proposal = _decidable(actor, proposal, note, expected_version)
    return _decide(actor, proposal, ShareProposalStatus.DECLINED, "", note)


def _decidable(actor, proposal: ShareProposal, note: str, expected_version) -> ShareProposal:
    """The proposal, locked, if the actor may decide it now."""
    locked = (
        visible_share_proposals(actor)
        .select_for_update(of=("self",))
        .select_related("case", "agency", "proposing_agency")
        .filter(pk=proposal.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    # The case's "share" rule: only the lead's coordinators decide.
    access.require(actor, "share", locked.case)
    if expected_version is not None and locked.version != expected_version:
        raise PreconditionFailed()
    if locked.status != ShareProposalStatus.PENDING:
        raise Conflict(_("This proposal has already been decided."))
    if len((note or "").strip()) > NOTE_MAX_LENGTH:
        raise ValidationFailed(
            {"note": [_("At most %(max)d characters.") % {"max": NOTE_MAX_LENGTH}]}
        )
    return locked


def _decide(actor, proposal: ShareProposal, status: str, outcome: str, note: str):
    now = timezone.now()
    proposal.status, proposal.outcome = status, outcome
    proposal.decided_by, proposal.decided_at = actor, now
    proposal.decision_note = (note or "").strip()
    proposal.version += 1
    proposal.updated_at = now
    proposal.save(
        update_fields=[
            "status",
            "outcome",
            "decided_by",
            "decided_at",
            "decision_note",
            "version",
            "updated_at",
        ]
    )
    # The proposer hears the decision, never the outcome.
    emit("share_proposal.decided", obj=proposal, actor=actor, status=status)
    audit.record(
        action=AuditAction.TRANSITION,
        obj=proposal,
        actor=actor,
        changes={
            "status": {"before": ShareProposalStatus.PENDING, "after": status},
            **({"outcome": outcome} if outcome else {}),
            **({"decision_note": "[set]"} if proposal.decision_note else {}),
        },
    )
    return proposal
