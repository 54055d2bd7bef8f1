"""The one permission gate.

Two questions are answered here and nowhere else:

* which objects may this user see (`visible_cases`, `visible_tasks`, …), and
* may this user do this to this object (`can`, `require`).

The API's querysets and permission classes, the admin's `get_queryset` and
`has_*_permission`, the services and the notification jobs all call this
module; nothing else filters by agency.

Two layers decide (see DESIGN.md). The *agency layer* is one rule,
`grant_terms`: the agency's Group holds guardian's `view`/`contribute`/
`manage` grant on the case and the grant has not expired (the grant row
carries its expiry, so access stops at that second, not when the expiry job
runs). Every selector, the list, the bulk checks and the notification
audiences compose it; the participation is the record of a share, read only
for what it discloses of other agencies. The *role layer* is the user's
role in their agency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
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

from agencies.actors import AnyUser
from agencies.models import Agency, Membership
from audit.models import AuditEvent
from config.bulk import ids_in
from gate.errors import Conflict, NotFound, PermissionDenied
from gate.roles import ROLE_RANK, Role

from .choices import ACCESS_LEVEL_ORDER, AccessLevel, CaseStatus, HandlingCode
from .models import (
    Asset,
    AssetStateChange,
    Case,
    CaseGroupObjectPermission,
    CaseParticipation,
    CaseTombstone,
    CustodyEvent,
    Document,
    Entity,
    EvidenceUpload,
    Identifier,
    Link,
    MLARequest,
    MLARequestGroupObjectPermission,
    MLAStatusChange,
    Note,
    Task,
    TaskLogEntry,
    Transaction,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .models.case import ParticipationQuerySet

# Any: a sentinel that stands in for a value of any type.
_MISSING: Any = object()

_M = TypeVar("_M", bound=Model)

# Handling codes whose notes never leave the authoring agency (TLP 2.0:
# AMBER+STRICT stays in the organisation; RED is for named recipients).
AGENCY_ONLY_CODES = (HandlingCode.AMBER_STRICT, HandlingCode.RED)


def membership_of(user: AnyUser | None) -> Membership | None:
    """The user's active membership in an active agency, or None.

    None for anonymous, inactive and agency-less users (including superusers:
    administering the platform does not open case content).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    cached: Membership | None = getattr(user, "_cb_membership", _MISSING)
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
        user._cb_membership = cached  # type: ignore[attr-defined]  # a per-request cache, not a field
    return cached


def agency_of(user: AnyUser | None) -> Agency | None:
    membership = membership_of(user)
    return membership.agency if membership else None


def has_role(user: AnyUser | None, role: str) -> bool:
    membership = membership_of(user)
    return membership is not None and ROLE_RANK[membership.role] >= ROLE_RANK[role]


# --- the agency layer: one rule ------------------------------------------------


def level_codenames(level: str) -> list[str]:
    """Guardian codenames granted for an access level (each includes the lower ones)."""
    index = ACCESS_LEVEL_ORDER.index(level)
    return [f"{lvl}_case" for lvl in ACCESS_LEVEL_ORDER[: index + 1]]


def _permission(level: str) -> Subquery:
    """Guardian's permission id for `level`, as a scalar subquery: resolved by
    the database on each execution (an index probe), never a cached id, not
    even the content type's (a long-lived worker must not keep one across a
    database that was recreated). No ORDER BY: (content type, codename) is
    unique."""
    return Subquery(
        Permission.objects.filter(
            content_type__app_label=Case._meta.app_label,
            content_type__model=Case._meta.model_name,
            codename=f"{level}_case",
        )
        .order_by()
        .values("pk")
    )


def grant_terms(level: str, group: Any, *, path: str = "") -> Q:
    """THE rule: a grant row of `level` held by `group` (an id or an
    `OuterRef`) that has not expired. `path` prefixes the fields when the
    grant is reached through a relation (the list's join)."""
    return Q(**{f"{path}group_id": group, f"{path}permission_id": _permission(level)}) & (
        Q(**{f"{path}expires_at__isnull": True}) | Q(**{f"{path}expires_at__gt": timezone.now()})
    )


def grant_held(level: str, group: Any, case: Any = None) -> Exists:
    """Whether `group` holds `level` on `case` (an id or `OuterRef`; by
    default the outer query's own row): `grant_terms` as an EXISTS."""
    return Exists(
        CaseGroupObjectPermission.objects.filter(
            grant_terms(level, group),
            # The plugin checks the lookup against the field, not against OuterRef.
            content_object_id=OuterRef("pk") if case is None else case,  # type: ignore[misc]
        )
    )


def cases_with_level(agency: Agency, level: str = AccessLevel.VIEW) -> QuerySet[Case]:
    """Cases on which `agency` holds at least `level`."""
    return Case.objects.filter(grant_held(level, agency.group_id))


_LEVEL_COLUMN = "cb_gate_{}"


def _level_columns(agency: Agency) -> dict[str, Exists]:
    """One boolean column per level held, for cases read with their level."""
    return {
        _LEVEL_COLUMN.format(lvl): grant_held(lvl, agency.group_id) for lvl in ACCESS_LEVEL_ORDER
    }


def _highest_level(row: Any) -> str | None:
    held = [lvl for lvl in ACCESS_LEVEL_ORDER if getattr(row, _LEVEL_COLUMN.format(lvl))]
    return held[-1] if held else None


