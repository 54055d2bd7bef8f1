"""The one permission gate.

Two questions are answered here and nowhere else:

* which objects may this user see (`visible_cases`, `visible_tasks`, …), and
* may this user do this to this object (`can`, `require`).

The API's querysets and permission classes, the admin's `get_queryset` and
`has_*_permission`, the services and the notification jobs all call this
module; nothing else filters by agency.

Two layers decide (see DESIGN.md). The *agency layer* is a django-guardian
object permission granted to the agency's Group (`view_case`,
`contribute_case`, `manage_case`), backed by an active `CaseParticipation`:
requiring both means an expired participation stops access at the second it
expires, not when the expiry job next runs. The *role layer* is the user's
role in their agency.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import (
    BooleanField,
    DateTimeField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Membership
from audit.models import AuditEvent
from gate.errors import Conflict, NotFound, PermissionDenied
from gate.roles import ROLE_RANK, Role

from .choices import ACCESS_LEVEL_ORDER, AccessLevel, CaseStatus, HandlingCode
from .models import (
    Case,
    CaseGroupObjectPermission,
    CaseParticipation,
    CaseTombstone,
    CustodyEvent,
    Document,
    EvidenceUpload,
    Identifier,
    MLARequest,
    MLARequestGroupObjectPermission,
    MLAStatusChange,
    Note,
    Task,
    TaskLogEntry,
)

_MISSING = object()

# Handling codes whose notes never leave the authoring agency (TLP 2.0:
# AMBER+STRICT stays in the organisation; RED is for named recipients).
AGENCY_ONLY_CODES = (HandlingCode.AMBER_STRICT, HandlingCode.RED)


def membership_of(user) -> Membership | None:
    """The user's active membership in an active agency, or None.

    None for anonymous, inactive and agency-less users (including superusers:
    administering the platform does not open case content).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    cached = getattr(user, "_cb_membership", _MISSING)
    if cached is _MISSING:
        if Membership._meta.get_field("user").remote_field.is_cached(user):
            # Loaded with the user (bearer token, `agencies.backends`): the
            # same answer without a second query on every request.
            loaded = getattr(user, "membership", None)
            cached = loaded if loaded is not None and loaded.agency.active else None
        else:
            cached = (
                Membership.objects.select_related("agency")
                .filter(user_id=user.pk, agency__active=True)
                .first()
            )
        user._cb_membership = cached
    return cached


def agency_of(user) -> Agency | None:
    membership = membership_of(user)
    return membership.agency if membership else None


def has_role(user, role: str) -> bool:
    membership = membership_of(user)
    return membership is not None and ROLE_RANK[membership.role] >= ROLE_RANK[role]


# --- agency layer -----------------------------------------------------------


def level_codenames(level: str) -> list[str]:
    """Guardian codenames granted for an access level (each includes the lower ones)."""
    index = ACCESS_LEVEL_ORDER.index(level)
    return [f"{lvl}_case" for lvl in ACCESS_LEVEL_ORDER[: index + 1]]


_GRANT_HELD_SQL = (
    "EXISTS (SELECT 1 FROM {grant} cb_grant"
    " WHERE cb_grant.content_object_id = {case} AND cb_grant.group_id = %s"
    " AND cb_grant.permission_id = (SELECT cb_perm.id FROM {permission} cb_perm"
    " WHERE cb_perm.codename = %s AND cb_perm.content_type_id = (SELECT cb_ct.id"
    " FROM {content_type} cb_ct WHERE cb_ct.app_label = %s AND cb_ct.model = %s)))"
)


def _table_names(connection) -> dict[str, str]:
    permission = Permission._meta
    return {
        "grant": connection.ops.quote_name(CaseGroupObjectPermission._meta.db_table),
        "permission": connection.ops.quote_name(permission.db_table),
        "content_type": connection.ops.quote_name(
            permission.get_field("content_type").related_model._meta.db_table
        ),
    }


