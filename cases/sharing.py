"""Sharing cases with agencies and revoking them: one, or many at once.

Only the lead agency shares a case onward (a co-manager proposes instead:
`cases.proposals`). Every share or revoke goes through one of two code paths,
whatever its size: `share_case` is `share_case_with_agencies` with one item,
`revoke_case` is `revoke_agencies` with one item, so the rules live in one
place, and an agency-scale call (one agency on 10,000 cases) costs a constant
number of queries:

* the actor is checked against all the cases in one query
  (`access.require_many`), which also locks them and carries what the writes
  need (the permission ids, whether there are documents);
* what already exists for each (case, agency) pair comes as EXISTS columns
  of that query or of the one re-reading the agencies;
* the rules are applied item by item in memory; any refused item refuses the
  whole call (nothing is written) and the error names the item by its index
  (`"3.agency"`), as the API's per-item field errors do;
* the writes are one statement per table: participations (the record),
  guardian grants (the access, with their expiry), custody events, outbox
  messages and audit events (one per case and agency).

A share or a revoke does not touch the case row: what changes is who takes
part. The receiving agency still finds a newly shared case after its sync
cursor, because its grant's list position is the later of the case's
`updated_at` and the grant's time (migration 0021).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar, cast

from django.contrib.auth.models import Permission
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.actors import Actor, AnyUser
from agencies.models import Agency
from audit import services as audit
from audit.models import AuditAction
from config.bulk import ids_in, insert_rows
from gate.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    ValidationFailed,
)
from notifications.outbox import emit_many

from . import access, documents
from .choices import ACCESS_LEVEL_ORDER, AccessLevel, HandlingCode
from .models import Case, CaseGroupObjectPermission, CaseParticipation, CaseTombstone, Document

T = TypeVar("T")

ALREADY = _("This agency already participates; change its access instead.")
PROPOSE_INSTEAD = _(
    "Only a case's lead agency shares it onward; propose the share to the lead agency instead."
)
STRICT = _("TLP:AMBER+STRICT: this case cannot leave its lead agency.")


@dataclass(frozen=True)
class Share:
    """One agency to share a case with, and on what terms."""

    agency: Agency
    level: str
    expires_at: dt.datetime | None = None
    confidential: bool = False


ShareLike = Share | tuple[Any, ...] | Mapping[str, Any]


def _as_share(item: ShareLike) -> Share:
    if isinstance(item, Share):
        return item
    if isinstance(item, Mapping):
        return Share(**item)
    return Share(*item)


# --- small rules, shared with cases.services ---------------------------------


def _participation_changes(participation: CaseParticipation) -> dict[str, Any]:
    """What the audit log keeps of a participation."""
    return {
        "participation": str(participation.public_id),
        "agency": participation.agency.code,
        "level": participation.level,
        "expires_at": participation.expires_at,
        "confidential": participation.confidential,
    }


def _validate_expiry(expires_at: dt.datetime | None) -> None:
    if expires_at is None:
        return
    if timezone.is_naive(expires_at):
        raise ValidationFailed({"expires_at": [_("Give a time zone with the expiry time.")]})
    if expires_at <= timezone.now():
        raise ValidationFailed({"expires_at": [_("The expiry must be in the future.")]})


def _agency_pk(agency: Any) -> int | None:
    if agency is None or not isinstance(agency, Agency) or agency.pk is None:
        return None
    return cast(int, agency.pk)


def _check_agency(stored: Agency | None, field: str = "agency") -> Agency:
    """The agency as stored now (re-read by the caller): refused with a field
    error if deleted or deactivated since the caller loaded it, instead of
    slipping through on a stale `active` flag or failing as an IntegrityError
    at commit (foreign keys are checked at commit on PostgreSQL)."""
    if stored is None:
        raise ValidationFailed({field: [_("Unknown agency.")]})
    if not stored.active:
        raise ValidationFailed({field: [_("This agency is not active.")]})
    return stored


def _agency_of_member(actor: AnyUser) -> Agency:
    """The actor's agency, asked once the gate has let them act (a member)."""
    agency = access.agency_of(actor)
    if agency is None:  # the gate admits members of an active agency only
        raise NotFound()
    return agency