def agency_level(agency: Agency | None, case: Case) -> str | None:
    """The highest level `agency` holds on `case` right now, or None."""
    if agency is None or case.pk is None:
        return None
    row = Case.objects.filter(pk=case.pk).annotate(**_level_columns(agency)).only("pk").first()
    return _highest_level(row) if row is not None else None


# --- what a user may see ----------------------------------------------------


def _case_layer(agency: Agency, known_case: bool) -> Q:
    """The first layer of a case child's rule: the agency sees its case. Left
    out when the caller read that case through the gate in this request
    (`visible_on_case`)."""
    if known_case:
        return Q()
    return Q(grant_held(AccessLevel.VIEW, agency.group_id, case=OuterRef("case_id")))


def _confidential_share(agency: Agency, case: OuterRef) -> QuerySet[CaseParticipation]:
    """The agency's open share of `case`, if it is confidential (the record
    decides what the agency learns of others, and they of it)."""
    return CaseParticipation.objects.filter(
        case=case, agency_id=agency.pk, confidential=True, revoked_at__isnull=True
    )


def _disclosed(agency: Agency, field: str, lead_id: int | None = None) -> Q:
    """Whether the agency named by `field` on a case child may be shown to `agency`.

    Confidential participation: the confidential agency learns of nobody but
    the lead, and nobody but the lead learns of it. The lead sees everything.
    What an agency may learn of another is read from the record of the shares.
    `lead_id`, the lead of the one case read (`visible_on_case`), spares each
    row a join to its case.
    """
    if lead_id == agency.pk:
        return Q()
    me_confidential = _confidential_share(agency, OuterRef("case"))
    # The other agency's *latest* participation decides, ended or not: an
    # agency that was confidential stays hidden after it leaves, and one that
    # was re-shared openly after a confidential spell is shown again.
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
    if lead_id is None:
        lead = Q(case__lead_agency_id=agency.pk) | Q(**{field: F("case__lead_agency")})
    else:
        lead = Q(**{field: lead_id})
    return lead | Q(**{field: agency.pk}) | (~Q(Exists(me_confidential)) & ~Q(other_confidential))


def _agency_only(agency: Agency) -> Q:
    """RED and AMBER+STRICT content stays with the agency that wrote it."""
    return ~Q(handling_code__in=AGENCY_ONLY_CODES) | Q(agency_id=agency.pk)


def _cases_seen_by(agency: Agency, known_case: bool = False) -> QuerySet[Case]:
    return cases_with_level(agency, AccessLevel.VIEW)


def _participations_seen_by(
    agency: Agency, known_case: bool = False
) -> QuerySet[CaseParticipation]:
    # Who granted a visible participation is itself a participant: shown only
    # when that agency may be learnt of (a confidential co-manager may share).
    return CaseParticipation.objects.filter(
        _case_layer(agency, known_case), _disclosed(agency, "agency")
    ).annotate(
        granter_disclosed=ExpressionWrapper(
            _disclosed(agency, "granted_by_agency"), output_field=BooleanField()
        )
    )


def _tasks_seen_by(agency: Agency, known_case: bool = False) -> QuerySet[Task]:
    return Task.objects.filter(
        _case_layer(agency, known_case), _disclosed(agency, "assigned_agency")
    )


def _task_log_entries_seen_by(agency: Agency, known_case: bool = False) -> QuerySet[TaskLogEntry]:
    # Each line shown only if its author agency may be learnt of.
    return TaskLogEntry.objects.filter(
        Q(task__in=_tasks_seen_by(agency, known_case)), _disclosed(agency, "agency")
    )


def _notes_seen_by(agency: Agency, known_case: bool = False) -> QuerySet[Note]:
    return Note.objects.filter(
        _case_layer(agency, known_case), _disclosed(agency, "agency"), _agency_only(agency)
    )


def _identifiers_seen_by(agency: Agency, known_case: bool = False) -> QuerySet[Identifier]:
    # Deconfliction matches across all cases; this is only what is shown in full.
    return Identifier.objects.filter(
        _case_layer(agency, known_case), _disclosed(agency, "agency"), _agency_only(agency)
    )


MLA_VIEW_CODENAME = "view_mlarequest"


def _mla_requests_seen_by(agency: Agency, known_case: bool = False) -> QuerySet[MLARequest]:
    """Requests the agency holds a grant on and is a party to. The party
    check repeats what the grants say, so that a stray grant (or a draft
    granted too early) still leaks nothing: a draft is the requesting side's
    alone. The requested agency sees the request, never the case behind it."""
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


def _documents_seen_by(agency: Agency, known_case: bool = False) -> QuerySet[Document]:
    """Documents follow their case (or their MLA request: both its parties,
    case or no case), and their handling code like notes do."""
    via_case = _case_layer(agency, known_case) & _disclosed(agency, "agency")
    via_request = Q(Exists(_mla_requests_seen_by(agency).filter(pk=OuterRef("mla_request_id"))))
    return Document.objects.filter(via_case | via_request, _agency_only(agency))


