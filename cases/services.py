"""Every write on cases, participations, tasks and notes.

Each service checks the actor through `cases.access`, validates its input,
and writes the change together with the guardian grants and participation
records it implies in one transaction: a refused or failed call changes
nothing. Views, serializers and admin classes call these and hold no rules.

A case's `version`, `updated_at` and `updated_by` (and so its ETag and its
place in the sync feed) describe the case row's own fields only: title,
summary, status, handling, lead. Tasks, notes, task progress, participations,
identifiers and documents carry their own and are synced through their own
lists; a write on one of them leaves the case row alone, or a participant
who may not see it (a RED note, a confidential agency's task) would still
see the case change and learn that something happened.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from types import EllipsisType
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Model, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.actors import Actor, AnyUser
from agencies.models import Agency, Membership
from audit import services as audit
from audit.models import AuditAction
from gate.errors import Conflict, PreconditionFailed, ValidationFailed
from gate.roles import Role
from notifications.outbox import emit

from . import access
from .choices import (
    AccessLevel,
    CaseStatus,
    CrimeType,
    HandlingCode,
    HandlingInstruction,
    TaskStatus,
)
from .models import (
    Case,
    CaseParticipation,
    CaseSequence,
    HandlingMixin,
    Note,
    Task,
    TaskLogEntry,
)

# Sharing and revoking live in `cases.sharing` (one code path for one agency
# or many); their public names stay importable from here.
from .sharing import (  # noqa: F401
    Share,
    _agency_of_member,
    _clear_lost_access,
    _end_stale_participation,
    _participation_changes,
    _record_lost_access,
    _require_active_agency,
    _set_grants,
    _validate_expiry,
    revoke_agencies,
    revoke_agency_from_cases,
    revoke_case,
    share_case,
    share_case_with_agencies,
    share_cases_with_agency,
)

# Case status workflow (DESIGN: open → active → suspended/closed → archived).
CASE_TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.OPEN: {CaseStatus.ACTIVE, CaseStatus.CLOSED},
    CaseStatus.ACTIVE: {CaseStatus.SUSPENDED, CaseStatus.CLOSED},
    CaseStatus.SUSPENDED: {CaseStatus.ACTIVE, CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.ACTIVE, CaseStatus.ARCHIVED},
    CaseStatus.ARCHIVED: set(),
}
FINAL_TASK_STATUSES = {TaskStatus.DONE, TaskStatus.CANCELLED}
#: What people write on a case, in the order forms show it: the one list the
#: admin's case form, the API's case input and `create_case`/`update_case`
#: take, so a new editable field is added here and nowhere else.
CASE_EDITABLE_FIELDS = (
    "title",
    "summary",
    "crime_types",
    "handling_code",
    "handling_instruction",
    "handling_restriction",
)
#: Changed only by calling `update_case`: no form or API field offers it.
CASE_SERVICE_ONLY_FIELDS = ("discoverable",)
TASK_MANAGER_FIELDS = {
    "title",
    "description",
    "assigned_agency",
    "assigned_user",
    "priority",
    "due_date",
    "status",
}
TASK_WORKER_FIELDS = {"status", "assigned_user"}
# What the audit log keeps of each object: its metadata. Free text (summary,
# description, note body) is case content, read under its handling code, so
# the log says it changed without copying it.
CASE_AUDIT_FIELDS = (
    "reference",
    "title",
    "crime_types",
    "status",
    "lead_agency",
    "handling_code",
    "handling_instruction",
    "handling_restriction",
)
TASK_AUDIT_FIELDS = (
    "case",
    "title",
    "assigned_agency",
    "assigned_user",
    "priority",
    "due_date",
    "status",
)
NOTE_AUDIT_FIELDS = ("case", "handling_code", "handling_instruction")
AUDIT_TEXT_FIELDS = {"summary", "description"}

#: The models written with optimistic locking (a `version` column).
_Versioned = TypeVar("_Versioned", Case, CaseParticipation, Task)


# --- helpers ----------------------------------------------------------------


def _full_clean(obj: Model, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False)
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc


def _validate_handling(obj: HandlingMixin) -> None:
    if obj.handling_instruction == HandlingInstruction.H3 and not obj.handling_restriction.strip():
        raise ValidationFailed(
            {"handling_restriction": [_("H3 needs the restriction written out.")]}
        )


def _validate_crime_types(values: Any) -> list[str]:
    if not isinstance(values, (list, tuple)):
        raise ValidationFailed({"crime_types": [_("Expected a list of crime types.")]})
    unknown = [v for v in values if v not in CrimeType.values]
    if unknown:
        raise ValidationFailed(
            {"crime_types": [_("Unknown crime type: %(v)s") % {"v": ", ".join(map(str, unknown))}]}
        )
    return list(dict.fromkeys(values))


def _lock(model: type[_Versioned], obj: _Versioned, expected_version: int | None) -> _Versioned:
    """Re-read `obj` under a row lock; refuse if the caller's copy is stale."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if expected_version is not None and locked.version != expected_version:
        raise PreconditionFailed()
    return locked