def _require_active_agency(agency: Agency | None, field: str = "agency") -> Agency:
    """One agency, re-read (see `_check_agency`)."""
    pk = _agency_pk(agency)
    return _check_agency(Agency.objects.filter(pk=pk).first() if pk else None, field)


def _set_grants(
    case: Case, agency: Agency, level: str | None, expires_at: dt.datetime | None = None
) -> None:
    """Make the guardian grants of `agency` on `case` exactly those of
    `level`, each ending at `expires_at`. Grants kept keep their time (and so
    the case's position in the agency's list)."""
    wanted = set(access.level_codenames(level)) if level else set()
    grants = CaseGroupObjectPermission.objects.filter(content_object=case, group_id=agency.group_id)
    grants.exclude(permission__codename__in=wanted).delete()
    grants.update(expires_at=expires_at)
    held = set(grants.values_list("permission__codename", flat=True))
    missing = wanted - held
    if missing:
        perms = Permission.objects.filter(content_type__app_label="cases", codename__in=missing)
        CaseGroupObjectPermission.objects.bulk_create(
            [
                CaseGroupObjectPermission(
                    content_object=case,
                    group_id=agency.group_id,
                    permission=p,
                    expires_at=expires_at,
                )
                for p in perms
            ]
        )


def _record_lost_access(
    pairs: Sequence[tuple[Case, Agency]], *, at: dt.datetime, actor: Actor | None = None
) -> None:
    """Tell each agency that lost access to a case (revoked, expired, handed
    away): a tombstone for its sync feed and a `case.access_revoked` event for
    its webhooks, in the caller's transaction. Only the case's id and the
    time: the agency no longer sees anything else of it."""
    if not pairs:
        return
    tombstones = [
        CaseTombstone(case=case, case_public_id=case.public_id, agency=agency, at=at)
        for case, agency in pairs
    ]
    # Lost, regained and lost again: the one row per pair moves to the new time.
    CaseTombstone.objects.bulk_create(
        tombstones,
        update_conflicts=True,
        unique_fields=["case", "agency"],
        update_fields=["public_id", "at"],
    )
    emit_many(
        "case.access_revoked",
        [(t, {"case": t.case_public_id, "agency": t.agency.code}) for t in tombstones],
        actor=actor,
    )


def _clear_lost_access(case_ids: list[int], agency_ids: list[int]) -> None:
    """Shared again: the case is back in the agency's feed, its tombstone goes."""
    CaseTombstone.objects.filter(ids_in("case_id", case_ids), agency_id__in=agency_ids).delete()


def _end_stale_participation(case: Case, agency: Agency) -> None:
    """An expired participation not yet swept by the job is ended before a new one."""
    _end_stale([case.pk], [agency.pk])


def _end_stale(case_ids: list[int], agency_ids: list[int]) -> None:
    now = timezone.now()
    CaseParticipation.objects.filter(
        case_id__in=case_ids, agency_id__in=agency_ids, revoked_at__isnull=True, expires_at__lte=now
    ).update(revoked_at=now, end_reason=CaseParticipation.EndReason.EXPIRED, updated_at=now)


# --- one transaction, no savepoint ---------------------------------------------


def _checked_then_written(check: Callable[[], Callable[[], T]]) -> T:
    """Run `check` (reads, locks, every rule; returns the writes to do) and then
    those writes, in one transaction.

    No savepoint is made inside a caller's transaction (a savepoint is two
    more round trips, a fifth of the budget of a 50-agency share): every rule
    is checked before the first write, and a refusal is raised only after
    the block has closed normally, so the caller's transaction is left as it
    was and may carry on. A database error while writing marks the caller's
    transaction for rollback, as it would abort it on PostgreSQL anyway.
    """
    with transaction.atomic(savepoint=False):
        try:
            write = check()
        except DomainError as error:
            refusal = error
        else:
            return write()
    raise refusal


# --- per-item errors ---------------------------------------------------------