# --- networks and money: entities, links, transactions, assets ---------------
#
# Each is a case child with its own handling code, read like a note: its case
# (the first layer), its recording agency disclosed, RED and AMBER+STRICT kept
# to that agency. A victim is recorded TLP:RED unless its agency says
# otherwise (`cases.networks`), so this same rule keeps victims in the
# holding agency. A link or a transaction is seen only with both of its ends.
# Both ends, and every object a row refers to, are on the row's own case
# (`cases.networks` checks it on every write), so the ends and references are
# asked their own layers only (`known_case=True`): the row's case layer is
# theirs. A reference the reader may not see is not a reason to hide the row:
# it is shown empty (the `…_shown` columns, read by the serializers and the
# admin).


def _own_layers(agency: Agency, known_case: bool, lead_id: int | None = None) -> tuple[Q, Q, Q]:
    """The rule of a note: case, recording agency disclosed, handling code."""
    return (
        _case_layer(agency, known_case),
        _disclosed(agency, "agency", lead_id),
        _agency_only(agency),
    )


def _entity_rows(agency: Agency, known_case: bool = False) -> QuerySet[Entity]:
    return Entity.objects.filter(*_own_layers(agency, known_case))


def _seen(rows: QuerySet[Any], field: str) -> Exists:
    """Whether the outer row's `field` (a foreign key) names one of `rows`."""
    return Exists(rows.filter(pk=OuterRef(field)))


def _end_rule(rows: QuerySet[Any], case: Case | None) -> Callable[[str], Q]:
    """How an end (a foreign key) of a link or transaction is asked to be one
    of `rows` on the row's own case. Across cases, per row: an Exists that
    PostgreSQL reads from that case's rows (it otherwise hashes every visible
    one). For one case (`visible_on_case`), once: the ids of the case's `rows`,
    as one bigint[] PostgreSQL hashes (`ids_in`); asked per row, or as a
    subquery the planner misjudged, the largest case at 1M had its 20,000
    transactions' ends looked up one by one."""
    if case is None:
        return lambda field: Q(Exists(rows.filter(pk=OuterRef(field), case_id=OuterRef("case_id"))))
    ids = list(rows.filter(case_id=case.pk).values_list("pk", flat=True))
    return lambda field: Q(ids_in(field, ids))


def _case_rows_layers(agency: Agency, known_case: bool, case: Case | None) -> tuple[Q, ...]:
    """`_own_layers`, and for the one case read (`visible_on_case`) its rows only."""
    if case is None:
        return _own_layers(agency, known_case)
    return (*_own_layers(agency, known_case, case.lead_agency_id), Q(case_id=case.pk))


def _entities_seen_by(agency: Agency, known_case: bool = False) -> QuerySet[Entity]:
    return _entity_rows(agency, known_case).annotate(
        parent_shown=_seen(_entity_rows(agency, known_case=True), "parent_id")
    )


def _links_seen_by(
    agency: Agency, known_case: bool = False, *, case: Case | None = None
) -> QuerySet[Link]:
    entity_seen = _end_rule(_entity_rows(agency, known_case=True), case)
    identifier_seen = _end_rule(_identifiers_seen_by(agency, known_case=True), case)

    def end_seen(end: str) -> Q:
        """The `end` ("from" or "to"): its entity or its identifier seen."""
        entity, identifier = f"{end}_entity_id", f"{end}_identifier_id"
        return (Q(**{f"{entity}__isnull": True}) | entity_seen(entity)) & (
            Q(**{f"{identifier}__isnull": True}) | identifier_seen(identifier)
        )

    return Link.objects.filter(
        *_case_rows_layers(agency, known_case, case), end_seen("from"), end_seen("to")
    ).annotate(
        source_note_shown=_seen(_notes_seen_by(agency, known_case=True), "source_note_id"),
        source_document_shown=_seen(
            _documents_seen_by(agency, known_case=True), "source_document_id"
        ),
    )


def _transactions_seen_by(
    agency: Agency, known_case: bool = False, *, case: Case | None = None
) -> QuerySet[Transaction]:
    end_seen = _end_rule(_identifiers_seen_by(agency, known_case=True), case)
    return Transaction.objects.filter(
        *_case_rows_layers(agency, known_case, case),
        end_seen("from_identifier_id"),
        end_seen("to_identifier_id"),
    ).annotate(
        source_document_shown=_seen(
            _documents_seen_by(agency, known_case=True), "source_document_id"
        )
    )


def _assets_seen_by(agency: Agency, known_case: bool = False) -> QuerySet[Asset]:
    return Asset.objects.filter(*_own_layers(agency, known_case)).annotate(
        identifier_shown=_seen(_identifiers_seen_by(agency, known_case=True), "identifier_id"),
        mla_request_shown=_seen(_mla_requests_seen_by(agency), "mla_request_id"),
        # The holding agency is named like any agency on a case: not to a
        # reader whom a confidential participation keeps it from.
        holding_agency_shown=ExpressionWrapper(
            _disclosed(agency, "holding_agency"), output_field=BooleanField()
        ),
    )


def _asset_state_changes_seen_by(
    agency: Agency, known_case: bool = False
) -> QuerySet[AssetStateChange]:
    """The steps of visible assets, each shown only if its agency may be learnt of."""
    assets = Asset.objects.filter(*_own_layers(agency, known_case))
    return AssetStateChange.objects.filter(Q(asset__in=assets), _disclosed(agency, "agency"))


