"""Mutual legal assistance requests: the state machine and every write on them.

The state machine is the `TRANSITIONS` table below and nothing else: the
services, the API's verbs, the admin's buttons and the tests (which walk the
graph generated from it) all read it. A plain table rather than django-fsm-2:
each transition here needs the same four things (a side, a role, a required
text, a row lock with a history row in the same transaction), which one
function does for all of them; a table can be iterated to generate the
exhaustive tests and the "allowed actions" of a screen; and it adds no
dependency whose decorators would spread the rules over model methods.

Who may act: every transition belongs to one side (`requesting` or
`requested`) and to its coordinators (`cases.access.MLA_RULES`). Creating a
request needs a coordinator of an agency holding at least `contribute` on
the case: the request carries the case's facts to a foreign authority, and
`contribute` is the level at which an agency adds its own work to a case; a
view-only participant must not send the lead's facts abroad.

Clocks (European Investigation Order, Directive 2014/41/EU art. 12): the
requested side decides (accept by starting execution, or refuse) within 30
days of receipt, and executes within 90 days of accepting; both defaults are
configurable per legal basis (`settings.MLA_DEADLINES`). Receipt is
submission: the request reaches the requested side the moment it is
submitted. An urgent request is due within 7 days unless the requesting side
sets a date; a normal request's clock is shortened to the date the
requesting side asks for (with reasons), never lengthened. The requested side
may file one delay notice, which moves the running clock once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from audit import services as audit
from audit.models import AuditAction
from gate.errors import Conflict, DomainError, PreconditionFailed, ValidationFailed
from gate.roles import Role
from notifications.choices import EventType
from notifications.outbox import emit

from . import access
from .choices import AssistanceType, CaseStatus, LegalBasis, MLAKind, MLASide, MLAStatus, Urgency
from .models import Case, MLARequest, MLARequestGroupObjectPermission, MLAStatusChange
from .models.mla import FINAL_STATUSES

# --- the state machine --------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One edge of the graph: who may take it, from where, and what it needs."""

    verb: str
    sources: tuple[str, ...]
    target: str
    side: str
    # When set, the transition needs a non-empty comment; this is what to ask for.
    requires: Any = None

    @property
    def action(self) -> str:
        """The gate action (`cases.access.MLA_RULES`) for this transition's side."""
        return f"act_{self.side}"


NON_FINAL = (
    MLAStatus.DRAFT,
    MLAStatus.SUBMITTED,
    MLAStatus.ACKNOWLEDGED,
    MLAStatus.MORE_INFO_REQUESTED,
    MLAStatus.IN_EXECUTION,
)
S, R = MLASide.REQUESTING, MLASide.REQUESTED

TRANSITIONS: dict[str, Transition] = {
    t.verb: t
    for t in (
        Transition("submit", (MLAStatus.DRAFT,), MLAStatus.SUBMITTED, S),
        Transition("acknowledge", (MLAStatus.SUBMITTED,), MLAStatus.ACKNOWLEDGED, R),
        Transition(
            "request-more-info",
            (MLAStatus.ACKNOWLEDGED,),
            MLAStatus.MORE_INFO_REQUESTED,
            R,
            requires=_("Write the question for the requesting side."),
        ),
        Transition(
            "provide-info",
            (MLAStatus.MORE_INFO_REQUESTED,),
            MLAStatus.ACKNOWLEDGED,
            S,
            requires=_("Write the answer to the requested side's question."),
        ),
        Transition("start-execution", (MLAStatus.ACKNOWLEDGED,), MLAStatus.IN_EXECUTION, R),
        Transition("execute", (MLAStatus.IN_EXECUTION,), MLAStatus.EXECUTED, R),
        Transition(
            "execute-partially",
            (MLAStatus.IN_EXECUTION,),
            MLAStatus.PARTIALLY_EXECUTED,
            R,
            requires=_("Explain what could not be executed and why."),
        ),
        Transition(
            "refuse",
            (MLAStatus.SUBMITTED, MLAStatus.ACKNOWLEDGED, MLAStatus.MORE_INFO_REQUESTED),
            MLAStatus.REFUSED,
            R,
            requires=_("Give the grounds for refusal."),
        ),
        Transition("withdraw", NON_FINAL, MLAStatus.WITHDRAWN, S),
    )
}