class GrantHeld(Expression):
    """Whether the agency's Group holds guardian's `level` grant on the
    query's case: `EXISTS (…)` on the grant table.

    Written as SQL rather than built as an `Exists` of a grant queryset: the
    ORM compiled that subquery on every request, a third of a list request's
    query compilation (bench/request_cpu.py), for text that only ever differs
    by the group id. tests/foundation/test_grant_held.py holds its rows to
    guardian's `get_objects_for_group`; its aliases are its own, so it nests
    anywhere.

    The permission is found by codename and content type in scalar
    subqueries (a unique-index probe each, planned faster than a join of the
    two tables), not by joining the grants through auth_permission and
    django_content_type: PostgreSQL then plans with the grant table's
    statistics for this group, and walks the newest cases of an agency that
    sees many instead of sorting all of them (bench/cases_page.py). Not a
    per-process cached id: a long-running worker would keep a stale one
    across a rebuilt permission table and silently see nothing.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, group_id: int, level: str):
        super().__init__()
        self.group_id = group_id
        self.codename = f"{level}_case"
        self.case = F("pk")  # an expression, so that Django renames its alias when nesting

    def get_source_expressions(self):
        return [self.case]

    def set_source_expressions(self, exprs):
        (self.case,) = exprs

    def as_sql(self, compiler, connection):
        case_sql, case_params = compiler.compile(self.case)
        # Table names from the models; nothing from a request reaches the text.
        sql = _GRANT_HELD_SQL.format(case=case_sql, **_table_names(connection))  # nosec B608
        case = Case._meta
        return sql, (*case_params, self.group_id, self.codename, case.app_label, case.model_name)


class NowWhenCompiled(Expression):
    """`timezone.now()`, read each time the query is compiled into SQL rather
    than once when it is built, so that a queryset built once (`_per_agency`)
    still hides a participation from the second it expires."""

    output_field = DateTimeField()

    def as_sql(self, compiler, connection):
        return "%s", [self.output_field.get_db_prep_value(timezone.now(), connection)]


def _active_participations():
    return CaseParticipation.objects.active(at=NowWhenCompiled())


def cases_with_level(agency: Agency, level: str = AccessLevel.VIEW) -> QuerySet[Case]:
    """Cases on which `agency` holds at least `level`."""
    participation = _active_participations().filter(case=OuterRef("pk"), agency_id=agency.pk)
    return Case.objects.filter(GrantHeld(agency.group_id, level), Exists(participation))


def _case_layer(agency, known_case: bool) -> Q:
    """The first layer of a case child's rule: its case is visible to the
    agency. Left to the caller (`visible_on_case`) when the case was read
    through the gate in this request: the query then names that case."""
    if known_case:
        return Q()
    return Q(case__in=cases_with_level(agency, AccessLevel.VIEW))


# --- built once per agency and thread ------------------------------------------
#
# Building the gate's querysets through the ORM cost about a millisecond of CPU
# per selector and request (3 ms for participations with their disclosure
# rules; bench/request_cpu.py), for the same structure every time. The
# selectors below are built once per agency and thread and each caller gets a
# clone (`.all()`), as DRF does with a view's class-level `queryset`.
#
# Nothing read from the database is kept: a builder receives only the
# agency's primary key and group id (the cache key, so it cannot depend on
# anything else), the permission is named by codename in a subquery that
# PostgreSQL resolves on every execution, and the time is read at compilation
# (`NowWhenCompiled`). Every grant, participation, expiry and confidentiality
# flag is read by the SQL of each request. Whether the agency is active, and
# the user's membership, are checked before the cache is asked
# (`agency_of`). Per thread, so that no two threads compile the shared
# subqueries at once.


class _AgencyKey(NamedTuple):
    pk: int
    group_id: int


#: A built selector holds ~70 KiB of query objects: at most this many per
#: thread (~18 MiB), the least recently used dropped first.
_MAX_BUILT_PER_THREAD = 256
_built = threading.local()


def _per_agency(build):
    """`build(agency)`, built once per (builder, agency pk, group id) and thread."""
    name = f"{build.__module__}.{build.__qualname__}"

    def get(agency: Agency) -> QuerySet:
        cache = getattr(_built, "querysets", None)
        if cache is None:
            cache = _built.querysets = OrderedDict()
        key = (name, agency.pk, agency.group_id)
        queryset = cache.get(key)
        if queryset is None:
            queryset = cache[key] = build(_AgencyKey(agency.pk, agency.group_id))
            if len(cache) > _MAX_BUILT_PER_THREAD:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return queryset.all()  # a clone: the built one is never evaluated nor changed

    get.__doc__ = build.__doc__
    return get


def agency_level(agency: Agency | None, case: Case) -> str | None:
    """The highest level `agency` holds on `case` right now, or None."""
    if agency is None or case.pk is None:
        return None
    if not CaseParticipation.objects.active().filter(case=case, agency=agency).exists():
        return None
    codenames = set(
        CaseGroupObjectPermission.objects.filter(
            content_object=case, group_id=agency.group_id
        ).values_list("permission__codename", flat=True)
    )
    held = [lvl for lvl in ACCESS_LEVEL_ORDER if f"{lvl}_case" in codenames]
    return held[-1] if held else None


# --- what a user may see ----------------------------------------------------


@_per_agency
def _visible_cases(agency) -> QuerySet[Case]:
    return cases_with_level(agency, AccessLevel.VIEW)


def visible_cases(user) -> QuerySet[Case]:
    agency = agency_of(user)
    if agency is None:
        return Case.objects.none()
    return _visible_cases(agency)


#: Columns of `visible_cases_in_list_order` holding the case's position in
#: the agency's list, (GREATEST(updated_at, the agency's granted_at), public_id),
#: kept by triggers (migrations 0007, 0011) and indexed per agency: order and
#: keyset-filter on these, not on the case's own. A case shared with the
#: agency after its last change lies at the share (`cases.sharing`).
LIST_ORDER_COLUMNS = ("list_updated_at", "list_public_id")


def visible_cases_in_list_order(user) -> QuerySet[Case]:
    """Exactly `visible_cases(user)`, shaped for a page of the list.

    The same two layers, written so that PostgreSQL reads an agency's page
    from the index on (agency, case_updated_at, case_public_id) and stops
    after it, whatever the agency's size (bench/cases_page.py):

    * the active participation is an inner join (`listed`: at most one open
      participation per agency and case, so no row is doubled), whose copies
      of the case's position (`updated_at`, or the share if later) and
      `public_id` the list orders by, selected as `LIST_ORDER_COLUMNS` (the
      page's cursor is taken from them);
    * the guardian grant is checked row by row. `OR false` keeps the EXISTS
      a per-row subplan: pulled up into a semi-join, the planner would take
      grants and participations for independent filters, expect a handful of
      rows and sort every case the agency sees.

    tests/foundation/test_list_order.py holds it equal to `visible_cases`.
    """
    agency = agency_of(user)
    if agency is None:
        return Case.objects.none()
    return _visible_cases_in_list_order(agency)


@_per_agency
def _visible_cases_in_list_order(agency) -> QuerySet[Case]:
    listed = FilteredRelation(
        "participations",
        condition=Q(participations__agency_id=agency.pk, participations__revoked_at__isnull=True)
        & (
            Q(participations__expires_at__isnull=True)
            | Q(participations__expires_at__gt=NowWhenCompiled())
        ),
    )
    per_row_grant = Q(GrantHeld(agency.group_id, AccessLevel.VIEW)) | Q(
        Value(False, output_field=BooleanField())
    )
    return (
        Case.objects.annotate(listed=listed)
        .filter(listed__agency_id=agency.pk)
        .filter(per_row_grant)
        # Named once, on the join just made: a later filter() on
        # `listed__…` (a page's cursor, the sync horizon) would join the
        # participations a second time.
        .annotate(
            list_updated_at=F("listed__case_updated_at"),
            list_public_id=F("listed__case_public_id"),
        )
    )


def _disclosed(agency: Agency, field: str) -> Q:
    """Whether the agency named by `field` on a case child may be shown to `agency`.

    Confidential participation: the confidential agency learns of nobody but
    the lead, and nobody but the lead learns of it. The lead sees everything.
    """
    me_confidential = _active_participations().filter(
        case=OuterRef("case"), agency_id=agency.pk, confidential=True
    )
    # The other agency's *latest* participation decides, ended or not: an
    # agency that was confidential stays hidden after it leaves, and one that
    # was re-shared openly after a confidential spell is shown again (as it is
    # when the lead switches `confidential` off on a running participation).
    other_confidential = Coalesce(
        Subquery(
            CaseParticipation.objects.filter(case=OuterRef("case"), agency=OuterRef(field))
            .order_by("-granted_at", "-id")
            .values("confidential")[:1],
            output_field=BooleanField(),
        ),
        Value(False),
        output_field=BooleanField(),
    )
    return (
        Q(case__lead_agency_id=agency.pk)
        | Q(**{field: agency.pk})
        | Q(**{field: F("case__lead_agency")})
        | (~Q(Exists(me_confidential)) & ~Q(other_confidential))
    )


def visible_participations(user) -> QuerySet[CaseParticipation]:
    agency = agency_of(user)
    if agency is None:
        return CaseParticipation.objects.none()
    return _visible_participations(agency)


def _participations_seen_by(agency, known_case: bool = False) -> QuerySet[CaseParticipation]:
    # Who granted a visible participation is itself a participant: shown only
    # when that agency may be learnt of (a confidential co-manager may share).
    return CaseParticipation.objects.filter(
        _case_layer(agency, known_case), _disclosed(agency, "agency")
    ).annotate(
        granter_disclosed=ExpressionWrapper(
            _disclosed(agency, "granted_by_agency"), output_field=BooleanField()
        )
    )


_visible_participations = _per_agency(_participations_seen_by)


def visible_tasks(user) -> QuerySet[Task]:
    agency = agency_of(user)
    if agency is None:
        return Task.objects.none()
    return _visible_tasks(agency)


@_per_agency
def _visible_tasks(agency) -> QuerySet[Task]:
    return _tasks_seen_by(agency)


def _tasks_seen_by(agency, known_case: bool = False) -> QuerySet[Task]:
    return Task.objects.filter(
        _case_layer(agency, known_case), _disclosed(agency, "assigned_agency")
    )


def visible_task_log_entries(user) -> QuerySet[TaskLogEntry]:
    """Progress logs of visible tasks, each line shown only if its author
    agency may be learnt of (a confidential co-manager's lines stay hidden)."""
    agency = agency_of(user)
    if agency is None:
        return TaskLogEntry.objects.none()
    return _visible_task_log_entries(agency)


def _task_log_entries_seen_by(agency, known_case: bool = False) -> QuerySet[TaskLogEntry]:
    return TaskLogEntry.objects.filter(
        Q(task__in=_tasks_seen_by(agency, known_case)), _disclosed(agency, "agency")
    )


_visible_task_log_entries = _per_agency(_task_log_entries_seen_by)


def visible_notes(user) -> QuerySet[Note]:
    agency = agency_of(user)
    if agency is None:
        return Note.objects.none()
    return _visible_notes(agency)


def _notes_seen_by(agency, known_case: bool = False) -> QuerySet[Note]:
    return Note.objects.filter(
        _case_layer(agency, known_case),
        _disclosed(agency, "agency"),
        ~Q(handling_code__in=AGENCY_ONLY_CODES) | Q(agency_id=agency.pk),
    )


_visible_notes = _per_agency(_notes_seen_by)


def visible_identifiers(user) -> QuerySet[Identifier]:
    """Identifiers on visible cases, under the same handling rules as notes.

    Deconfliction matches across all cases; this is only what is shown in full.
    """
    return identifiers_of_agency(agency_of(user))


def identifiers_of_agency(agency: Agency | None) -> QuerySet[Identifier]:
    """`visible_identifiers` for an agency rather than a user (webhooks)."""
    if agency is None or not agency.active:
        return Identifier.objects.none()
    return _identifiers_of_agency(agency)


def _identifiers_seen_by(agency, known_case: bool = False) -> QuerySet[Identifier]:
    return Identifier.objects.filter(
        _case_layer(agency, known_case),
        _disclosed(agency, "agency"),
        ~Q(handling_code__in=AGENCY_ONLY_CODES) | Q(agency_id=agency.pk),
    )


_identifiers_of_agency = _per_agency(_identifiers_seen_by)


def visible_case_tombstones(user) -> QuerySet[CaseTombstone]:
    """The cases the user's agency lost access to, as tombstones (id and time).

    Only the agency's own: an agency that never saw a case has none for it,
    and no agency learns that another lost access."""
    agency = agency_of(user)
    if agency is None:
        return CaseTombstone.objects.none()
    return CaseTombstone.objects.filter(agency_id=agency.pk)


def tombstone_agency_can_see(agency: Agency | None, tombstone: CaseTombstone) -> bool:
    """A tombstone is its agency's alone (webhook deliveries ask this)."""
    return agency is not None and tombstone.agency_id == agency.pk


def visible_agencies(user) -> QuerySet[Agency]:
    """The directory: active agencies plus the user's own (codes, names, countries, kinds)."""
    agency = agency_of(user)
    if agency is None:
        return Agency.objects.none()
    return Agency.objects.filter(Q(active=True) | Q(pk=agency.pk))


def visible_memberships(user) -> QuerySet[Membership]:
    """Only the user's own agency's members: no agency sees another's staff list."""
    agency = agency_of(user)
    if agency is None:
        return Membership.objects.none()
    return Membership.objects.filter(agency_id=agency.pk)


def disclosed_agency_ids(user, case: Case) -> set[int]:
    """Ids of the agencies `user` may learn take part in `case` (empty if the
    case is invisible).

    The selectors hide a confidential agency's participation, tasks and notes,
    but visible rows still carry people and agencies in other fields
    (`created_by`, `updated_by`, `granted_by`, `granted_by_agency`, a note's
    author…). Serializers and admin pages use this to blank any such field
    whose agency is not in the set, so a confidential agency is not learnt of
    through a co-participant's name, nor a co-participant by the confidential
    agency.
    """
    if case.pk is None:
        return set()
    return set(
        visible_participations(user).filter(case_id=case.pk).values_list("agency_id", flat=True)
    )


# --- what a user may do -----------------------------------------------------


@dataclass(frozen=True)
class Rule:
    level: str
    role: str
    lead_only: bool = False


CASE_RULES: dict[str, Rule] = {
    "view": Rule(AccessLevel.VIEW, Role.VIEWER),
    "contribute": Rule(AccessLevel.CONTRIBUTE, Role.INVESTIGATOR),  # add notes, identifiers
    "update": Rule(AccessLevel.MANAGE, Role.COORDINATOR),
    "change_status": Rule(AccessLevel.MANAGE, Role.COORDINATOR),
    "share": Rule(AccessLevel.MANAGE, Role.COORDINATOR),  # share, change access, revoke
    "manage_tasks": Rule(AccessLevel.MANAGE, Role.COORDINATOR),
    "close": Rule(AccessLevel.MANAGE, Role.COORDINATOR, lead_only=True),
    "hand_over": Rule(AccessLevel.MANAGE, Role.COORDINATOR, lead_only=True),
    "revoke_manager": Rule(AccessLevel.MANAGE, Role.COORDINATOR, lead_only=True),
    # Granting `manage` is the lead's too: a co-manager could otherwise create
    # managers that it then cannot revoke.
    "grant_manage": Rule(AccessLevel.MANAGE, Role.COORDINATOR, lead_only=True),
    # A participation names the agency that granted it; a confidential agency
    # granted by a co-participant would learn of that co-participant. Only the
    # lead, whom a confidential agency sees anyway, sets confidentiality.
    "share_confidential": Rule(AccessLevel.MANAGE, Role.COORDINATOR, lead_only=True),
    # Undoing a closure is as much the lead's decision as closing.
    "reopen": Rule(AccessLevel.MANAGE, Role.COORDINATOR, lead_only=True),
}

# A closed or archived case is a record: nothing is added to or changed in it
# until the lead reopens it (sharing stays possible, e.g. with a prosecutor).
WORK_ON_OPEN_CASES_ONLY = {
    "contribute",
    "update",
    "manage_tasks",
    "manage",
    "work",
    "log_progress",
}
ENDED_CASE_STATUSES = {CaseStatus.CLOSED, CaseStatus.ARCHIVED}

_VISIBLE = {
    Case: visible_cases,
    Task: visible_tasks,
    Note: visible_notes,
    Identifier: visible_identifiers,
    CaseParticipation: visible_participations,
    TaskLogEntry: visible_task_log_entries,
}


def is_visible(user, obj) -> bool:
    return obj.pk is not None and _VISIBLE[type(obj)](user).filter(pk=obj.pk).exists()


def can(user, action: str, obj) -> bool:
    """May `user` do `action` to `obj`? Never raises."""
    try:
        require(user, action, obj)
    except (NotFound, PermissionDenied, Conflict):
        return False
    return True


def require(user, action: str, obj) -> None:
    """Raise NotFound if `obj` is invisible to `user`, PermissionDenied if the
    action is not allowed; return quietly otherwise.

    Case actions are listed in CASE_RULES; on a task, "view", "manage"
    (coordinator of a managing agency) and "work" (an investigator of the
    assigned agency, whose agency contributes, moving it along), "log_progress"
    (a contributor of the assigned or a managing agency); on a note or
    participation, "view"; on an MLA request, see `MLA_RULES`.
    """
    if not is_visible(user, obj):
        raise NotFound()
    membership = membership_of(user)
    if action == "view":
        return
    if isinstance(obj, Case):
        rule = CASE_RULES[action]
        _check_rule(membership, rule, obj)
    elif isinstance(obj, Task) and action == "manage":
        _check_rule(membership, CASE_RULES["manage_tasks"], obj.case)
    elif isinstance(obj, Task) and action == "work":
        if can(user, "manage", obj):
            return
        if obj.assigned_agency_id != membership.agency_id:
            raise PermissionDenied(_("Only the assigned agency can work on this task."))
        _check_rule(membership, Rule(AccessLevel.CONTRIBUTE, Role.INVESTIGATOR), obj.case)
    elif isinstance(obj, Task) and action == "log_progress":
        _check_log_progress(membership, obj, obj.case, agency_level(membership.agency, obj.case))
    elif isinstance(obj, MLARequest):
        _check_mla_rule(membership, action, obj)
        return
    else:
        raise PermissionDenied()
    if action in WORK_ON_OPEN_CASES_ONLY:
        # Read from the database: the caller's case object may predate a closure.
        case_id = obj.pk if isinstance(obj, Case) else obj.case_id
        status = Case.objects.filter(pk=case_id).values_list("status", flat=True).first()
        if status in ENDED_CASE_STATUSES:
            raise Conflict(_("The case is %(status)s: reopen it first.") % {"status": status})


def _check_log_progress(membership: Membership, task: Task, case: Case, level) -> None:
    """A task's progress log takes lines from contributors of the task's
    assigned agency or of a managing agency."""
    _check_rule(membership, CASE_RULES["contribute"], case, level)
    if task.assigned_agency_id != membership.agency_id and level != AccessLevel.MANAGE:
        raise PermissionDenied(
            _("Only the assigned agency or a managing agency can log progress on this task.")
        )


def tasks_user_may_log(user, case: Case, tasks) -> set[int]:
    """Ids of `tasks` (visible tasks of `case`) for which
    `can(user, "log_progress", task)` holds, with the case read once
    (through `require_many`: visibility, level and status in one query;
    not again if `case` was read that way)."""
    membership = membership_of(user)
    if membership is None:
        return set()
    if getattr(case, "cb_gate_level", _MISSING) is _MISSING:
        try:
            (case,) = require_many(user, "view", Case.objects.filter(pk=case.pk), count=1)
        except NotFound:
            return set()
    if case.status in ENDED_CASE_STATUSES:
        return set()
    allowed = set()
    for task in tasks:
        if task.case_id != case.pk:
            continue
        try:
            _check_log_progress(membership, task, case, case.cb_gate_level)
        except PermissionDenied:
            continue
        allowed.add(task.pk)
    return allowed


def require_role(user, role: str) -> Membership:
    """For actions on no object yet (creating a case): the user's membership."""
    membership = membership_of(user)
    if membership is None:
        raise PermissionDenied(_("You are not a member of an active agency."))
    if ROLE_RANK[membership.role] < ROLE_RANK[role]:
        raise PermissionDenied(_("Your role does not allow this action."))
    return membership


def _check_rule(membership: Membership, rule: Rule, case: Case, level=_MISSING) -> None:
    if ROLE_RANK[membership.role] < ROLE_RANK[rule.role]:
        raise PermissionDenied(_("Your role does not allow this action."))
    if rule.lead_only and case.lead_agency_id != membership.agency_id:
        raise PermissionDenied(_("Only the lead agency can do this."))
    if level is _MISSING:
        level = agency_level(membership.agency, case)
    if level is None or ACCESS_LEVEL_ORDER.index(level) < ACCESS_LEVEL_ORDER.index(rule.level):
        raise PermissionDenied(_("Your agency's access level does not allow this action."))


# --- the same, for many cases in one query ------------------------------------
#
# Bulk services (sharing one agency on 10,000 cases) cannot afford `require`'s
# three queries per case. `require_many` answers the same questions for a
# whole queryset in one query: the grants and the participation are EXISTS
# columns of the case rows, and the rules are then applied in memory, by
# `_check_rule` as for one case. `require_loaded` re-applies a rule to a case
# read that way (a lead-only action on some of the cases) without a query.

_LEVEL_COLUMN = "cb_gate_{}"
_PARTICIPATES_COLUMN = "cb_gate_participates"


def require_many(user, action: str, cases: QuerySet[Case], *, count: int) -> list[Case]:
    """`require(user, action, case)` for every case of `cases`, in one query.

    `count` is how many cases the caller asked for: fewer visible rows mean
    one of them is invisible or does not exist, and the whole call is
    NotFound without saying which (existence is information). Returns the
    cases in the queryset's order, with its own annotations and row locks.
    Actions on cases only (see CASE_RULES).
    """
    membership = membership_of(user)
    if membership is None:
        raise NotFound()
    agency = membership.agency
    participation = CaseParticipation.objects.active().filter(
        case=OuterRef("pk"), agency_id=agency.pk
    )
    columns = {
        _LEVEL_COLUMN.format(lvl): GrantHeld(agency.group_id, lvl) for lvl in ACCESS_LEVEL_ORDER
    }
    rows = list(
        cases.annotate(**columns, **{_PARTICIPATES_COLUMN: Exists(participation)}).filter(
            **{_LEVEL_COLUMN.format(AccessLevel.VIEW): True, _PARTICIPATES_COLUMN: True}
        )
    )
    if len(rows) != count:
        raise NotFound()
    for case in rows:
        # `agency_level`'s answer, from the columns instead of two queries.
        held = [lvl for lvl in ACCESS_LEVEL_ORDER if getattr(case, _LEVEL_COLUMN.format(lvl))]
        case.cb_gate_level = held[-1] if held else None
        require_loaded(user, action, case)
    return rows


def require_loaded(user, action: str, case: Case) -> None:
    """`require` for a case read through `require_many` (visible, its level
    known): the same rules, no query. The status of a case that only open
    cases allow is the row's own, read with it (and locked, if the caller
    locked it)."""
    level = getattr(case, "cb_gate_level", _MISSING)
    if level is _MISSING:
        raise ValueError("require_loaded() needs a case read through require_many()")
    if action == "view":
        return
    _check_rule(membership_of(user), CASE_RULES[action], case, level)
    if action in WORK_ON_OPEN_CASES_ONLY and case.status in ENDED_CASE_STATUSES:
        raise Conflict(_("The case is %(status)s: reopen it first.") % {"status": case.status})


# --- mutual legal assistance requests (issue 5) -------------------------------
#
# The agency layer of a request is its own guardian grant (`view_mlarequest`),
# given only to the requesting agency (at creation) and the requested agency
# (at submission) by `cases.mla`. The requested agency sees the request, never
# the case behind it: nothing here touches case grants.

MLA_VIEW_CODENAME = "view_mlarequest"


def visible_mla_requests(user) -> QuerySet[MLARequest]:
    """Requests the user's agency holds a grant on and is a party to.

    The party check repeats what the grants say, so that a stray grant (or a
    draft granted too early) still leaks nothing: a draft is the requesting
    side's alone.
    """
    return mla_requests_of_agency(agency_of(user))


def mla_requests_of_agency(agency: Agency | None) -> QuerySet[MLARequest]:
    """`visible_mla_requests` for an agency rather than a user (notifications, webhooks)."""
    if agency is None or not agency.active:
        return MLARequest.objects.none()
    return _mla_requests_of_agency(agency)


@_per_agency
def _mla_requests_of_agency(agency) -> QuerySet[MLARequest]:
    grant = MLARequestGroupObjectPermission.objects.filter(
        content_object=OuterRef("pk"),
        group_id=agency.group_id,
        permission__codename=MLA_VIEW_CODENAME,
        permission__content_type__app_label="cases",
    )
    party = Q(requesting_agency_id=agency.pk) | (
        Q(requested_agency_id=agency.pk) & ~Q(status="draft")
    )
    return MLARequest.objects.filter(party, Exists(grant))


def visible_mla_status_changes(user) -> QuerySet[MLAStatusChange]:
    return MLAStatusChange.objects.filter(request__in=visible_mla_requests(user))


_VISIBLE[MLARequest] = visible_mla_requests
_VISIBLE[MLAStatusChange] = visible_mla_status_changes

# action -> the side whose coordinators may do it ("view" needs visibility only).
MLA_RULES: dict[str, str] = {
    "act_requesting": "requesting",
    "act_requested": "requested",
}


def mla_side_of(user, request: MLARequest) -> str | None:
    """Which party the user acts for: "requesting", "requested", or None."""
    agency = agency_of(user)
    if agency is None:
        return None
    if agency.pk == request.requesting_agency_id:
        return "requesting"
    if agency.pk == request.requested_agency_id:
        return "requested"
    return None


def _check_mla_rule(membership: Membership, action: str, request: MLARequest) -> None:
    side = MLA_RULES.get(action)
    if side is None:
        raise PermissionDenied()
    party = {
        "requesting": request.requesting_agency_id,
        "requested": request.requested_agency_id,
    }[side]
    if membership.agency_id != party:
        if side == "requesting":
            raise PermissionDenied(_("Only the requesting side can do this."))
        raise PermissionDenied(_("Only the requested side can do this."))
    # MLA requests are formal acts between authorities: coordinators only.
    if ROLE_RANK[membership.role] < ROLE_RANK[Role.COORDINATOR]:
        raise PermissionDenied(_("Only a coordinator can act on an MLA request."))


# --- evidence documents and the audit trail -----------------------------------


def visible_documents(user) -> QuerySet[Document]:
    """Documents follow their case (or their MLA request), and their handling
    code like notes do: RED and AMBER+STRICT evidence stays with the agency
    that uploaded it."""
    return documents_of_agency(agency_of(user))


def documents_of_agency(agency: Agency | None) -> QuerySet[Document]:
    """`visible_documents` for an agency rather than a user (webhooks)."""
    if agency is None or not agency.active:
        return Document.objects.none()
    return _documents_of_agency(agency)


def _documents_seen_by(agency, known_case: bool = False) -> QuerySet[Document]:
    # Correlated EXISTS, not `case__in=`: under the OR below, PostgreSQL can
    # only hash an IN subquery, i.e. read every case the agency sees (4.5 s
    # for a hub of the 1M data set) to show the five documents of one case.
    if known_case:
        case_layer = _case_layer(agency, known_case)
    else:
        visible_case = cases_with_level(agency, AccessLevel.VIEW).filter(pk=OuterRef("case_id"))
        case_layer = Q(Exists(visible_case))
    via_case = case_layer & _disclosed(agency, "agency")
    # A request's documents reach both its parties, case or no case.
    via_request = Q(Exists(_mla_requests_of_agency(agency).filter(pk=OuterRef("mla_request_id"))))
    return Document.objects.filter(
        via_case | via_request,
        ~Q(handling_code__in=AGENCY_ONLY_CODES) | Q(agency_id=agency.pk),
    )


_documents_of_agency = _per_agency(_documents_seen_by)
_VISIBLE[Document] = visible_documents


def _on_known_case(seen_by):
    """`seen_by` without its case layer, built once per agency and thread like
    the selectors. Never a selector by itself: it holds the rows of every
    case; only `visible_on_case` uses it, for a case read through the gate."""

    def on_known_case(agency) -> QuerySet:
        return seen_by(agency, known_case=True)

    on_known_case.__qualname__ = f"{seen_by.__qualname__}.on_known_case"
    return _per_agency(on_known_case)


_ON_KNOWN_CASE = {
    model: _on_known_case(seen_by)
    for model, seen_by in (
        (CaseParticipation, _participations_seen_by),
        (Task, _tasks_seen_by),
        (TaskLogEntry, _task_log_entries_seen_by),
        (Note, _notes_seen_by),
        (Identifier, _identifiers_seen_by),
        (Document, _documents_seen_by),
    )
}


def visible_on_case(user, model: type[Model], case: Case) -> QuerySet:
    """`visible_<model>s(user).filter(case=case)`, for a case read through the
    gate in this request (`require_many`): the case layer of the rule is that
    read, so each query keeps only the rows' own layer (disclosure, handling
    code), built by the same function as the selector's. A page with several
    lists of one case then asks the case's grants once, not once per list
    (bench/workspace_page.py: 1-3 ms less per list at 1M cases).
    tests/foundation/test_visible_on_case.py holds both equal."""
    if getattr(case, "cb_gate_level", _MISSING) is _MISSING:
        raise ValueError("visible_on_case() needs a case read through require_many()")
    agency = agency_of(user)
    if agency is None:
        return model.objects.none()
    return _ON_KNOWN_CASE[model](agency).filter(case_id=case.pk)


def visible_uploads(user) -> QuerySet[EvidenceUpload]:
    """Resumable uploads in transit: their uploader's alone, while a member of
    the agency it uploads for. Bytes that are not yet evidence have one
    custodian; whether they may become evidence is asked again when the last
    byte arrives (`cases.uploads`). An expired upload is gone at its second,
    not when the sweep next runs."""
    agency = agency_of(user)
    if agency is None or not agency.active:
        return EvidenceUpload.objects.none()
    return EvidenceUpload.objects.filter(
        created_by=user, agency=agency, expires_at__gt=timezone.now()
    )


_VISIBLE[EvidenceUpload] = visible_uploads


def visible_audit_events(user):
    """An agency's administrators read their agency's audit trail; nobody
    else reads any of it (a platform superuser verifies the chain instead)."""
    membership = membership_of(user)
    if membership is None or membership.role != Role.AGENCY_ADMIN:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(agency_id=membership.agency_id)


def visible_custody_events(user):
    """Custody events of visible documents, hiding the agencies that
    confidential participation keeps out of sight (as `_disclosed` does)."""
    agency = agency_of(user)
    if agency is None:
        return CustodyEvent.objects.none()
    case_ref = OuterRef("document__case")
    me_confidential = CaseParticipation.objects.active().filter(
        case=case_ref, agency_id=agency.pk, confidential=True
    )
    actor_confidential = CaseParticipation.objects.filter(
        case=case_ref, agency=OuterRef("agency"), confidential=True
    )
    recipient_confidential = CaseParticipation.objects.filter(
        case=case_ref, agency=OuterRef("recipient_agency"), confidential=True
    )
    own_or_lead = Q(agency_id=agency.pk) | Q(agency_id=F("document__case__lead_agency"))
    to_nobody_or_me = Q(recipient_agency__isnull=True) | Q(recipient_agency_id=agency.pk)
    return CustodyEvent.objects.filter(
        Q(document__in=visible_documents(user)),
        Q(document__case__lead_agency_id=agency.pk)
        | (
            ~Q(Exists(me_confidential))
            & (own_or_lead | Q(agency__isnull=True) | ~Q(Exists(actor_confidential)))
            & (to_nobody_or_me | ~Q(Exists(recipient_confidential)))
        )
        | (Q(Exists(me_confidential)) & own_or_lead & to_nobody_or_me),
    )


# --- who may see an object (for notifications, decided at delivery time) ---
#
# The functions above answer for a user; these answer for an agency or list
# the users of a case, with the same rules, so that the notification jobs
# compute recipients here and nowhere else.


def agencies_that_can_see_case(case: Case) -> QuerySet[Agency]:
    """Active agencies holding at least `view` on `case` right now."""
    grant = CaseGroupObjectPermission.objects.filter(
        content_object_id=case.pk,
        group_id=OuterRef("group_id"),
        permission__codename=f"{AccessLevel.VIEW}_case",
        permission__content_type__app_label="cases",
    )
    participation = CaseParticipation.objects.active().filter(
        case_id=case.pk, agency_id=OuterRef("pk")
    )
    return Agency.objects.filter(Exists(grant), Exists(participation), active=True)


def users_who_can_see_case(case: Case) -> QuerySet:
    """Active, human users whose agency sees `case` right now.

    Service accounts are left out: partner systems hear through webhooks.
    """
    return get_user_model().objects.filter(
        is_active=True,
        membership__is_service_account=False,
        membership__agency__in=agencies_that_can_see_case(case),
    )


def visible_to_agency(agency: Agency | None, model) -> QuerySet:
    """`visible_cases` & co. for an agency rather than a user (webhooks)."""
    if agency is None or not agency.active:
        return model.objects.none()
    cases = cases_with_level(agency, AccessLevel.VIEW)
    if model is Case:
        return cases
    if model is Task:
        return Task.objects.filter(Q(case__in=cases), _disclosed(agency, "assigned_agency"))
    if model is Note:
        return Note.objects.filter(
            Q(case__in=cases),
            _disclosed(agency, "agency"),
            ~Q(handling_code__in=AGENCY_ONLY_CODES) | Q(agency_id=agency.pk),
        )
    if model is CaseParticipation:
        return CaseParticipation.objects.filter(Q(case__in=cases), _disclosed(agency, "agency"))
    if model is Identifier:
        return identifiers_of_agency(agency)
    if model is Document:
        return documents_of_agency(agency)
    raise LookupError(f"no visibility rule for {model.__name__}")


def agency_can_see(agency: Agency | None, obj) -> bool:
    return obj.pk is not None and visible_to_agency(agency, type(obj)).filter(pk=obj.pk).exists()


def mla_agency_can_see(agency: Agency | None, request: MLARequest) -> bool:
    return request.pk is not None and mla_requests_of_agency(agency).filter(pk=request.pk).exists()


# --- the same gate for a whole audience (notification fan-out) ----------------
#
# `agency_can_see` and `is_visible` ask about one agency or one user. A note
# on a case seen by 1,250 users would cost thousands of queries that way, so
# these ask the same question for a set. Users inherit their agency's answer:
# every user rule above depends on the user's agency only (roles decide what
# a user may *do*, not what they see).
#
# For one object of the case domain, the agency rules above reduce to three
# facts read in three queries: which agencies see the case, which of them take
# part confidentially, and whether the agency named on the object (a note's
# author agency, a task's assignee) was last a confidential participant.
# `_agencies_that_see_case_child` applies `_disclosed` and the handling codes
# to them; tests/notifications/test_fan_out.py holds it equal to
# `agency_can_see` / `is_visible`. Anything else is asked agency by agency,
# in one UNION ALL statement.

#: The field naming the agency that `_disclosed` looks at, per case child.
_DISCLOSED_FIELD = {Task: "assigned_agency", Note: "agency", Identifier: "agency"}
#: Agencies per UNION ALL statement (SQLite allows 500 compound terms).
_AGENCIES_PER_QUERY = 100


def agencies_that_see(agencies, obj) -> set[int]:
    """Ids of those of `agencies` that see `obj` right now: `agency_can_see`
    (`mla_agency_can_see` for a request) for each, in one to three queries."""
    unique = {a.pk: a for a in agencies if a.active}
    return _seers(list(unique), obj, lambda: list(unique.values()))


def _seers(agency_ids: list[int], obj, load_agencies) -> set[int]:
    """`agencies_that_see` on ids; `load_agencies()` gives the Agency rows
    when the rules must be asked agency by agency."""
    if obj.pk is None or not agency_ids:
        return set()
    if isinstance(obj, Case):
        return set(
            agencies_that_can_see_case(obj).filter(pk__in=agency_ids).values_list("pk", flat=True)
        )
    if type(obj) in _DISCLOSED_FIELD:
        return _agencies_that_see_case_child(agency_ids, obj, _DISCLOSED_FIELD[type(obj)])
    if isinstance(obj, Document) and obj.case_id and not obj.mla_request_id:
        return _agencies_that_see_case_child(agency_ids, obj, "agency")
    return _agencies_that_see_one_by_one(load_agencies(), obj)


def _agencies_that_see_case_child(agency_ids: list[int], obj, field: str) -> set[int]:
    """`visible_to_agency(agency, type(obj))` for a case child and many
    agencies, in two queries (`obj` as loaded by the caller, with its case)."""
    named = getattr(obj, f"{field}_id")
    seeing = set(
        agencies_that_can_see_case(obj.case).filter(pk__in=agency_ids).values_list("pk", flat=True)
    )
    if getattr(obj, "handling_code", None) in AGENCY_ONLY_CODES:
        seeing &= {named}
    if not seeing:
        return set()
    lead = obj.case.lead_agency_id
    # The seeing agencies' confidential participations, and the named
    # agency's participations (its latest decides), in one query.
    live = CaseParticipation.objects.active().filter(pk=OuterRef("pk"))
    rows = (
        CaseParticipation.objects.filter(case_id=obj.case_id)
        .filter(Q(agency_id=named) | Q(agency_id__in=seeing, confidential=True))
        .annotate(live=Exists(live))
        .order_by("-granted_at", "-id")
        .values_list("agency_id", "confidential", "live")
    )
    confidential_now: set[int] = set()
    named_confidential = None
    for agency_id, confidential, is_live in rows:
        if confidential and is_live and agency_id in seeing:
            confidential_now.add(agency_id)
        if agency_id == named and named_confidential is None:
            named_confidential = confidential
    # `_disclosed`: the lead sees everything, an agency sees itself, everyone
    # sees the lead; otherwise neither side may be confidential.
    return {
        agency_id
        for agency_id in seeing
        if agency_id in (lead, named)
        or (named is not None and named == lead)
        or (agency_id not in confidential_now and not named_confidential)
    }


def _agencies_that_see_one_by_one(agencies: list[Agency], obj) -> set[int]:
    """The per-agency gate, each agency's query a part of one UNION ALL."""
    if isinstance(obj, MLARequest):
        scope = mla_requests_of_agency
    else:
        model = type(obj)

        def scope(agency):
            return visible_to_agency(agency, model)

    seen: set[int] = set()
    for start in range(0, len(agencies), _AGENCIES_PER_QUERY):
        parts = [
            scope(agency).filter(pk=obj.pk).order_by().values(seer=Value(agency.pk))
            for agency in agencies[start : start + _AGENCIES_PER_QUERY]
        ]
        query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        seen.update(row["seer"] for row in query)
    return seen


def users_who_see(users, obj) -> set[int]:
    """Ids of those of `users` for whom `is_visible(user, obj)` holds right
    now, in two to four queries whatever their number.

    The membership is read again here (not taken from the caller's objects):
    a user deactivated or an agency switched off since the audience was
    computed sees nothing.
    """
    user_ids = {u.pk for u in users if u.pk is not None}
    if obj.pk is None or not user_ids:
        return set()
    memberships = list(
        Membership.objects.filter(
            user_id__in=user_ids, user__is_active=True, agency__active=True
        ).values_list("user_id", "agency_id")
    )
    agency_ids = list({agency_id for _, agency_id in memberships})
    seeing = _seers(
        agency_ids, obj, lambda: list(Agency.objects.filter(pk__in=agency_ids, active=True))
    )
    return {user_id for user_id, agency_id in memberships if agency_id in seeing}