class _Refusals:
    """The first refusal of each item, raised together once all are checked.

    Single-item calls raise the item's error unchanged (the single services'
    errors stay as they always were). Bulk calls name the item by its index:
    a 403 (the actor may not do part of it) wins, then every item's 400 field
    errors together, then the first 409.
    """

    def __init__(self, keyed: bool) -> None:
        self.keyed = keyed
        self.errors: list[tuple[int, DomainError]] = []

    def add(self, index: int, error: DomainError) -> None:
        self.errors.append((index, error))

    def raise_any(self) -> None:
        if not self.errors:
            return
        if not self.keyed:
            raise self.errors[0][1]
        for kind in (PermissionDenied, ValidationFailed, Conflict, DomainError):
            found = [(i, e) for i, e in self.errors if isinstance(e, kind)]
            if not found:
                continue
            if kind is ValidationFailed:
                raise ValidationFailed(
                    {
                        self._key(i, field): messages
                        for i, e in found
                        for field, messages in e.errors.items()
                    }
                )
            index, error = found[0]
            keyed = type(error)(error.message, field=self._key(index, error.field))
            raise keyed from error

    @staticmethod
    def _key(index: int, field: str | None) -> str:
        if not field or field == "non_field_errors":
            return str(index)
        return f"{index}.{field}"


# --- reading what a share depends on -----------------------------------------


def _permission_columns() -> dict[str, Subquery]:
    """The guardian permission ids of each level, as columns of the case query
    (uncorrelated subqueries: computed once, not per row)."""
    return {
        f"cb_perm_{level}": Subquery(
            Permission.objects.filter(
                content_type__app_label="cases", codename=f"{level}_case"
            ).values("pk")[:1]
        )
        for level in ACCESS_LEVEL_ORDER
    }


def _pair_columns(*, case: Any, agency: Any, group: Any) -> dict[str, Exists]:
    """What exists for one (case, agency) pair, as EXISTS columns; each of
    `case`, `agency`, `group` is an id or an OuterRef to the outer row."""
    open_ = CaseParticipation.objects.filter(
        case_id=case, agency_id=agency, revoked_at__isnull=True
    )
    return {
        # Already participating is holding access (the rule); a record left
        # open past its expiry is only tidied up before the new share.
        "cb_open": access.grant_held(AccessLevel.VIEW, group, case=case),
        "cb_stale": Exists(open_.filter(expires_at__lte=timezone.now())),
        "cb_granted": Exists(
            CaseGroupObjectPermission.objects.filter(content_object_id=case, group_id=group)
        ),
        "cb_tombstone": Exists(CaseTombstone.objects.filter(case_id=case, agency_id=agency)),
    }


#: What the rules and writes of a share or revoke read of a case; the bulk
#: forms over many cases read only these (10,000 full rows cost a second of
#: Python). Other fields of their cases load on access.
_CASE_COLUMNS = ("id", "public_id", "lead_agency_id", "handling_code", "status")


def _gated_cases(
    actor: AnyUser,
    action: str,
    case_ids: list[int],
    *,
    lock: bool,
    narrow: bool = False,
    **columns: Exists | Subquery,
) -> list[Case]:
    """The cases, checked for `action` and read (locked when `lock`) in one
    query; only `_CASE_COLUMNS` when `narrow`."""
    queryset = Case.objects.filter(ids_in("pk", case_ids))
    if narrow:
        queryset = queryset.only(*_CASE_COLUMNS)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    queryset = queryset.annotate(**columns).order_by("pk")
    return access.require_many(actor, action, queryset, count=len(set(case_ids)))


def _gated_for_sharing(actor: Actor, case_ids: list[int], **kwargs: Any) -> list[Case]:
    """`_gated_cases` for "share". A co-managing agency's coordinator may not
    share but may propose (`cases.proposals`), and is told so; the gate
    answers before any agency is looked at, so the answer is the same
    whoever the share was for."""
    try:
        return _gated_cases(actor, "share", case_ids, **kwargs)
    except PermissionDenied as refusal:
        try:
            _gated_cases(actor, "propose_share", case_ids, lock=False, narrow=True)
        except DomainError:
            raise refusal from None
        raise PermissionDenied(PROPOSE_INSTEAD) from None


def _has_documents() -> Exists:
    return Exists(
        Document.objects.filter(case=OuterRef("pk")).exclude(
            handling_code__in=access.AGENCY_ONLY_CODES
        )
    )