# Where a delay notice may be filed: while the requested side owes something.
DELAYABLE = (
    MLAStatus.SUBMITTED,
    MLAStatus.ACKNOWLEDGED,
    MLAStatus.MORE_INFO_REQUESTED,
    MLAStatus.IN_EXECUTION,
)


def allowed_verbs(user, request: MLARequest, *, visible: bool = False) -> list[str]:
    """The transitions `user` may take on `request` now (admin buttons, API hints).

    `visible=True` when the caller got `request` from the gate's selector
    (a list): the side and role are then read from the user's cached
    membership, with no query per row.
    """
    if not visible and not access.can(user, "view", request):
        return []
    side = access.mla_side_of(user, request)
    if side is None or not access.has_role(user, Role.COORDINATOR):
        return []
    return [t.verb for t in TRANSITIONS.values() if request.status in t.sources and t.side == side]


# --- clocks -----------------------------------------------------------------

DEFAULT_DEADLINES = {"default": {"decision_days": 30, "execution_days": 90}}


def deadline_days(legal_basis: str) -> tuple[int, int]:
    """(decision days, execution days) for a legal basis, from settings."""
    conf = getattr(settings, "MLA_DEADLINES", DEFAULT_DEADLINES)
    base = {**DEFAULT_DEADLINES["default"], **conf.get("default", {})}
    own = {**base, **conf.get(legal_basis, {})}
    return int(own["decision_days"]), int(own["execution_days"])


def _urgent_days() -> int:
    return int(getattr(settings, "MLA_URGENT_DAYS", 7))


def _preservation_days() -> int:
    return int(getattr(settings, "MLA_PRESERVATION_DAYS", 60))


def _end_of_day(day: dt.date, agency: Agency) -> dt.datetime:
    """The last moment of `day` where the requested agency works."""
    tz = zoneinfo.ZoneInfo(agency.timezone)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def _due(request: MLARequest, start: dt.datetime, default_days: int) -> dt.datetime:
    asked = (
        _end_of_day(request.response_due_date, request.requested_agency)
        if request.response_due_date
        else None
    )
    if request.urgency == Urgency.URGENT:
        return asked or start + dt.timedelta(days=_urgent_days())
    due = start + dt.timedelta(days=default_days)
    return min(due, asked) if asked else due


# --- completeness -------------------------------------------------------------

# What the UNODC MLA Request Writer prompts for, per assistance type: without
# these the requested side cannot act and sends the request back.
COMPLETENESS: dict[str, list[tuple[str, Any]]] = {
    AssistanceType.SEARCH_AND_SEIZURE: [
        ("evidence_grounds", _("Say why the evidence is believed to be in the requested state.")),
    ],
    AssistanceType.BANK_RECORDS: [
        ("account_identifiers", _("List the account identifiers (IBAN or account numbers).")),
        ("bank_identifiers", _("Name the banks (name, BIC/SWIFT).")),
        ("period_start", _("Give the start of the period (YYYY-MM-DD).")),
        ("period_end", _("Give the end of the period (YYYY-MM-DD).")),
    ],
    AssistanceType.SUBSCRIBER_DATA: [
        ("identifiers", _("List the identifiers (phone numbers, accounts, IP addresses).")),
        ("period_start", _("Give the start of the time window (YYYY-MM-DD).")),
        ("period_end", _("Give the end of the time window (YYYY-MM-DD).")),
    ],
    AssistanceType.WITNESS_STATEMENT: [
        ("person", _("Identify the person to be heard.")),
        ("questions", _("List the questions to put to the witness.")),
    ],
}
# Budapest Convention art. 29(2): what a preservation request must specify.
PRESERVATION_KEY = "preservation"
PRESERVATION_REQUIRED: list[tuple[str, Any]] = [
    ("stored_data", _("Describe the stored data to preserve and its relation to the offence.")),
    ("custodian", _("Say who holds the data or where it is stored.")),
]
DETAIL_KEYS = {*COMPLETENESS, PRESERVATION_KEY}


def _present(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple)):
        return any(_present(v) for v in value)
    return value is not None and value != {}