#: Each model's rule for one agency. `known_case=True` leaves out the case
#: layer, for `visible_on_case` only.
_SEEN_BY: dict[type[Model], Callable[..., QuerySet[Any]]] = {
    Case: _cases_seen_by,
    CaseParticipation: _participations_seen_by,
    Task: _tasks_seen_by,
    TaskLogEntry: _task_log_entries_seen_by,
    Note: _notes_seen_by,
    Identifier: _identifiers_seen_by,
    Document: _documents_seen_by,
    MLARequest: _mla_requests_seen_by,
    Entity: _entities_seen_by,
    Link: _links_seen_by,
    Transaction: _transactions_seen_by,
    Asset: _assets_seen_by,
    AssetStateChange: _asset_state_changes_seen_by,
}


def visible_to_agency(agency: Agency | None, model: type[_M]) -> QuerySet[_M]:
    """What `agency` sees of `model`: the selectors below for a user, and the
    notification and webhook jobs for an agency, all read this."""
    if agency is None or not agency.active:
        return model._default_manager.none()
    try:
        seen_by = _SEEN_BY[model]
    except KeyError:
        raise LookupError(f"no visibility rule for {model.__name__}") from None
    return seen_by(agency)


def _visible(user: AnyUser, model: type[_M]) -> QuerySet[_M]:
    return visible_to_agency(agency_of(user), model)


def visible_cases(user: AnyUser) -> QuerySet[Case]:
    return _visible(user, Case)


#: Columns of `visible_cases_in_list_order` holding the case's position in
#: the agency's list (the grant's copy of the case's `updated_at`, or its
#: grant time if later, and `public_id`): order and keyset-filter on these.
LIST_ORDER_COLUMNS = ("list_updated_at", "list_public_id")

#: Its columns holding the grant's copies of the case's `status`,
#: `handling_code`, `lead_agency_id`, `crime_types`, `created_at` and own
#: `updated_at` (the position above is the later of that and the share): the
#: list filters on these, in the agency's index, rather than on the case
#: walked past.
LIST_FILTER_COLUMNS = (
    "list_status",
    "list_handling_code",
    "list_lead_agency_id",
    "list_crime_types",
    "list_created_at",
    "list_case_updated_at",
)

#: Its columns holding the case's creation and `public_id`, for the list by
#: creation (`ordering=created_at`): an index of the agency's grants is keyed
#: by them, as the list order's is by `LIST_ORDER_COLUMNS`.
LIST_CREATED_COLUMNS = ("list_created_at", "list_public_id")


def visible_cases_in_list_order(user: AnyUser) -> QuerySet[Case]:
    """Exactly `visible_cases(user)`, shaped for a page of the list: the
    grant is joined rather than tested, so that PostgreSQL reads an agency's
    page from the grant index on (group, permission, position) and stops
    after it, whatever the agency's size. The join's condition is
    `grant_terms`, the same rule."""
    agency = agency_of(user)
    if agency is None:
        return Case.objects.none()
    listed = FilteredRelation(
        "casegroupobjectpermission",
        condition=grant_terms(
            AccessLevel.VIEW, agency.group_id, path="casegroupobjectpermission__"
        ),
    )
    return (
        Case.objects.annotate(listed=listed)
        .filter(listed__group_id=agency.group_id)
        .annotate(
            **{column: F(f"listed__{column}") for column in LIST_ORDER_COLUMNS},
            **{column: F(f"listed__{column}") for column in LIST_FILTER_COLUMNS},
        )
    )