def _check_share(
    actor: AnyUser, me: Agency, case: Case, facts: Any, share: Share, stored: Agency | None
) -> None:
    """The rules of one share, in the order they have always been applied."""
    stored = _check_agency(stored)
    if share.level not in ACCESS_LEVEL_ORDER:
        raise ValidationFailed({"level": [_("Unknown access level.")]})
    if share.level == AccessLevel.MANAGE:
        access.require_loaded(actor, "grant_manage", case)
    if share.confidential:
        access.require_loaded(actor, "share_confidential", case)
    _validate_expiry(share.expires_at)
    if case.handling_code == HandlingCode.AMBER_STRICT:
        raise ValidationFailed({"agency": [STRICT]})
    if stored.pk == case.lead_agency_id:
        raise ValidationFailed({"agency": [_("The lead agency already manages this case.")]})
    if facts.cb_open:
        raise Conflict(ALREADY, field="agency")


# --- sharing -------------------------------------------------------------------


def share_case(
    *,
    actor: Actor,
    case: Case,
    agency: Agency,
    level: str,
    expires_at: dt.datetime | None = None,
    confidential: bool = False,
) -> CaseParticipation:
    """Give `agency` access to `case` at `level`."""
    share = Share(agency, level, expires_at, confidential)
    return _checked_then_written(lambda: _check_one_case(actor, case, [share], keyed=False))[0]


def share_case_with_agencies(
    *, actor: Actor, case: Case, shares: Sequence[ShareLike]
) -> list[CaseParticipation]:
    """Share `case` with several agencies at once, all or nothing.

    `shares` holds `Share`s (or tuples/dicts of agency, level, expires_at,
    confidential). Each is checked as `share_case` checks it; an agency listed
    twice is refused. Returns the new participations in the order given.
    """
    if not shares:
        raise ValidationFailed({"non_field_errors": [_("Name at least one agency.")]})
    terms = [_as_share(s) for s in shares]
    return _checked_then_written(lambda: _check_one_case(actor, case, terms, keyed=True))


def _check_one_case(
    actor: Actor, case: Case, shares: list[Share], *, keyed: bool
) -> Callable[[], list[CaseParticipation]]:
    (case,) = _gated_for_sharing(
        actor,
        [case.pk],
        lock=True,
        narrow=False,
        cb_has_documents=_has_documents(),
        **_permission_columns(),
    )
    me = _agency_of_member(actor)
    agency_ids = [pk for pk in (_agency_pk(s.agency) for s in shares) if pk is not None]
    agencies = Agency.objects.filter(pk__in=agency_ids).annotate(
        **_pair_columns(case=case.pk, agency=OuterRef("pk"), group=OuterRef("group_id"))
    )
    stored: dict[int | None, Agency] = {a.pk: a for a in agencies}

    refusals, seen, pairs = _Refusals(keyed), set(), []
    for index, share in enumerate(shares):
        agency = stored.get(_agency_pk(share.agency))
        try:
            if agency is not None and agency.pk in seen:
                raise ValidationFailed({"agency": [_("This agency is listed twice.")]})
            _check_share(actor, me, case, agency, share, agency)
        except DomainError as error:
            refusals.add(index, error)
            continue
        if agency is None:  # _check_share() refuses an unknown agency
            raise NotFound()
        seen.add(agency.pk)
        pairs.append((case, agency, share, agency))
    refusals.raise_any()
    return partial(_write_shares, actor, me, pairs)


def share_cases_with_agency(
    *,
    actor: Actor,
    cases: Sequence[Case],
    agency: Agency,
    level: str,
    expires_at: dt.datetime | None = None,
    confidential: bool = False,
) -> list[CaseParticipation]:
    """Share several cases with one agency at once, all or nothing.

    Each case is checked as `share_case` checks it; errors are keyed by the
    case's index in `cases`. Returns the new participations in that order.
    """
    if not cases:
        raise ValidationFailed({"non_field_errors": [_("Name at least one case.")]})
    share = Share(agency, level, expires_at, confidential)
    return _checked_then_written(lambda: _check_cases(actor, list(cases), share))