def _agency_today(agency: Agency) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(agency.timezone)).date()


def _audit_changes(
    before: dict[str, Any], obj: Model, fields: Iterable[str], changed: Iterable[str]
) -> dict[str, Any]:
    """Changed metadata before/after; changed free text only named."""
    diff = audit.changes_between(before, audit.snapshot(obj, fields))
    diff.update({f: "[changed]" for f in AUDIT_TEXT_FIELDS & set(changed)})
    return diff


def _next_reference(agency: Agency) -> str:
    year = _agency_today(agency).year
    CaseSequence.objects.get_or_create(agency=agency, year=year)
    # The UPDATE row lock serialises concurrent creators until commit.
    CaseSequence.objects.filter(agency=agency, year=year).update(last_value=F("last_value") + 1)
    value = CaseSequence.objects.get(agency=agency, year=year).last_value
    return f"{agency.code}-{year}-{value:05d}"


# --- cases ------------------------------------------------------------------


@transaction.atomic
def create_case(*, actor: Actor, **fields: Any) -> Case:
    """Open a case led by the actor's agency, which gets `manage` on it.

    `fields`: any of `CASE_EDITABLE_FIELDS` (a title at least); the others
    take the model's defaults (TLP:AMBER, H0, no crime types).
    """
    membership = access.require_role(actor, Role.COORDINATOR)
    unknown = set(fields) - set(CASE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed({f: [_("This field cannot be set here.")] for f in sorted(unknown)})
    agency = membership.agency
    fields["crime_types"] = _validate_crime_types(list(fields.get("crime_types", ())))
    case = Case(
        **fields,
        lead_agency=agency,
        created_by=actor,
        updated_by=actor,
        reference="pending",
    )
    _full_clean(case)
    _validate_handling(case)
    case.reference = _next_reference(agency)
    case.save()
    CaseParticipation.objects.create(
        case=case,
        agency=agency,
        level=AccessLevel.MANAGE,
        granted_by=actor,
        granted_by_agency=agency,
    )
    _set_grants(case, agency, AccessLevel.MANAGE)
    audit.record(
        action=AuditAction.CREATE,
        obj=case,
        actor=actor,
        changes=audit.created(case, CASE_AUDIT_FIELDS),
    )
    return case


@transaction.atomic
def update_case(
    *, actor: Actor, case: Case, expected_version: int | None = None, **changes: Any
) -> Case:
    access.require(actor, "update", case)
    unknown = set(changes) - {*CASE_EDITABLE_FIELDS, *CASE_SERVICE_ONLY_FIELDS}
    if unknown:
        raise ValidationFailed({f: [_("This field cannot be changed here.")] for f in unknown})
    case = _lock(Case, case, expected_version)
    before = audit.snapshot(case, CASE_AUDIT_FIELDS)
    if "crime_types" in changes:
        changes["crime_types"] = _validate_crime_types(changes["crime_types"])
    for field, value in changes.items():
        setattr(case, field, value)
    _full_clean(case)
    _validate_handling(case)
    if case.handling_code == HandlingCode.AMBER_STRICT and _shared_outside_lead(case):
        raise ValidationFailed(
            {
                "handling_code": [
                    _(
                        "TLP:AMBER+STRICT cannot apply to a case shared with other "
                        "agencies; revoke them first."
                    )
                ]
            }
        )
    case.version += 1
    case.updated_by = actor
    case.updated_at = timezone.now()
    case.save()
    audit.record(
        action=AuditAction.UPDATE,
        obj=case,
        actor=actor,
        changes=_audit_changes(before, case, CASE_AUDIT_FIELDS, changes),
    )
    return case


@transaction.atomic
def change_case_status(
    *, actor: Actor, case: Case, status: str, expected_version: int | None = None
) -> Case:
    """Move a case along its workflow; closing and archiving are the lead's."""
    if status not in CaseStatus.values:
        access.require(actor, "view", case)
        raise ValidationFailed({"status": [_("Unknown status.")]})
    closing = status in (CaseStatus.CLOSED, CaseStatus.ARCHIVED)
    access.require(actor, "close" if closing else "change_status", case)
    case = _lock(Case, case, expected_version)
    if case.status in (CaseStatus.CLOSED, CaseStatus.ARCHIVED):
        access.require(actor, "reopen", case)
    if status not in CASE_TRANSITIONS[case.status]:
        raise Conflict(
            _("A case cannot go from %(a)s to %(b)s.") % {"a": case.status, "b": status},
            field="status",
        )
    old_status = case.status
    case.status = status
    case.version += 1
    case.updated_by = actor
    case.updated_at = timezone.now()
    case.save(update_fields=["status", "version", "updated_by", "updated_at"])
    audit.record(
        action=AuditAction.TRANSITION,
        obj=case,
        actor=actor,
        changes={"status": {"before": old_status, "after": status}},
    )
    emit("case.status_changed", obj=case, actor=actor, status=status)
    return case


def _shared_outside_lead(case: Case) -> bool:
    """Whether any agency but the lead holds access (switched off or not)."""
    holders = Agency.objects.filter(
        access.grant_held(AccessLevel.VIEW, OuterRef("group_id"), case=case.pk)
    )
    return holders.exclude(pk=case.lead_agency_id).exists()


@transaction.atomic
def change_access(
    *,
    actor: Actor,
    participation: CaseParticipation,
    level: str | None = None,
    expires_at: dt.datetime | EllipsisType | None = ...,
    confidential: bool | None = None,
    expected_version: int | None = None,
) -> CaseParticipation:
    access.require(actor, "view", participation)
    case = participation.case
    access.require(actor, "share", case)
    participation = _lock(CaseParticipation, participation, expected_version)
    before = _participation_changes(participation)
    if not participation.is_active:
        raise Conflict(_("This participation has ended; share the case again instead."))
    if participation.agency_id == case.lead_agency_id:
        raise Conflict(_("The lead agency always manages its case; hand the case over instead."))
    # Any change to a managing agency (an expiry is a delayed revocation) is
    # the lead's decision alone, as is making an agency a manager.
    if participation.level == AccessLevel.MANAGE or level == AccessLevel.MANAGE:
        access.require(actor, "revoke_manager", case)
    if confidential is not None and confidential != participation.confidential:
        access.require(actor, "share_confidential", case)
    if level is not None:
        if level not in AccessLevel.values:
            raise ValidationFailed({"level": [_("Unknown access level.")]})
        participation.level = level
    if expires_at is not ...:
        _validate_expiry(expires_at)
        participation.expires_at = expires_at
    if confidential is not None:
        participation.confidential = confidential
    participation.version += 1
    participation.updated_at = timezone.now()
    participation.save()
    _set_grants(case, participation.agency, participation.level, participation.expires_at)
    audit.record(
        action=AuditAction.UPDATE,
        obj=case,
        actor=actor,
        changes={
            "participation": before["participation"],
            "agency": before["agency"],
            **audit.changes_between(before, _participation_changes(participation)),
        },
    )
    return participation


@transaction.atomic
def hand_over_case(
    *,
    actor: Actor,
    case: Case,
    new_lead: Agency,
    keep_level: str | None = AccessLevel.CONTRIBUTE,
    expected_version: int | None = None,
) -> Case:
    """Make `new_lead` the lead agency; the old lead keeps `keep_level` (None: leaves)."""
    access.require(actor, "hand_over", case)
    new_lead = _require_active_agency(new_lead, "new_lead")
    if keep_level is not None and keep_level not in AccessLevel.values:
        raise ValidationFailed({"keep_level": [_("Unknown access level.")]})
    case = _lock(Case, case, expected_version)
    if new_lead.pk == case.lead_agency_id:
        raise ValidationFailed({"new_lead": [_("This agency already leads the case.")]})
    if case.handling_code == HandlingCode.AMBER_STRICT:
        raise ValidationFailed(
            {"new_lead": [_("TLP:AMBER+STRICT: this case cannot leave its lead agency.")]}
        )
    old_lead = case.lead_agency
    now = timezone.now()
    _end_stale_participation(case, new_lead)
    current = CaseParticipation.objects.filter(
        case=case, agency=new_lead, revoked_at__isnull=True
    ).first()
    if current:
        CaseParticipation.objects.filter(pk=current.pk).update(
            level=AccessLevel.MANAGE,
            confidential=False,
            expires_at=None,
            updated_at=now,
            version=F("version") + 1,
        )
    else:
        CaseParticipation.objects.create(
            case=case,
            agency=new_lead,
            level=AccessLevel.MANAGE,
            granted_by=actor,
            granted_by_agency=old_lead,
        )
        _clear_lost_access([case.pk], [new_lead.pk])
    _set_grants(case, new_lead, AccessLevel.MANAGE)
    old = CaseParticipation.objects.get(case=case, agency=old_lead, revoked_at__isnull=True)
    if keep_level is None:
        old.revoked_at, old.revoked_by = now, actor
        old.end_reason = CaseParticipation.EndReason.REVOKED
    else:
        old.level = keep_level
    old.updated_at = now
    old.version += 1
    old.save()
    _set_grants(case, old_lead, keep_level)
    if keep_level is None:
        _record_lost_access([(case, old_lead)], at=now, actor=actor)
    case.lead_agency = new_lead
    case.version += 1
    case.updated_by, case.updated_at = actor, now
    case.save(update_fields=["lead_agency", "version", "updated_by", "updated_at"])
    audit.record(
        action=AuditAction.UPDATE,
        obj=case,
        actor=actor,
        changes={
            "lead_agency": {"before": old_lead.code, "after": new_lead.code},
            "old_lead_keeps": keep_level,
        },
    )
    return case


@transaction.atomic
def expire_participations(*, now: dt.datetime | None = None) -> int:
    """End every participation whose expiry has passed and drop its grants.

    Access already stops at the expiry time (the gate checks it); this job
    makes the grant table and the record say so too.
    """
    now = now or timezone.now()
    due = list(
        CaseParticipation.objects.select_for_update(skip_locked=True)
        .select_related("case", "agency")
        .filter(revoked_at__isnull=True, expires_at__lte=now)
    )
    _record_lost_access([(p.case, p.agency) for p in due], at=now)
    for participation in due:
        participation.revoked_at = now
        participation.end_reason = CaseParticipation.EndReason.EXPIRED
        participation.updated_at = now
        participation.version += 1
        participation.save()
        _set_grants(participation.case, participation.agency, None)
        # A system job: no actor; it goes on the lead agency's trail.
        audit.record(
            action=AuditAction.REVOKE,
            obj=participation.case,
            actor=None,
            agency=participation.case.lead_agency,
            changes=_participation_changes(participation),
            reason="expired",
        )
    return len(due)


# --- tasks ------------------------------------------------------------------


def _validate_assignment(
    case: Case, agency: Agency, user: Actor | None, actor: Actor | None = None
) -> None:
    """The assignee agency must participate *as far as the actor can tell*:
    checking all participations would let a co-participant confirm that a
    confidential agency is in the case by assigning it a task."""
    if not isinstance(agency, Agency) or agency.pk is None:
        raise ValidationFailed({"assigned_agency": [_("Unknown agency.")]})
    participations = (
        access.visible_participations(actor) if actor is not None else CaseParticipation.objects
    )
    if not participations.active().filter(case=case, agency=agency).exists():
        raise ValidationFailed(
            {
                "assigned_agency": [
                    _("Tasks can only be assigned to agencies participating in the case.")
                ]
            }
        )
    if user is not None and (
        not user.is_active or not Membership.objects.filter(user=user, agency=agency).exists()
    ):
        raise ValidationFailed(
            {"assigned_user": [_("The assignee must be an active member of the assigned agency.")]}
        )


def _validate_due_date(due_date: dt.date | None, agency: Agency) -> None:
    if due_date is not None and due_date < _agency_today(agency):
        raise ValidationFailed({"due_date": [_("The due date cannot be in the past.")]})


@transaction.atomic
def create_task(
    *,
    actor: Actor,
    case: Case,
    title: str,
    assigned_agency: Agency,
    description: str = "",
    assigned_user: Actor | None = None,
    priority: str = "normal",
    due_date: dt.date | None = None,
) -> Task:
    access.require(actor, "manage_tasks", case)
    _validate_assignment(case, assigned_agency, assigned_user, actor)
    _validate_due_date(due_date, _agency_of_member(actor))
    task = Task(
        case=case,
        title=title,
        description=description,
        assigned_agency=assigned_agency,
        assigned_user=assigned_user,
        priority=priority,
        due_date=due_date,
        created_by=actor,
    )
    _full_clean(task)
    task.save()
    emit("task.assigned", obj=task, actor=actor, case=case.public_id)
    audit.record(
        action=AuditAction.CREATE,
        obj=task,
        actor=actor,
        changes=audit.created(task, TASK_AUDIT_FIELDS),
    )
    return task


@transaction.atomic
def update_task(
    *, actor: Actor, task: Task, expected_version: int | None = None, **changes: Any
) -> Task:
    """Coordinators of a managing agency change anything; investigators of the
    assigned agency move the status and pick the assignee within their agency."""
    unknown = set(changes) - TASK_MANAGER_FIELDS
    if unknown:
        access.require(actor, "view", task)
        raise ValidationFailed({f: [_("This field cannot be changed here.")] for f in unknown})
    if set(changes) <= TASK_WORKER_FIELDS:
        access.require(actor, "work", task)
    else:
        access.require(actor, "manage", task)
    task = _lock(Task, task, expected_version)
    before = audit.snapshot(task, TASK_AUDIT_FIELDS)
    is_manager = access.can(actor, "manage", task)
    if "status" in changes:
        if changes["status"] not in TaskStatus.values:
            raise ValidationFailed({"status": [_("Unknown status.")]})
        if (
            task.status in FINAL_TASK_STATUSES
            and not is_manager
            and changes["status"] != task.status
        ):
            raise Conflict(_("Only a coordinator can reopen a finished task."), field="status")
    for field, value in changes.items():
        setattr(task, field, value)
    if {"assigned_agency", "assigned_user"} & set(changes):
        _validate_assignment(task.case, task.assigned_agency, task.assigned_user, actor)
    if "due_date" in changes:
        _validate_due_date(task.due_date, _agency_of_member(actor))
    _full_clean(task)
    task.version += 1
    task.updated_at = timezone.now()
    task.save()
    if {"assigned_agency", "assigned_user"} & set(changes):
        emit("task.assigned", obj=task, actor=actor, case=task.case.public_id)
    if "status" in changes and before.get("status") != task.status:
        emit("task.status_changed", obj=task, actor=actor, case=task.case.public_id)
    audit.record(
        action=AuditAction.UPDATE,
        obj=task,
        actor=actor,
        changes=_audit_changes(before, task, TASK_AUDIT_FIELDS, changes),
    )
    return task


# --- notes ------------------------------------------------------------------


@transaction.atomic
def add_note(
    *,
    actor: Actor,
    case: Case,
    body: str,
    handling_code: str = HandlingCode.AMBER,
    handling_instruction: str = HandlingInstruction.H0,
    handling_restriction: str = "",
    source_reliability: str = "X",
    information_accuracy: str = "4",
) -> Note:
    access.require(actor, "contribute", case)
    note = Note(
        case=case,
        author=actor,
        agency=access.agency_of(actor),
        body=body,
        handling_code=handling_code,
        handling_instruction=handling_instruction,
        handling_restriction=handling_restriction,
        source_reliability=source_reliability,
        information_accuracy=information_accuracy,
    )
    _full_clean(note)
    if not note.body.strip():
        raise ValidationFailed({"body": [_("The note is empty.")]})
    _validate_handling(note)
    note.save()
    emit("note.added", obj=note, actor=actor, case=case.public_id)
    audit.record(
        action=AuditAction.CREATE,
        obj=note,
        actor=actor,
        changes=audit.created(note, NOTE_AUDIT_FIELDS),
    )
    return note


# --- task progress log --------------------------------------------------------

TASK_LOG_MAX_LENGTH = 4000


@transaction.atomic
def log_task_progress(*, actor: Actor, task: Task, body: str) -> TaskLogEntry:
    """Add a line to a task's progress log (who did what, when).

    Contributors of the task's assigned agency or of a managing agency may
    (gate action "log_progress"); the log is append-only, and the audit
    trail names the entry, not its text (case content under the case's
    handling code).
    """
    access.require(actor, "log_progress", task)
    body = (body or "").strip() if isinstance(body, str) else ""
    if not body:
        raise ValidationFailed({"body": [_("Write what was done.")]})
    if len(body) > TASK_LOG_MAX_LENGTH:
        raise ValidationFailed(
            {
                "body": [
                    _("Keep it under %(max)d characters (it has %(length)d).")
                    % {"max": TASK_LOG_MAX_LENGTH, "length": len(body)}
                ]
            }
        )
    entry = TaskLogEntry.objects.create(
        task=task,
        case_id=task.case_id,
        agency=_agency_of_member(actor),
        user=actor,
        body=body,
    )
    audit.record(
        action=AuditAction.CREATE,
        obj=entry,
        actor=actor,
        changes={"task": str(task.public_id), "case": str(task.case.public_id)},
    )
    return entry


def allowed_case_statuses(actor: AnyUser, case: Case) -> list[str]:
    """The statuses `actor` may move `case` to now, in workflow order (for
    offering only what `change_case_status` would accept)."""
    if case.status in ENDED_STATUSES_FOR_OFFER and not access.can(actor, "reopen", case):
        return []
    allowed = []
    for status in CaseStatus.values:
        if status not in CASE_TRANSITIONS.get(case.status, set()):
            continue
        closing = status in ENDED_STATUSES_FOR_OFFER
        if access.can(actor, "close" if closing else "change_status", case):
            allowed.append(status)
    return allowed


ENDED_STATUSES_FOR_OFFER = (CaseStatus.CLOSED, CaseStatus.ARCHIVED)