def with_crime_type(field: str, crime_type: str) -> Q:
    """Rows whose JSON list of crime types in `field` holds `crime_type`."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [crime_type]})
    # SQLite (the demo) has no JSON containment; a crime type is one of the
    # fixed codes, so its quoted form matches one element.
    return Q(**{f"{field}__icontains": f'"{crime_type}"'})


def listed_with_crime_type(crime_type: str) -> Q:
    """A filter of `visible_cases_in_list_order`: cases of `crime_type`, read
    from the grant's copy of the case's crime types (the API's and the
    admin's lists alike)."""
    return with_crime_type(LIST_FILTER_COLUMNS[3], crime_type)


def takes_part(user: AnyUser, agency: Any) -> Exists:
    """Whether `agency` (an id or an expression) takes part in the outer
    query's case, as far as the user may know: a filter of
    `visible_cases_in_list_order`, whose join is the case layer already, so
    only the participation's own layer (disclosure) is added. Asked per case
    as the page is read, an index probe."""
    mine = agency_of(user)
    if mine is None:
        return Exists(CaseParticipation.objects.none())
    seen = cast("ParticipationQuerySet", _participations_seen_by(mine, known_case=True))
    return Exists(seen.filter(case=OuterRef("pk"), agency_id=agency).active())


#: An agency that sees at most this many cases has its child lists (tasks,
#: notes, identifiers) read case by case (`in_few_cases`); one that sees more
#: has them read by walking the child's sync order, asking the rule of each
#: row. Measured at 1M cases (bench/README.md, `lists`): 9,400 cases read case
#: by case took 66,000 buffers against the walk's 258,000, 16,500 cases took
#: 3 to 4 times the walk's time (the sort spills); an agency that sees a few
#: hundred cases would walk nearly the whole table.
FEW_CASES = 2000


def in_few_cases(user: AnyUser, queryset: QuerySet[_M]) -> QuerySet[_M]:
    """`queryset` (a child of a case, from this gate) narrowed to the ids of
    the cases the user's agency sees, if they are few. A list only narrows:
    the child's own rule still applies to every row. Given the ids, PostgreSQL
    reads the children by case from their case index and sorts the page,
    where walking every agency's children for a small agency's few would read
    most of the table."""
    agency = agency_of(user)
    if agency is None:
        return queryset.none()
    # The grants alone, read from the agency's index: the same rule. An
    # agency past the limit learns so from one index entry, not 2,000 ids.
    seen = CaseGroupObjectPermission.objects.filter(
        grant_terms(AccessLevel.VIEW, agency.group_id)
    ).values_list("content_object_id", flat=True)
    if seen[FEW_CASES : FEW_CASES + 1].exists():
        return queryset
    return queryset.filter(case_id__in=list(seen))


def listed_tasks(user: AnyUser) -> QuerySet[Task]:
    """`visible_tasks`, for a page of the list (`in_few_cases`)."""
    return in_few_cases(user, visible_tasks(user))


def listed_notes(user: AnyUser) -> QuerySet[Note]:
    return in_few_cases(user, visible_notes(user))


def listed_identifiers(user: AnyUser) -> QuerySet[Identifier]:
    return in_few_cases(user, visible_identifiers(user))


def visible_participations(user: AnyUser) -> ParticipationQuerySet:
    return cast("ParticipationQuerySet", _visible(user, CaseParticipation))


def visible_tasks(user: AnyUser) -> QuerySet[Task]:
    return _visible(user, Task)


def visible_task_log_entries(user: AnyUser) -> QuerySet[TaskLogEntry]:
    return _visible(user, TaskLogEntry)


def visible_notes(user: AnyUser) -> QuerySet[Note]:
    return _visible(user, Note)


def visible_identifiers(user: AnyUser) -> QuerySet[Identifier]:
    return _visible(user, Identifier)


def identifiers_of_agency(agency: Agency | None) -> QuerySet[Identifier]:
    return visible_to_agency(agency, Identifier)


def visible_entities(user: AnyUser) -> QuerySet[Entity]:
    """Persons, organisations and places on the cases the user sees, under
    their handling codes (a victim is TLP:RED, its agency's alone, unless
    that agency lowered the code); `parent_shown` says whether the reader
    sees the parent organisation."""
    return _visible(user, Entity)


def visible_links(user: AnyUser) -> QuerySet[Link]:
    """Links the user sees, with both of their ends; `source_note_shown` and
    `source_document_shown` say whether the reader sees the source."""
    return _visible(user, Link)


def visible_transactions(user: AnyUser) -> QuerySet[Transaction]:
    """Transactions the user sees, with both of their identifiers;
    `source_document_shown` says whether the reader sees the source."""
    return _visible(user, Transaction)


def visible_assets(user: AnyUser) -> QuerySet[Asset]:
    """Assets the user sees; `identifier_shown`, `mla_request_shown` and
    `holding_agency_shown` say which of their references the reader may see."""
    return _visible(user, Asset)


def visible_asset_state_changes(user: AnyUser) -> QuerySet[AssetStateChange]:
    return _visible(user, AssetStateChange)


def visible_case_tombstones(user: AnyUser) -> QuerySet[CaseTombstone]:
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


def visible_agencies(user: AnyUser) -> QuerySet[Agency]:
    """The directory: active agencies plus the user's own (codes, names, countries, kinds)."""
    agency = agency_of(user)
    if agency is None:
        return Agency.objects.none()
    return Agency.objects.filter(Q(active=True) | Q(pk=agency.pk))


def visible_memberships(user: AnyUser) -> QuerySet[Membership]:
    """Only the user's own agency's members: no agency sees another's staff list."""
    agency = agency_of(user)
    if agency is None:
        return Membership.objects.none()
    return Membership.objects.filter(agency_id=agency.pk)


def disclosed_agency_ids(user: AnyUser, case: Case) -> set[int]:
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


def visible_on_case(user: AnyUser, model: type[_M], case: Case) -> QuerySet[_M]:
    """`visible_<model>s(user).filter(case=case)`, for a case read through the
    gate in this request (`require_many`): that read is the case layer of the
    rule, so each list of the case page keeps only its rows' own layer
    (disclosure, handling code), from the same builder as the selector.
    tests/cases/access/test_visible_on_case.py holds both equal."""
    if getattr(case, "cb_gate_level", _MISSING) is _MISSING:
        raise ValueError("visible_on_case() needs a case read through require_many()")
    agency = agency_of(user)
    if agency is None:
        return model._default_manager.none()
    if model in (Link, Transaction):
        # Their ends asked once for the case (`_end_rule`).
        return _SEEN_BY[model](agency, known_case=True, case=case)
    return _SEEN_BY[model](agency, known_case=True).filter(case_id=case.pk)


# --- what a user may do -----------------------------------------------------


@dataclass(frozen=True)
class Rule:
    level: str
    role: str
    lead_only: bool = False


CASE_RULES: dict[str, Rule] = {
    "view": Rule(AccessLevel.VIEW, Role.VIEWER),
    # Add notes, identifiers, entities, links, transactions, assets.
    "contribute": Rule(AccessLevel.CONTRIBUTE, Role.INVESTIGATOR),
    "update": Rule(AccessLevel.MANAGE, Role.COORDINATOR),
    "change_status": Rule(AccessLevel.MANAGE, Role.COORDINATOR),
    # Share, change access, revoke: who holds the case, and on what terms, is
    # the lead's decision (the third-party rule: intelligence goes on only
    # with its originator's consent). A co-manager proposes instead.
    "share": Rule(AccessLevel.MANAGE, Role.COORDINATOR, lead_only=True),
    "propose_share": Rule(AccessLevel.MANAGE, Role.COORDINATOR),
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
    "edit",
    "change_state",
}
#: Network objects: what an agency recorded on a case stays its own to change
#: or delete (the third-party rule), gate action "edit".
RECORDED_CHILDREN = (Entity, Link, Transaction, Asset)
ENDED_CASE_STATUSES = {CaseStatus.CLOSED, CaseStatus.ARCHIVED}


def is_visible(user: AnyUser, obj: Model) -> bool:
    return obj.pk is not None and _VISIBLE[type(obj)](user).filter(pk=obj.pk).exists()


def _seen_by_user(model: type[_M]) -> Callable[[AnyUser], QuerySet[_M]]:
    return lambda user: _visible(user, model)


def can(user: AnyUser, action: str, obj: Model) -> bool:
    """May `user` do `action` to `obj`? Never raises."""
    try:
        require(user, action, obj)
    except (NotFound, PermissionDenied, Conflict):
        return False
    return True


def require(user: AnyUser, action: str, obj: Model) -> None:
    """Raise NotFound if `obj` is invisible to `user`, PermissionDenied if the
    action is not allowed; return quietly otherwise.

    Case actions are listed in CASE_RULES; on a task, "view", "manage"
    (coordinator of a managing agency) and "work" (an investigator of the
    assigned agency, whose agency contributes, moving it along), "log_progress"
    (a contributor of the assigned or a managing agency); on a note or
    participation, "view"; on an MLA request, see `MLA_RULES`; on an entity,
    a link, a transaction or an asset, "edit" (change or delete it: a
    contributor of the agency that recorded it), and on an asset
    "change_state" (the same, or of the agency holding the asset).
    """
    if not is_visible(user, obj):
        raise NotFound()
    membership = membership_of(user)
    if action == "view":
        return
    if membership is None:  # is_visible() holds for members only
        raise NotFound()
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
    elif isinstance(obj, RECORDED_CHILDREN) and action == "edit":
        _check_recorder(
            membership,
            obj,
            (obj.agency_id,),
            _("Only the agency that recorded it can change it."),
        )
    elif isinstance(obj, Asset) and action == "change_state":
        _check_recorder(
            membership,
            obj,
            (obj.agency_id, obj.holding_agency_id),
            _("Only the agency that recorded the asset or the agency holding it can do this."),
        )
    else:
        raise PermissionDenied()
    if action in WORK_ON_OPEN_CASES_ONLY:
        # Read from the database: the caller's case object may predate a closure.
        case_id = obj.pk if isinstance(obj, Case) else obj.case_id
        status = Case.objects.filter(pk=case_id).values_list("status", flat=True).first()
        if status in ENDED_CASE_STATUSES:
            raise Conflict(_("The case is %(status)s: reopen it first.") % {"status": status})


def _check_recorder(
    membership: Membership, obj: Any, agency_ids: tuple[int | None, ...], refusal: Any
) -> None:
    """Contributors of the agency that recorded a network object (or, for an
    asset's state, of the agency holding it) change it, while that agency
    contributes to the case."""
    _check_rule(membership, CASE_RULES["contribute"], obj.case)
    if membership.agency_id not in agency_ids:
        raise PermissionDenied(refusal)


def _check_log_progress(membership: Membership, task: Task, case: Case, level: str | None) -> None:
    """A task's progress log takes lines from contributors of the task's
    assigned agency or of a managing agency."""
    _check_rule(membership, CASE_RULES["contribute"], case, level)
    if task.assigned_agency_id != membership.agency_id and level != AccessLevel.MANAGE:
        raise PermissionDenied(
            _("Only the assigned agency or a managing agency can log progress on this task.")
        )


def tasks_user_may_log(user: AnyUser, case: Case, tasks: Iterable[Task]) -> set[int]:
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


def require_role(user: AnyUser, role: str) -> Membership:
    """For actions on no object yet (creating a case): the user's membership."""
    membership = membership_of(user)
    if membership is None:
        raise PermissionDenied(_("You are not a member of an active agency."))
    if ROLE_RANK[membership.role] < ROLE_RANK[role]:
        raise PermissionDenied(_("Your role does not allow this action."))
    return membership


def _check_rule(
    membership: Membership, rule: Rule, case: Case, level: str | None = _MISSING
) -> None:
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
# queries per case. `require_many` answers the same questions for a whole
# queryset in one query (the levels held are columns of the case rows, from
# `grant_held`), and the rules are then applied in memory by `_check_rule`.


def require_many(user: AnyUser, action: str, cases: QuerySet[Case], *, count: int) -> list[Case]:
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
    rows = list(
        cases.annotate(**_level_columns(membership.agency)).filter(
            **{_LEVEL_COLUMN.format(AccessLevel.VIEW): True}
        )
    )
    if len(rows) != count:
        raise NotFound()
    for case in rows:
        case.cb_gate_level = _highest_level(case)
        require_loaded(user, action, case)
    return rows


def require_loaded(user: AnyUser, action: str, case: Case) -> None:
    """`require` for a case read through `require_many` (visible, its level
    known): the same rules, no query. The status of a case that only open
    cases allow is the row's own, read with it (and locked, if the caller
    locked it)."""
    level = getattr(case, "cb_gate_level", _MISSING)
    if level is _MISSING:
        raise ValueError("require_loaded() needs a case read through require_many()")
    if action == "view":
        return
    membership = membership_of(user)
    if membership is None:  # require_many() read the case: a member
        raise NotFound()
    _check_rule(membership, CASE_RULES[action], case, level)
    if action in WORK_ON_OPEN_CASES_ONLY and case.status in ENDED_CASE_STATUSES:
        raise Conflict(_("The case is %(status)s: reopen it first.") % {"status": case.status})


# --- mutual legal assistance requests ------------------------------------------
#
# The agency layer of a request is its own guardian grant (`view_mlarequest`),
# given only to the requesting agency (at creation) and the requested agency
# (at submission) by `cases.mla`. The requested agency sees the request, never
# the case behind it: nothing here touches case grants.


def visible_mla_requests(user: AnyUser) -> QuerySet[MLARequest]:
    return _visible(user, MLARequest)


def mla_requests_of_agency(agency: Agency | None) -> QuerySet[MLARequest]:
    """`visible_mla_requests` for an agency rather than a user (notifications, webhooks)."""
    return visible_to_agency(agency, MLARequest)


def visible_mla_status_changes(user: AnyUser) -> QuerySet[MLAStatusChange]:
    return MLAStatusChange.objects.filter(request__in=visible_mla_requests(user))


# action -> the side whose coordinators may do it ("view" needs visibility only).
MLA_RULES: dict[str, str] = {
    "act_requesting": "requesting",
    "act_requested": "requested",
}


def mla_side_of(user: AnyUser, request: MLARequest) -> str | None:
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


def visible_documents(user: AnyUser) -> QuerySet[Document]:
    """Documents follow their case (or their MLA request), and their handling
    code like notes do: RED and AMBER+STRICT evidence stays with the agency
    that uploaded it."""
    return _visible(user, Document)


def listed_documents(user: AnyUser) -> QuerySet[Document]:
    """`visible_documents`, each with `case_seen`: whether the user's agency
    sees the document's case (a party of its MLA request may not), asked in
    the same query, so that a page costs one query whatever its cases."""
    agency = agency_of(user)
    if agency is None:
        return Document.objects.none()
    return visible_documents(user).annotate(
        case_seen=grant_held(AccessLevel.VIEW, agency.group_id, case=OuterRef("case_id"))
    )


def documents_of_agency(agency: Agency | None) -> QuerySet[Document]:
    """`visible_documents` for an agency rather than a user (webhooks)."""
    return visible_to_agency(agency, Document)


def visible_uploads(user: AnyUser) -> QuerySet[EvidenceUpload]:
    """Resumable uploads in transit: their uploader's alone, while a member of
    the agency it uploads for. Bytes that are not yet evidence have one
    custodian; whether they may become evidence is asked again when the last
    byte arrives (`cases.uploads`). An expired upload is gone at its second,
    not when the sweep next runs."""
    agency = agency_of(user)
    if agency is None or not agency.active:
        return EvidenceUpload.objects.none()
    return EvidenceUpload.objects.filter(
        # A member (their agency was found) is authenticated, not anonymous.
        created_by=user,  # type: ignore[misc]
        agency=agency,
        expires_at__gt=timezone.now(),
    )


_VISIBLE: dict[type[Model], Callable[[AnyUser], QuerySet[Any]]] = {
    **{model: _seen_by_user(model) for model in _SEEN_BY},
    MLAStatusChange: visible_mla_status_changes,
    EvidenceUpload: visible_uploads,
}


def visible_audit_events(user: AnyUser) -> QuerySet[AuditEvent]:
    """An agency's administrators read their agency's audit trail; nobody
    else reads any of it (a platform superuser verifies the chain instead)."""
    membership = membership_of(user)
    if membership is None or membership.role != Role.AGENCY_ADMIN:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(agency_id=membership.agency_id)


def visible_custody_events(user: AnyUser) -> QuerySet[CustodyEvent]:
    """Custody events of visible documents, hiding the agencies that
    confidential participation keeps out of sight (as `_disclosed` does)."""
    agency = agency_of(user)
    if agency is None:
        return CustodyEvent.objects.none()
    case_ref = OuterRef("document__case")
    me_confidential = _confidential_share(agency, case_ref)
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
    return Agency.objects.filter(
        grant_held(AccessLevel.VIEW, OuterRef("group_id"), case=case.pk), active=True
    )


def users_who_can_see_case(case: Case) -> QuerySet[User]:
    """Active, human users whose agency sees `case` right now.

    Service accounts are left out: partner systems hear through webhooks.
    """
    return get_user_model().objects.filter(
        is_active=True,
        membership__is_service_account=False,
        membership__agency__in=agencies_that_can_see_case(case),
    )


def agency_can_see(agency: Agency | None, obj: Model) -> bool:
    return obj.pk is not None and visible_to_agency(agency, type(obj)).filter(pk=obj.pk).exists()


def mla_agency_can_see(agency: Agency | None, request: MLARequest) -> bool:
    return request.pk is not None and mla_requests_of_agency(agency).filter(pk=request.pk).exists()


# --- the same gate for a whole audience (notification fan-out) ----------------
#
# `agency_can_see` and `is_visible` ask about one agency or one user; these ask
# the same question for a set, in a fixed number of queries. Users inherit
# their agency's answer: every rule above depends on the user's agency only
# (roles decide what a user may *do*, not what they see). A case child is
# seen only by agencies that see its case, so those are found first and each
# of them is then asked its own selector, all in one UNION ALL statement.

#: Objects seen only by agencies that see their case.
_CASE_CHILDREN = (
    CaseParticipation,
    Task,
    Note,
    Identifier,
    Entity,
    Link,
    Transaction,
    Asset,
    AssetStateChange,
)
#: Agencies per UNION ALL statement (SQLite allows 500 compound terms).
_AGENCIES_PER_QUERY = 100


def agencies_that_see(agencies: Iterable[Agency], obj: Model) -> set[int]:
    """Ids of those of `agencies` that see `obj` right now: `agency_can_see`
    (`mla_agency_can_see` for a request) for each, in one or two queries."""
    return _seers([a.pk for a in agencies if a.active], obj)


def _seers(agency_ids: list[int], obj: Model) -> set[int]:
    if obj.pk is None or not agency_ids:
        return set()
    if isinstance(obj, Case):
        case_id = obj.pk
    elif isinstance(obj, _CASE_CHILDREN) or (isinstance(obj, Document) and not obj.mla_request_id):
        case_id = obj.case_id
    else:  # an MLA request, or its documents: their parties need not see the case
        case_id = None
    if case_id is not None:
        case_seers = Agency.objects.filter(
            grant_held(AccessLevel.VIEW, OuterRef("group_id"), case=case_id),
            pk__in=agency_ids,
            active=True,
        )
        if isinstance(obj, Case):
            return set(case_seers.values_list("pk", flat=True))
        agencies = list(case_seers)
    else:
        agencies = list(Agency.objects.filter(pk__in=agency_ids, active=True))
    return _agencies_that_see_one_by_one(agencies, obj)


def _agencies_that_see_one_by_one(agencies: list[Agency], obj: Model) -> set[int]:
    """Each agency's own selector, as the parts of one UNION ALL."""
    model = type(obj)
    seen: set[int] = set()
    for start in range(0, len(agencies), _AGENCIES_PER_QUERY):
        parts = [
            visible_to_agency(agency, model)
            .filter(pk=obj.pk)
            .order_by()
            .values(seer=Value(agency.pk))
            for agency in agencies[start : start + _AGENCIES_PER_QUERY]
        ]
        if not parts:
            continue
        query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        seen.update(row["seer"] for row in query)
    return seen


def users_who_see(users: Iterable[AnyUser], obj: Model) -> set[int]:
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
    seeing = _seers(agency_ids, obj)
    return {user_id for user_id, agency_id in memberships if agency_id in seeing}


# --- statistics pooled across agencies ----------------------------------------
#
# Not a visibility rule: no reader sees these rows. They are what agencies
# consented to pool into aggregate figures (`Agency.contributes_statistics`),
# read only by `cases.statistics`, which returns counts, sums and medians,
# never a row, with small counts suppressed. A row joins the pool only when
# every agency whose data it is has consented: a case its lead; a case child
# the agency that recorded it and the case's lead (the third-party rule: what
# the lead shared is not passed on without it); an MLA request both parties
# (each holds it, and its times measure them both), once it was sent.


def statistics_contributors() -> QuerySet[Agency]:
    """Active agencies that consented to pool their figures."""
    return Agency.objects.filter(active=True, contributes_statistics=True)


def pooled_for_statistics(
    model: type[_M], contributors: Iterable[int] | None = None
) -> QuerySet[_M]:
    """The rows of `model` pooled into cross-agency statistics: see above.
    `contributors` (agency ids) replaces the consenting agencies for the
    benchmark only, which measures the pool of every agency without writing
    consent into a read-only data set."""
    ids = (
        list(statistics_contributors().values_list("pk", flat=True))
        if contributors is None
        else list(contributors)
    )
    if model is Case:
        return model._default_manager.filter(lead_agency_id__in=ids)
    if model is MLARequest:
        return model._default_manager.filter(
            requesting_agency_id__in=ids, requested_agency_id__in=ids, received_at__isnull=False
        )
    if model is AssetStateChange:
        return model._default_manager.filter(asset__agency_id__in=ids, case__lead_agency_id__in=ids)
    if model is Identifier:
        # The case's lead from the identifier's own copy (migration 0031).
        return model._default_manager.filter(agency_id__in=ids, case_lead_agency_id__in=ids)
    if model in (Entity, Asset):
        return model._default_manager.filter(agency_id__in=ids, case__lead_agency_id__in=ids)
    raise LookupError(f"{model.__name__} is not pooled into statistics")