def _check_cases(
    actor: Actor, cases: list[Case], share: Share
) -> Callable[[], list[CaseParticipation]]:
    agency = share.agency
    agency_pk = _agency_pk(agency)
    stored = Agency.objects.filter(pk=agency_pk).first() if agency_pk else None
    columns = {"cb_has_documents": _has_documents(), **_permission_columns()}
    if stored is not None:
        columns.update(_pair_columns(case=OuterRef("pk"), agency=stored.pk, group=stored.group_id))
    case_ids = [c.pk for c in cases]
    gated = {
        c.pk: c for c in _gated_for_sharing(actor, case_ids, lock=True, narrow=True, **columns)
    }
    me = _agency_of_member(actor)

    refusals, seen, pairs = _Refusals(keyed=True), set(), []
    for index, pk in enumerate(case_ids):
        case = gated[pk]
        try:
            if pk in seen:
                raise ValidationFailed({"case": [_("This case is listed twice.")]})
            _check_share(actor, me, case, case, share, stored)
        except DomainError as error:
            refusals.add(index, error)
            continue
        if stored is None:  # _check_share() refuses an unknown agency
            raise NotFound()
        seen.add(pk)
        pairs.append((case, stored, share, case))
    refusals.raise_any()
    return partial(_write_shares, actor, me, pairs)


def _write_shares(
    actor: Actor, me: Agency, pairs: list[tuple[Case, Agency, Share, Any]]
) -> list[CaseParticipation]:
    """Write checked shares: (case, agency, terms, the row carrying the pair's
    facts). The pairs are a cross product of their cases and agencies."""
    case_ids = list(dict.fromkeys(case.pk for case, _a, _s, _f in pairs))
    agency_ids = list(dict.fromkeys(agency.pk for _c, agency, _s, _f in pairs))
    if any(facts.cb_stale for *_x, facts in pairs):
        _end_stale(case_ids, agency_ids)
    if any(facts.cb_tombstone for *_x, facts in pairs):
        _clear_lost_access(case_ids, agency_ids)
    if any(facts.cb_granted for *_x, facts in pairs):
        # Leftovers (an expired participation not yet swept keeps its grants):
        # the new grants are then exactly those of the new level.
        CaseGroupObjectPermission.objects.filter(
            ids_in("content_object_id", case_ids),
            group_id__in=[agency.group_id for _c, agency, _s, _f in pairs],
        ).delete()
    # The cases are not touched (module docstring): each new participation
    # takes its position in its agency's list from its own `granted_at`.
    # Rows are written set-based (`config.bulk`), no model instance per row:
    # at 10,000 cases preparing instances cost more than the statements.
    now = timezone.now()
    public_ids = [uuid.uuid4() for _p in pairs]
    ids = insert_rows(
        CaseParticipation,
        ("public_id", "case_id", "agency_id", "level", "confidential", "expires_at"),
        [
            (public_id, case.pk, agency.pk, share.level, share.confidential, share.expires_at)
            for public_id, (case, agency, share, _f) in zip(public_ids, pairs, strict=True)
        ],
        same={
            "granted_by_id": actor.pk,
            "granted_by_agency_id": me.pk,
            "granted_at": now,
            "updated_at": now,
            "revoked_at": None,
            "revoked_by_id": None,
            "end_reason": "",
            "version": 1,
        },
        returning=("id",),
    )
    insert_rows(
        CaseGroupObjectPermission,
        ("content_object_id", "group_id", "permission_id", "expires_at"),
        [
            (case.pk, agency.group_id, getattr(case, f"cb_perm_{level}"), share.expires_at)
            for case, agency, share, _f in pairs
            for level in _levels_up_to(share.level)
        ],
        same={"granted_at": now},
    )
    with_documents = [(case, agency) for case, agency, _s, _f in pairs if case.cb_has_documents]
    if with_documents:
        documents.record_cases_shared(actor=actor, shares=with_documents)
    emit_many(
        "case.shared",
        [(case, {"agency": agency.public_id}) for case, agency, _s, _f in pairs],
        actor=actor,
    )
    audit.append_many(
        [
            audit.Entry(
                AuditAction.SHARE,
                obj=case,
                changes={
                    "participation": str(public_id),
                    "agency": agency.code,
                    "level": share.level,
                    "expires_at": share.expires_at,
                    "confidential": share.confidential,
                },
            )
            for public_id, (case, agency, share, _f) in zip(public_ids, pairs, strict=True)
        ],
        actor=actor,
    )
    return [
        _written_participation(pk, public_id, case, agency, share, actor, me, now)
        for (pk,), public_id, (case, agency, share, _f) in zip(ids, public_ids, pairs, strict=True)
    ]