def missing_for_submission(request: MLARequest) -> dict[str, list[str]]:
    """Everything that keeps `request` from being submitted, by field; empty if complete."""
    missing: dict[str, list[str]] = {}

    def need(field: str, message: Any) -> None:
        missing.setdefault(field, []).append(str(message))

    if not request.facts.strip():
        need("facts", _("Summarise the facts."))
    if not request.offences.strip():
        need("offences", _("Name the offences and their penalties."))
    treaty = request.legal_basis == LegalBasis.BILATERAL_TREATY
    if treaty and not request.legal_basis_detail.strip():
        need("legal_basis_detail", _("Name the treaty and the articles relied on."))
    if request.urgency == Urgency.URGENT and not request.urgency_reason.strip():
        need("urgency_reason", _("Say why the request is urgent."))
    if request.response_due_date and not request.response_due_reason.strip():
        need("response_due_reason", _("Give the reasons for the deadline asked."))
    if request.response_due_date and request.response_due_date < _today(request.requesting_agency):
        need("response_due_date", _("The date asked for is in the past."))
    if not request.assistance_types:
        need("assistance_types", _("Choose at least one type of assistance."))
    details = request.details or {}
    if request.kind == MLAKind.PRESERVATION:
        checks = [(PRESERVATION_KEY, PRESERVATION_REQUIRED)]
    else:
        if not request.assistance_sought.strip():
            need("assistance_sought", _("Describe the assistance sought."))
        checks = [(t, COMPLETENESS[t]) for t in request.assistance_types if t in COMPLETENESS]
    for key, required in checks:
        specifics = details.get(key) or {}
        for name, message in required:
            if not _present(specifics.get(name)):
                need(f"details.{key}.{name}", message)
        start, end = specifics.get("period_start"), specifics.get("period_end")
        if start and end:
            start_date, end_date = _parse(start), _parse(end)
            if start_date is None or end_date is None:
                need(f"details.{key}.period_start", _("Dates are written YYYY-MM-DD."))
            elif start_date > end_date:
                need(f"details.{key}.period_end", _("The period ends before it starts."))
    return missing


def _parse(value: Any) -> dt.date | None:
    try:
        return parse_date(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _today(agency: Agency) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(agency.timezone)).date()


# --- helpers ----------------------------------------------------------------

#: What the requesting side writes in a draft, in the order forms and the API
#: show it: the one list the admin's draft form, the API's draft input and
#: `create_mla_request`/`update_mla_draft` take.
MLA_DRAFT_FIELDS = (
    "requested_agency",
    "legal_basis",
    "legal_basis_detail",
    "assistance_types",
    "details",
    "facts",
    "offences",
    "assistance_sought",
    "procedures",
    "persons_concerned",
    "urgency",
    "urgency_reason",
    "confidentiality_required",
    "language",
    "response_due_date",
    "response_due_reason",
    "contact_details",
    "requesting_reference",
)


def _require_agency(agency: Any) -> None:
    if not isinstance(agency, Agency) or agency.pk is None:
        raise ValidationFailed({"requested_agency": [_("Unknown agency.")]})


def _validate_draft(request: MLARequest) -> None:
    """Shape checks on every save; completeness waits for submission."""
    agency = request.requested_agency
    if not agency.active:
        raise ValidationFailed({"requested_agency": [_("This agency is not active.")]})
    if agency.pk == request.requesting_agency_id:
        raise ValidationFailed(
            {"requested_agency": [_("A request goes to another agency than your own.")]}
        )
    types = request.assistance_types
    if not isinstance(types, list):
        raise ValidationFailed({"assistance_types": [_("Expected a list of assistance types.")]})
    unknown = [t for t in types if t not in AssistanceType.values]
    if unknown:
        raise ValidationFailed(
            {
                "assistance_types": [
                    _("Unknown assistance type: %(v)s") % {"v": ", ".join(map(str, unknown))}
                ]
            }
        )
    request.assistance_types = list(dict.fromkeys(types))
    details = request.details
    if not isinstance(details, dict) or not all(isinstance(v, dict) for v in details.values()):
        raise ValidationFailed(
            {"details": [_("Expected an object of specifics per assistance type.")]}
        )
    stray = set(details) - DETAIL_KEYS - set(AssistanceType.values)
    if stray:
        raise ValidationFailed(
            {"details": [_("Unknown section: %(v)s") % {"v": ", ".join(sorted(stray))}]}
        )
    try:
        request.full_clean(exclude=["case", "requested_agency", "follow_up"], validate_unique=False)
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc


def _lock(request: MLARequest, expected_version: int | None) -> MLARequest:
    """Re-read under a row lock: concurrent writers queue here, and the loser
    sees the winner's state."""
    locked = (
        MLARequest.objects.select_for_update()
        .select_related("requesting_agency", "requested_agency")
        .get(pk=request.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise PreconditionFailed()
    return locked


def _touch(request: MLARequest, actor, now: dt.datetime) -> None:
    request.version += 1
    request.updated_by = actor
    request.updated_at = now


def _record(
    request: MLARequest, *, event: str, from_status: str, actor, now: dt.datetime, comment: str = ""
) -> MLAStatusChange:
    # One audit event per recorded step; the comment (grounds, questions) is
    # content the log does not copy.
    audit.record(
        action=AuditAction.TRANSITION if from_status != request.status else AuditAction.UPDATE,
        obj=request,
        actor=actor,
        changes={"status": {"before": from_status, "after": request.status}},
        reason=event,
    )
    return MLAStatusChange.objects.create(
        request=request,
        event=event,
        from_status=from_status,
        to_status=request.status,
        actor=actor,
        agency=access.agency_of(actor),
        at=now,
        comment=comment,
    )


def _grant_view(request: MLARequest, agency: Agency) -> None:
    permission = Permission.objects.get(
        content_type__app_label="cases", codename=access.MLA_VIEW_CODENAME
    )
    MLARequestGroupObjectPermission.objects.get_or_create(
        content_object=request, group_id=agency.group_id, permission=permission
    )


def _notify_other_side(*, request: MLARequest, event: str, from_status: str, actor) -> None:
    """Tell the other party what just happened, through the outbox:
    the message commits with the change and is delivered after it, filtered
    by the gate at delivery. A draft was never seen by the requested side: a
    withdrawn draft tells nobody.
    """
    if from_status == MLAStatus.DRAFT and event != "submit":
        return
    mine = access.agency_of(actor)
    other = (
        request.requested_agency
        if mine is not None and mine.pk == request.requesting_agency_id
        else request.requesting_agency
    )
    event_type = EventType.MLA_SUBMITTED if event == "submit" else EventType.MLA_TRANSITIONED
    emit(event_type, obj=request, actor=actor, agency=other.public_id, verb=event)


# --- writes -------------------------------------------------------------------


@transaction.atomic
def create_mla_request(
    *,
    actor,
    case: Case,
    requested_agency: Agency,
    legal_basis: str,
    kind: str = MLAKind.FULL,
    **fields: Any,
) -> MLARequest:
    """Draft a request on `case` from the actor's agency; only that agency sees it."""
    access.require(actor, "contribute", case)
    membership = access.require_role(actor, Role.COORDINATOR)
    unknown = set(fields) - set(MLA_DRAFT_FIELDS)
    if unknown:
        raise ValidationFailed({f: [_("This field cannot be set here.")] for f in sorted(unknown)})
    case = Case.objects.get(pk=case.pk)
    if case.status in (CaseStatus.CLOSED, CaseStatus.ARCHIVED):
        raise Conflict(_("A closed case cannot send new requests."), field="case")
    if kind not in MLAKind.values:
        raise ValidationFailed({"kind": [_("Unknown kind of request.")]})
    _require_agency(requested_agency)
    now = timezone.now()
    request = MLARequest(
        kind=kind,
        case=case,
        requesting_agency=membership.agency,
        requested_agency=requested_agency,
        legal_basis=legal_basis,
        created_by=actor,
        updated_by=actor,
        created_at=now,
        updated_at=now,
        **fields,
    )
    _validate_draft(request)
    request.save()
    _grant_view(request, membership.agency)
    audit.record(
        action=AuditAction.CREATE,
        obj=request,
        actor=actor,
        changes={
            "case": str(case.public_id),
            "requested_agency": requested_agency.code,
            "kind": kind,
            "legal_basis": legal_basis,
        },
    )
    return request


@transaction.atomic
def update_mla_draft(
    *, actor, request: MLARequest, expected_version: int | None = None, **changes: Any
) -> MLARequest:
    """Edit a draft; once submitted, a request changes only by transitions."""
    access.require(actor, "act_requesting", request)
    unknown = set(changes) - set(MLA_DRAFT_FIELDS)
    if unknown:
        raise ValidationFailed(
            {f: [_("This field cannot be changed here.")] for f in sorted(unknown)}
        )
    if "requested_agency" in changes:
        _require_agency(changes["requested_agency"])
    request = _lock(request, expected_version)
    if request.status != MLAStatus.DRAFT:
        raise Conflict(_("Only a draft can be edited."))
    for field, value in changes.items():
        setattr(request, field, value)
    _validate_draft(request)
    _touch(request, actor, timezone.now())
    request.save()
    audit.record(
        action=AuditAction.UPDATE,
        obj=request,
        actor=actor,
        changes={field: "[changed]" for field in sorted(changes)},
    )
    return request


@transaction.atomic
def transition_mla_request(
    *,
    actor,
    request: MLARequest,
    verb: str,
    comment: str = "",
    expected_version: int | None = None,
) -> MLARequest:
    """Take one edge of `TRANSITIONS`: exactly one of two concurrent callers wins.

    Refusals, in order: invisible → NotFound; wrong side or role →
    PermissionDenied; not allowed from the current state → Conflict; missing
    text or incomplete request → ValidationFailed. Each leaves nothing changed.
    """
    transition = TRANSITIONS.get(verb)
    if transition is None:
        access.require(actor, "view", request)
        raise ValidationFailed({"verb": [_("Unknown transition.")]})
    access.require(actor, transition.action, request)
    request = _lock(request, expected_version)
    if request.status not in transition.sources:
        raise Conflict(
            _("A request that is %(state)s cannot be moved with “%(verb)s”.")
            % {"state": request.get_status_display(), "verb": verb},
            field="status",
        )
    comment = (comment or "").strip()
    if transition.requires and not comment:
        raise ValidationFailed({"comment": [str(transition.requires)]})
    now = timezone.now()
    from_status = request.status
    if verb == "submit":
        missing = missing_for_submission(request)
        if missing:
            raise ValidationFailed(missing)
        decision_days, _execution_days = deadline_days(request.legal_basis)
        request.received_at = now
        request.decision_due = _due(request, now, decision_days)
        if request.kind == MLAKind.PRESERVATION:
            # Budapest art. 29(7): preserved for at least 60 days.
            request.preservation_expires_at = now + dt.timedelta(days=_preservation_days())
        _grant_view(request, request.requested_agency)
    elif verb == "start-execution":
        _decision_days, execution_days = deadline_days(request.legal_basis)
        request.accepted_at = now
        request.execution_due = _due(request, now, execution_days)
    request.status = transition.target
    if request.status in FINAL_STATUSES:
        request.closed_at = now
    _touch(request, actor, now)
    request.save()
    _record(request, event=verb, from_status=from_status, actor=actor, now=now, comment=comment)
    _notify_other_side(request=request, event=verb, from_status=from_status, actor=actor)
    return request


def submit_mla_request(*, actor, request: MLARequest, **kw: Any) -> MLARequest:
    return transition_mla_request(actor=actor, request=request, verb="submit", **kw)


def acknowledge_mla_request(*, actor, request: MLARequest, **kw: Any) -> MLARequest:
    return transition_mla_request(actor=actor, request=request, verb="acknowledge", **kw)


def request_more_info(*, actor, request: MLARequest, question: str, **kw: Any) -> MLARequest:
    return transition_mla_request(
        actor=actor, request=request, verb="request-more-info", comment=question, **kw
    )


def provide_info(*, actor, request: MLARequest, answer: str, **kw: Any) -> MLARequest:
    return transition_mla_request(
        actor=actor, request=request, verb="provide-info", comment=answer, **kw
    )


def start_execution(*, actor, request: MLARequest, **kw: Any) -> MLARequest:
    return transition_mla_request(actor=actor, request=request, verb="start-execution", **kw)


def execute_mla_request(*, actor, request: MLARequest, **kw: Any) -> MLARequest:
    return transition_mla_request(actor=actor, request=request, verb="execute", **kw)


def execute_partially(*, actor, request: MLARequest, explanation: str, **kw: Any) -> MLARequest:
    return transition_mla_request(
        actor=actor, request=request, verb="execute-partially", comment=explanation, **kw
    )


def refuse_mla_request(*, actor, request: MLARequest, grounds: str, **kw: Any) -> MLARequest:
    return transition_mla_request(
        actor=actor, request=request, verb="refuse", comment=grounds, **kw
    )


def withdraw_mla_request(*, actor, request: MLARequest, **kw: Any) -> MLARequest:
    return transition_mla_request(actor=actor, request=request, verb="withdraw", **kw)


@transaction.atomic
def file_delay_notice(
    *,
    actor,
    request: MLARequest,
    reason: str,
    new_due: dt.datetime,
    expected_version: int | None = None,
) -> MLARequest:
    """The requested side announces a delay: moves the running clock, once."""
    access.require(actor, "act_requested", request)
    request = _lock(request, expected_version)
    if request.status not in DELAYABLE:
        raise Conflict(_("No clock is running on this request."), field="status")
    if request.delay_notice_at is not None:
        raise Conflict(_("A delay notice was already filed; the clock extends only once."))
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = [str(_("Give the reasons for the delay."))]
    clock = "execution_due" if request.status == MLAStatus.IN_EXECUTION else "decision_due"
    current = getattr(request, clock)
    if not isinstance(new_due, dt.datetime) or timezone.is_naive(new_due):
        errors["new_due"] = [str(_("Give the new estimate as a date and time with a time zone."))]
    elif current is not None and new_due <= current:
        errors["new_due"] = [str(_("The new estimate must be later than the current deadline."))]
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    setattr(request, clock, new_due)
    request.delay_notice_at = now
    request.delay_notice_reason = reason.strip()
    request.delay_notice_new_due = new_due
    _touch(request, actor, now)
    request.save()
    comment = f"{reason.strip()}\n\n{_('New estimate')}: {new_due.isoformat()}"
    _record(
        request,
        event="file-delay-notice",
        from_status=request.status,
        actor=actor,
        now=now,
        comment=comment,
    )
    _notify_other_side(
        request=request, event="file-delay-notice", from_status=request.status, actor=actor
    )
    return request


def _require_live_preservation(request: MLARequest) -> None:
    if request.kind != MLAKind.PRESERVATION:
        raise Conflict(_("This is not a preservation request."), field="kind")
    if request.status == MLAStatus.DRAFT or request.status in FINAL_STATUSES:
        raise Conflict(_("Only a submitted, open preservation request can change."))


@transaction.atomic
def extend_preservation(
    *, actor, request: MLARequest, reason: str = "", expected_version: int | None = None
) -> MLARequest:
    """Ask for another preservation period before the current one lapses."""
    access.require(actor, "act_requesting", request)
    request = _lock(request, expected_version)
    _require_live_preservation(request)
    if request.follow_up_id is not None:
        raise Conflict(_("The follow-up request keeps the data preserved; no extension needed."))
    if request.preservation_expired:
        raise Conflict(_("This preservation has expired; send a new request."))
    now = timezone.now()
    request.preservation_expires_at += dt.timedelta(days=_preservation_days())
    _touch(request, actor, now)
    request.save()
    _record(
        request,
        event="extend-preservation",
        from_status=request.status,
        actor=actor,
        now=now,
        comment=(reason or "").strip(),
    )
    _notify_other_side(
        request=request, event="extend-preservation", from_status=request.status, actor=actor
    )
    return request


@transaction.atomic
def link_follow_up(
    *,
    actor,
    preservation: MLARequest,
    follow_up: MLARequest,
    expected_version: int | None = None,
) -> MLARequest:
    """Tie a preservation request to the full request that replaces it."""
    access.require(actor, "act_requesting", preservation)
    access.require(actor, "act_requesting", follow_up)
    preservation = _lock(preservation, expected_version)
    _require_live_preservation(preservation)
    if preservation.follow_up_id is not None:
        raise Conflict(_("This preservation request already has its follow-up."))
    follow_up = MLARequest.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.kind != MLAKind.FULL:
        raise ValidationFailed({"follow_up": [_("The follow-up must be a full MLA request.")]})
    if follow_up.requested_agency_id != preservation.requested_agency_id:
        raise ValidationFailed(
            {"follow_up": [_("The follow-up must go to the same requested agency.")]}
        )
    if follow_up.status in (MLAStatus.DRAFT, MLAStatus.WITHDRAWN, MLAStatus.REFUSED):
        raise ValidationFailed(
            {"follow_up": [_("Submit the follow-up request before linking it.")]}
        )
    if MLARequest.objects.filter(follow_up=follow_up).exists():
        raise Conflict(_("That request already follows up another preservation request."))
    now = timezone.now()
    preservation.follow_up = follow_up
    _touch(preservation, actor, now)
    preservation.save()
    _record(
        preservation,
        event="link-follow-up",
        from_status=preservation.status,
        actor=actor,
        now=now,
        comment=str(follow_up.public_id),
    )
    _notify_other_side(
        request=preservation, event="link-follow-up", from_status=preservation.status, actor=actor
    )
    return preservation


def mla_requests_for(user, *, statuses: Iterable[str] | None = None):
    """The list a user sees, with clock flags annotated (selector for lists)."""
    qs = (
        access.visible_mla_requests(user)
        .select_related("requesting_agency", "requested_agency")
        .with_clock_flags()
    )
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    return qs


# --- words for people (admin pages, letters, notifications) --------------------

# The button of each action, in words; the keys are `TRANSITIONS`' verbs and
# the other recorded events.
VERB_LABELS: dict[str, Any] = {
    "submit": _("Submit"),
    "acknowledge": _("Acknowledge"),
    "request-more-info": _("Ask for more information"),
    "provide-info": _("Provide the information"),
    "start-execution": _("Accept and start execution"),
    "execute": _("Mark as executed"),
    "execute-partially": _("Mark as partially executed"),
    "refuse": _("Refuse"),
    "withdraw": _("Withdraw"),
    "file-delay-notice": _("File a delay notice"),
    "extend-preservation": _("Extend the preservation"),
    "link-follow-up": _("Link the follow-up request"),
}


def verb_label(verb: str) -> str:
    """The button label of `verb`, translated; the verb itself when unknown."""
    return str(VERB_LABELS.get(verb, verb))


def may_file_delay_notice(user, request: MLARequest) -> bool:
    """Whether `file_delay_notice` would accept `user` on `request` as it is now."""
    if request.status not in DELAYABLE or request.delay_notice_at is not None:
        return False
    try:
        access.require(user, "act_requested", request)
    except DomainError:
        return False
    return True


def end_of_day(day: dt.date, agency: Agency) -> dt.datetime:
    """The last moment of `day` where `agency` works (a date picked in a form)."""
    return _end_of_day(day, agency)


def _may_change_live_preservation(user, request: MLARequest) -> bool:
    if request.kind != MLAKind.PRESERVATION or request.follow_up_id is not None:
        return False
    if request.status == MLAStatus.DRAFT or request.status in FINAL_STATUSES:
        return False
    try:
        access.require(user, "act_requesting", request)
    except DomainError:
        return False
    return True


def may_extend_preservation(user, request: MLARequest) -> bool:
    """Whether `extend_preservation` would accept `user` on `request` as it is now."""
    return _may_change_live_preservation(user, request) and not request.preservation_expired


def may_link_follow_up(user, request: MLARequest) -> bool:
    """Whether `link_follow_up` may be offered to `user` on this preservation request."""
    return _may_change_live_preservation(user, request)


def follow_up_candidates(user, preservation: MLARequest):
    """Full requests `user` could name as the follow-up of `preservation`."""
    return (
        access.visible_mla_requests(user)
        .filter(
            kind=MLAKind.FULL,
            requesting_agency_id=preservation.requesting_agency_id,
            requested_agency_id=preservation.requested_agency_id,
            preservation__isnull=True,
        )
        .exclude(status__in=[MLAStatus.DRAFT, MLAStatus.WITHDRAWN, MLAStatus.REFUSED])
        .select_related("requesting_agency", "requested_agency")
    )