def _levels_up_to(level: str) -> list[str]:
    """The levels whose grants `level` holds (`access.level_codenames`)."""
    return [codename.removesuffix("_case") for codename in access.level_codenames(level)]


_PARTICIPATION_COLUMNS = tuple(f.attname for f in CaseParticipation._meta.concrete_fields)


def _written_participation(
    pk: int,
    public_id: uuid.UUID,
    case: Case,
    agency: Agency,
    share: Share,
    actor: Actor,
    me: Agency,
    now: dt.datetime,
) -> CaseParticipation:
    """The participation just inserted, as `bulk_create` returned it (its
    case, agency and granters attached)."""
    values = {
        "id": pk,
        "public_id": public_id,
        "case_id": case.pk,
        "agency_id": agency.pk,
        "level": share.level,
        "confidential": share.confidential,
        "granted_by_id": actor.pk,
        "granted_by_agency_id": me.pk,
        "granted_at": now,
        "expires_at": share.expires_at,
        "revoked_at": None,
        "revoked_by_id": None,
        "end_reason": "",
        "updated_at": now,
        "version": 1,
    }
    participation = CaseParticipation.from_db(
        DEFAULT_DB_ALIAS, _PARTICIPATION_COLUMNS, [values[c] for c in _PARTICIPATION_COLUMNS]
    )
    # The related objects the caller holds, as reading them would cache them.
    participation.case, participation.agency = case, agency
    participation.granted_by, participation.granted_by_agency = actor, me
    return participation


# --- revoking --------------------------------------------------------------------


def revoke_case(
    *, actor: Actor, participation: CaseParticipation, expected_version: int | None = None
) -> CaseParticipation:
    """End an agency's access. The lead cannot be revoked, only replaced by hand-over;
    removing another managing agency is the lead's decision alone."""
    return _checked_then_written(
        lambda: _check_revoke_from_case(
            actor, participation.case_id, [participation], [expected_version], keyed=False
        )
    )[0]


def revoke_agencies(
    *,
    actor: Actor,
    case: Case,
    participations: Sequence[CaseParticipation],
    expected_versions: Sequence[int | None] | None = None,
) -> list[CaseParticipation]:
    """End several agencies' access to `case` at once, all or nothing.

    Each participation is checked as `revoke_case` checks it (one the actor
    may not see, or of another case, makes the whole call NotFound); errors
    are keyed by the participation's index. Returns them, ended, in order.
    """
    if not participations:
        raise ValidationFailed({"non_field_errors": [_("Name at least one participation.")]})
    if expected_versions is not None and len(expected_versions) != len(participations):
        raise ValueError("one expected version per participation")
    return _checked_then_written(
        lambda: _check_revoke_from_case(
            actor, case.pk, participations, expected_versions, keyed=True
        )
    )


def _check_revoke_from_case(
    actor: Actor,
    case_id: int,
    participations: Sequence[CaseParticipation],
    expected_versions: Sequence[int | None] | None,
    *,
    keyed: bool,
) -> Callable[[], list[CaseParticipation]]:
    ids = [p.pk for p in participations]
    locked = {
        p.pk: p
        for p in access.visible_participations(actor)
        .select_for_update(of=("self",))
        .filter(pk__in=ids, case_id=case_id)
        .select_related("agency")
        .order_by("pk")
    }
    if len(locked) != len(set(ids)):
        raise NotFound()
    (case,) = _gated_cases(actor, "share", [case_id], lock=False)
    refusals, seen, ended = _Refusals(keyed), set(), []
    for index, pk in enumerate(ids):
        participation = locked[pk]
        expected = expected_versions[index] if expected_versions else None
        try:
            if pk in seen:
                raise ValidationFailed({"non_field_errors": [_("Listed twice.")]})
            if expected is not None and participation.version != expected:
                raise PreconditionFailed()
            _check_revoke(actor, case, participation)
        except DomainError as error:
            refusals.add(index, error)
            continue
        seen.add(pk)
        participation.case = case
        ended.append(participation)
    refusals.raise_any()
    return partial(_write_revokes, actor, ended)


def revoke_agency_from_cases(
    *, actor: Actor, agency: Agency, cases: Sequence[Case]
) -> list[CaseParticipation]:
    """End one agency's access to several cases at once, all or nothing.

    Each case is checked as `revoke_case` checks its participation; a case on
    which the agency has no open participation the actor may see is refused
    (the same answer whether it has none or a hidden one). Errors are keyed
    by the case's index. Returns the ended participations, in order.
    """
    if not cases:
        raise ValidationFailed({"non_field_errors": [_("Name at least one case.")]})
    agency_pk = _agency_pk(agency)
    if agency_pk is None:
        raise ValidationFailed({"agency": [_("Unknown agency.")]})
    return _checked_then_written(lambda: _check_agency_from_cases(actor, agency_pk, list(cases)))


def _check_agency_from_cases(
    actor: Actor, agency_pk: int, cases: list[Case]
) -> Callable[[], list[CaseParticipation]]:
    case_ids = [c.pk for c in cases]
    gated = {c.pk: c for c in _gated_cases(actor, "share", case_ids, lock=False, narrow=True)}
    # One agency for every row (not one instance per row, as select_related
    # would build: 10,000 of them for 10,000 cases).
    agency = Agency.objects.filter(pk=agency_pk).first()
    locked = {
        p.case_id: p
        for p in access.visible_participations(actor)
        .select_for_update(of=("self",))
        .filter(ids_in("case_id", case_ids), agency_id=agency_pk, revoked_at__isnull=True)
        .order_by("pk")
    }
    participation: CaseParticipation | None
    for participation in locked.values():
        if agency is None:  # it has participations, so it exists
            raise NotFound()
        participation.agency = agency
    refusals, seen, ended = _Refusals(keyed=True), set(), []
    for index, pk in enumerate(case_ids):
        participation = locked.get(pk)
        try:
            if pk in seen:
                raise ValidationFailed({"case": [_("This case is listed twice.")]})
            if participation is None:
                raise Conflict(_("This agency does not take part in this case."), field="case")
            _check_revoke(actor, gated[pk], participation)
        except DomainError as error:
            refusals.add(index, error)
            continue
        seen.add(pk)
        participation.case = gated[pk]
        ended.append(participation)
    refusals.raise_any()
    return partial(_write_revokes, actor, ended)


def _check_revoke(actor: AnyUser, case: Case, participation: CaseParticipation) -> None:
    if participation.revoked_at is not None:
        raise Conflict(_("This participation has already ended."))
    if participation.agency_id == case.lead_agency_id:
        raise Conflict(_("The lead agency cannot be revoked; hand the case over first."))
    if participation.level == AccessLevel.MANAGE:
        access.require_loaded(actor, "revoke_manager", case)


def _write_revokes(
    actor: Actor, participations: list[CaseParticipation]
) -> list[CaseParticipation]:
    """End checked participations and drop their grants. They are a cross
    product of their cases and agencies (see the module docstring)."""
    now = timezone.now()
    CaseParticipation.objects.filter(ids_in("pk", [p.pk for p in participations])).update(
        revoked_at=now,
        revoked_by=actor,
        end_reason=CaseParticipation.EndReason.REVOKED,
        version=F("version") + 1,
        updated_at=now,
    )
    for p in participations:
        p.revoked_at, p.revoked_by, p.updated_at = now, actor, now
        p.end_reason = CaseParticipation.EndReason.REVOKED
        p.version += 1
    case_ids = list(dict.fromkeys(p.case_id for p in participations))
    CaseGroupObjectPermission.objects.filter(
        ids_in("content_object_id", case_ids),
        group_id__in=list({p.agency.group_id for p in participations}),
    ).delete()
    emit_many(
        "case.revoked",
        [(p.case, {"participation": p.public_id}) for p in participations],
        actor=actor,
    )
    _record_lost_access([(p.case, p.agency) for p in participations], at=now, actor=actor)
    audit.append_many(
        [
            audit.Entry(AuditAction.REVOKE, obj=p.case, changes=_participation_changes(p))
            for p in participations
        ],
        actor=actor,
    )
    return participations
