"""Deconfliction: recording identifiers and finding who else holds them.

Matching is exact on the keyed hash of (kind, normalised value) across
**every** case, whoever may see it: the lookup is internal. What leaves
this module is filtered:

* a match in an identifier the searcher may see (`access.visible_identifiers`)
  is answered in full: case public id and reference, identifier public id;
* any other match in a *discoverable* case is answered only as "agency X
  (country) holds a match of kind K, first recorded on date D" with a
  contact-request token. No title, reference, note, other identifier or case
  id: the holder decides whether to share. Matches are grouped per holding
  agency, so the searcher does not learn how many cases hold the value;
* a match in a case that is not discoverable yields nothing to the searcher,
  and the case's lead agency is told someone searched.

The "holding agency" of a match is the agency that recorded the identifier:
it is the one that knows what it is, and naming it says nothing about who
else participates in the case. Every match against an agency's identifiers
by another agency is reported to it, once per value searched (of its
earliest identifier holding it).

A search of up to `DECONFLICTION_MAX_SEARCH` identifiers costs a constant
number of queries: one `IN` lookup on the hash index, one through the gate
for the visible subset, one insert of the contact tokens.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import BinaryField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from audit import services as audit
from audit.models import AuditAction
from config.ratelimit import enforce
from gate.errors import Conflict, NotFound, ValidationFailed
from gate.roles import Role
from notifications.outbox import emit, emit_many

from . import access
from .choices import HandlingCode, HandlingInstruction
from .identifiers import (
    IdentifierInput,
    keyed_hash,
    normalise,
    normalise_country,
    parse_date_of_birth,
)
from .models import Case, ContactRequest, Identifier
from .services import _full_clean, _validate_handling

# --- who is told -------------------------------------------------------------
# Each goes through the notification outbox, in the transaction of the search
# or the contact request: ids and codes only, never a case title or a value.


def notify_identifiers_matched(*, actor, told: list[tuple[dict, int]]) -> None:
    """Tell each agency that another agency searched an identifier it holds
    (the holder), or one in its non-discoverable case (the lead: the searcher
    was told nothing). `told` pairs a matched identifier row with the agency
    to tell."""
    if not told:
        return
    public_ids = dict(
        Agency.objects.filter(pk__in={agency_id for _row, agency_id in told}).values_list(
            "pk", "public_id"
        )
    )
    by = access.agency_of(actor).code
    events = [
        (
            Identifier(pk=row["pk"], public_id=row["public_id"]),
            {"agency": public_ids[agency_id], "by": by},
        )
        for row, agency_id in told
    ]
    emit_many("deconfliction.hit", events, actor=actor)


def notify_contact_requested(*, actor, contact: ContactRequest, identifier_ids: list) -> None:
    """Ask the holding agency's coordinators to get in touch with the searcher,
    once per identifier of theirs that matched."""
    for identifier in Identifier.objects.filter(public_id__in=identifier_ids):
        emit(
            "deconfliction.contact_requested",
            obj=identifier,
            actor=actor,
            agency=contact.holder_agency.public_id,
            by=contact.requester_agency.code,
            contact_request=contact.public_id,
        )


def audit_deconfliction_search(*, actor, agency: Agency, payload: dict[str, Any]) -> None:
    """Record that `actor` searched; the payload carries hashes, not values."""
    audit.record(
        action=AuditAction.SEARCH,
        actor=actor,
        agency=agency,
        object_type="cases.identifier",
        changes=payload,
    )


def audit_identifier_added(*, actor, identifier: Identifier) -> None:
    # The kind and the case, never the value (a wallet, a phone number).
    audit.record(
        action=AuditAction.CREATE,
        obj=identifier,
        actor=actor,
        changes={"kind": identifier.kind, "case": str(identifier.case.public_id)},
    )


def audit_contact_requested(*, actor, contact_request: ContactRequest) -> None:
    audit.record(action=AuditAction.CREATE, obj=contact_request, actor=actor)


# --- recording --------------------------------------------------------------

#: What a person writes when recording an identifier on a case, in the order
#: forms show it: the one list the admin's identifier form, the API's
#: identifier input and `add_identifier`'s keywords follow. Identifiers are
#: records: set once here, never edited.
IDENTIFIER_FIELDS = (
    "kind",
    "value",
    "chain",
    "country",
    "date_of_birth",
    "platform",
    "bank_code",
    "registration_number",
    "notes",
    "handling_code",
    "handling_instruction",
    "handling_restriction",
)


def identifier_input(
    *,
    kind: str,
    value: str,
    chain: str = "",
    country: str = "",
    date_of_birth: dt.date | str | None = None,
    platform: str = "",
    bank_code: str = "",
    registration_number: str = "",
) -> IdentifierInput:
    return IdentifierInput(
        kind=kind,
        value=value,
        chain=chain or "",
        country=country or "",
        date_of_birth=date_of_birth,
        platform=platform or "",
        bank_code=bank_code or "",
        registration_number=registration_number or "",
    )


@transaction.atomic
def add_identifier(
    *,
    actor,
    case: Case,
    kind: str,
    value: str,
    chain: str = "",
    country: str = "",
    date_of_birth: dt.date | str | None = None,
    platform: str = "",
    bank_code: str = "",
    registration_number: str = "",
    notes: str = "",
    handling_code: str = HandlingCode.AMBER,
    handling_instruction: str = HandlingInstruction.H0,
    handling_restriction: str = "",
) -> Identifier:
    """Record an identifier on a case (investigators of a contributing agency)."""
    access.require(actor, "contribute", case)
    agency = access.agency_of(actor)
    item = identifier_input(
        kind=kind,
        value=value,
        chain=chain,
        country=country,
        date_of_birth=date_of_birth,
        platform=platform,
        bank_code=bank_code,
        registration_number=registration_number,
    )
    normalised = normalise(item, default_region=agency.country)
    identifier = Identifier(
        case=case,
        kind=kind,
        raw_value=value.strip(),
        normalised_value=normalised,
        value_hash=keyed_hash(kind, normalised),
        chain=chain or "",
        country=normalise_country(country) if country else "",
        date_of_birth=parse_date_of_birth(date_of_birth) if date_of_birth else None,
        platform=platform or "",
        bank_code=bank_code or "",
        registration_number=registration_number or "",
        notes=notes,
        handling_code=handling_code,
        handling_instruction=handling_instruction,
        handling_restriction=handling_restriction,
        added_by=actor,
        agency=agency,
    )
    _full_clean(identifier, exclude=["value_hash"])
    _validate_handling(identifier)
    if Identifier.objects.filter(case=case, value_hash=identifier.value_hash).exists():
        raise Conflict(_("This identifier is already recorded on this case."), field="value")
    try:
        with transaction.atomic():
            identifier.save()
    except IntegrityError:  # a concurrent add of the same value
        raise Conflict(
            _("This identifier is already recorded on this case."), field="value"
        ) from None
    audit_identifier_added(actor=actor, identifier=identifier)
    return identifier


# --- searching --------------------------------------------------------------


@dataclass
class VisibleHit:
    """A match in an identifier the searcher may see: told in full."""

    case: str
    case_reference: str
    identifier: str
    kind: str


@dataclass
class RestrictedHit:
    """A match the searcher may not see: whom to call, nothing else."""

    agency: str
    agency_country: str
    kind: str
    first_recorded: dt.date
    contact_token: str


@dataclass
class SearchAnswer:
    """The answer for one searched identifier, in the order given."""

    index: int
    kind: str
    value: str
    normalised_value: str = ""
    errors: dict[str, list[str]] | None = None
    hits: list[VisibleHit] = field(default_factory=list)
    held_elsewhere: list[RestrictedHit] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for hit in data["held_elsewhere"]:
            hit["first_recorded"] = hit["first_recorded"].isoformat()
        return data


# The columns read for every match. Deliberately no case content: title,
# reference and notes of a case the searcher cannot see never leave the database.
_MATCH_COLUMNS = (
    "pk",
    "public_id",
    "kind",
    "value_hash",
    "created_at",
    "agency_id",
    "agency__code",
    "agency__country",
    "case__discoverable",
    "case__lead_agency_id",
)


def _prepare(items: Sequence, default_region: str) -> list[tuple[SearchAnswer, bytes | None]]:
    prepared = []
    for index, raw in enumerate(items):
        try:
            item = IdentifierInput.coerce(raw)
        except (ValidationFailed, TypeError) as exc:
            errors = exc.errors if isinstance(exc, ValidationFailed) else {"kind": [str(exc)]}
            prepared.append((SearchAnswer(index=index, kind="", value="", errors=errors), None))
            continue
        answer = SearchAnswer(index=index, kind=str(item.kind), value=str(item.value))
        try:
            answer.normalised_value = normalise(item, default_region=default_region)
        except ValidationFailed as exc:
            answer.errors = exc.errors
            prepared.append((answer, None))
            continue
        prepared.append((answer, keyed_hash(item.kind, answer.normalised_value)))
    return prepared


def _throttle(actor) -> None:
    """Enumeration defence: one caller cannot probe value after value without limit
    (config.ratelimit; raises RateLimited, a 429 in the API)."""
    enforce(
        "deconfliction-search",
        str(actor.pk),
        limit=settings.DECONFLICTION_SEARCH_RATE_LIMIT,
        window=settings.DECONFLICTION_SEARCH_RATE_WINDOW,
    )


def searcher_agency(actor) -> Agency:
    """The agency a search answers, once its caller may search: investigators
    and coordinators, within the search rate (`_throttle`). Every answer this
    module gives passes here first: a search, a recorded identifier's
    deconfliction, the borders of a money trace (`cases.trace`)."""
    me = access.require_role(actor, Role.INVESTIGATOR).agency
    _throttle(actor)
    return me


@transaction.atomic
def search(*, actor, identifiers: Sequence) -> list[SearchAnswer]:
    """Answer, per identifier, who holds it (see the module docstring).

    `identifiers`: `IdentifierInput`s, (kind, value[, chain]) tuples or
    mappings with the fields of `IdentifierInput`. A malformed one gets its
    errors in its answer; the others are still answered.
    """
    me = searcher_agency(actor)
    limit = settings.DECONFLICTION_MAX_SEARCH
    if isinstance(identifiers, (str, bytes)) or not isinstance(identifiers, Sequence):
        raise ValidationFailed({"identifiers": [_("Expected a list of identifiers.")]})
    if not identifiers:
        raise ValidationFailed({"identifiers": [_("Give at least one identifier.")]})
    if len(identifiers) > limit:
        raise ValidationFailed(
            {"identifiers": [_("At most %(n)d identifiers per search.") % {"n": limit}]}
        )
    prepared = _prepare(identifiers, me.country)
    _answer(actor, me, prepared)
    return [answer for answer, _h in prepared]


def _answer(actor, me: Agency, prepared: list[tuple[SearchAnswer, bytes | None]]) -> None:
    """Fill in each answer from the matches of its hash, and audit the search."""
    wanted = {h for _a, h in prepared if h is not None}
    restricted = _match(actor, me, prepared)
    audit_deconfliction_search(
        actor=actor,
        agency=me,
        payload={
            "count": len(prepared),
            "invalid": sum(1 for _a, h in prepared if h is None),
            "hashes": sorted(h.hex() for h in wanted),
            "visible_hits": sum(len(a.hits) for a, _h in prepared),
            "restricted_hits": restricted,
        },
    )


def _match(actor, me: Agency, prepared: list[tuple[SearchAnswer, bytes | None]]) -> int:
    """Fill in each answer from the matches of its hash (see the module
    docstring) and tell the agencies concerned; the number of restricted hits."""
    wanted = {h for _a, h in prepared if h is not None}

    # 1. The internal lookup, across all cases, on the hash index.
    matches = list(Identifier.objects.filter(value_hash__in=wanted).values(*_MATCH_COLUMNS))
    for row in matches:
        row["value_hash"] = bytes(row["value_hash"])
    # 2. Which of those the searcher may see in full, through the gate.
    visible = {
        row["pk"]: row
        # By the hashes, not the matches' ids: the same rows, read from the
        # hash index rather than probed id by id from a list as long as a
        # popular wallet's holders (at 1M cases, 3.6 s -> 0.9 s for 280,000).
        for row in access.visible_identifiers(actor)
        .filter(value_hash__in=wanted)
        .values("pk", "public_id", "kind", "case__public_id", "case__reference")
    }

    by_hash: dict[bytes, list[dict]] = defaultdict(list)
    for row in sorted(matches, key=lambda r: (r["created_at"], r["pk"])):
        by_hash[row["value_hash"]].append(row)

    restricted = 0
    events: list[tuple[str, int]] = []
    rows = {row["pk"]: row for row in matches}
    for answer, value_hash in prepared:
        if value_hash is None:
            continue
        elsewhere: dict[int, dict] = {}
        for row in by_hash.get(value_hash, ()):
            if row["pk"] in visible:
                full = visible[row["pk"]]
                answer.hits.append(
                    VisibleHit(
                        case=str(full["case__public_id"]),
                        case_reference=full["case__reference"],
                        identifier=str(full["public_id"]),
                        kind=full["kind"],
                    )
                )
            elif row["case__discoverable"]:
                elsewhere.setdefault(row["agency_id"], row)  # earliest first
            elif row["case__lead_agency_id"] != me.pk:
                events.append(("undiscoverable", row["pk"]))
            if row["agency_id"] != me.pk and (row["pk"] in visible or row["case__discoverable"]):
                events.append(("matched", row["pk"]))
        for row in elsewhere.values():
            restricted += 1
            answer.held_elsewhere.append(_held_elsewhere(me, row["agency_id"], row, value_hash))

    # An agency is told once per value searched, of its earliest identifier
    # holding it: the notice is its agency's ("your agency holds"), and a
    # wallet held on thousands of its cases would otherwise tell it thousands
    # of times.
    told: dict[tuple[int, bytes], dict] = {}
    for event, pk in events:
        row = rows[pk]
        agency_id = row["agency_id"] if event == "matched" else row["case__lead_agency_id"]
        told.setdefault((agency_id, row["value_hash"]), row)
    notify_identifiers_matched(
        actor=actor, told=[(row, agency_id) for (agency_id, _h), row in told.items()]
    )
    return restricted


def _held_elsewhere(me: Agency, agency_id: int, row: dict, value_hash: bytes) -> RestrictedHit:
    """What the searcher is told of a match out of its sight: the holding
    agency, the kind and the date, and a token to ask for contact."""
    return RestrictedHit(
        agency=row["agency__code"],
        agency_country=row["agency__country"],
        kind=row["kind"],
        first_recorded=row["created_at"].date(),
        contact_token=_contact_token(me, agency_id, row["kind"], value_hash),
    )


def answer_recorded(
    *, actor, me: Agency, recorded: Sequence[tuple[str, bytes]]
) -> list[SearchAnswer]:
    """The search's answer for values already recorded, given as (kind,
    keyed hash) pairs: the nodes a money trace reached (`cases.trace`).

    The rules of a search (`_match`): "agency X holds a match" with a
    contact token for what is discoverable and out of the caller's sight,
    nothing for the rest, and the agencies concerned told; but no visible
    hits, which a trace shows itself. Asked agency by agency rather than
    holder by holder: a wallet an exchange runs is held on a hundred thousand
    cases of a few hundred agencies, and the answer names agencies (at 1M
    cases, 1.6 s -> 35 ms for such a wallet). A property test holds the two
    ways to one answer. `me` comes from `searcher_agency` (role and rate);
    the caller audits, as the search it is part of.
    """
    answers = [
        SearchAnswer(index=index, kind=kind, value="") for index, (kind, _h) in enumerate(recorded)
    ]
    values = list(dict.fromkeys(value_hash for _kind, value_hash in recorded))
    if not values:
        return answers
    unseen = ~Exists(access.visible_identifiers(actor).filter(pk=OuterRef("pk")))
    per_agency = [_per_agency(value_hash, unseen) for value_hash in values]
    holdings = list(per_agency[0].union(*per_agency[1:], all=True))
    # A case that is not discoverable answers nothing, and tells its lead.
    leads = list(
        Identifier.objects.filter(value_hash__in=values, case__discoverable=False)
        .exclude(case__lead_agency_id=me.pk)
        .filter(unseen)
        .values("pk", "value_hash", "case__lead_agency_id")
    )
    wanted = {h[pk] for h in holdings for pk in ("border", "matched") if h[pk] is not None}
    rows: dict[int, Any] = {
        row["pk"]: row
        for row in Identifier.objects.filter(pk__in=wanted | {lead["pk"] for lead in leads}).values(
            "pk", "public_id", "kind", "created_at", "agency__code", "agency__country"
        )
    }

    def first(pk: int) -> tuple[dt.datetime, int]:
        return rows[pk]["created_at"], pk

    elsewhere: dict[bytes, list[tuple[int, int]]] = defaultdict(list)
    told: dict[tuple[int, bytes], int] = {}

    def tell(agency_id: int, value_hash: bytes, pk: int) -> None:
        earlier = told.get((agency_id, value_hash))
        if earlier is None or first(pk) < first(earlier):
            told[(agency_id, value_hash)] = pk

    for holding in holdings:
        value_hash = bytes(holding["value"])
        if holding["border"] is not None:
            elsewhere[value_hash].append((holding["pk"], holding["border"]))
        if holding["matched"] is not None and holding["pk"] != me.pk:
            tell(holding["pk"], value_hash, holding["matched"])
    for lead in leads:
        tell(lead["case__lead_agency_id"], bytes(lead["value_hash"]), lead["pk"])

    for answer, (_kind, value_hash) in zip(answers, recorded, strict=True):
        for agency_id, pk in sorted(elsewhere[value_hash], key=lambda held: first(held[1])):
            answer.held_elsewhere.append(_held_elsewhere(me, agency_id, rows[pk], value_hash))
    notify_identifiers_matched(
        actor=actor,
        told=[
            (rows[pk], agency_id)
            for (agency_id, _h), pk in sorted(told.items(), key=lambda item: first(item[1]))
        ],
    )
    return answers


def _per_agency(value_hash: bytes, unseen: Exists) -> QuerySet[Agency, dict[str, Any]]:
    """Each agency holding `value_hash`, with its earliest identifier of it
    that answers "held elsewhere" (discoverable, out of sight) and its
    earliest one that tells it (discoverable or seen): each read from the
    (value, agency, time) index, stopping at the first row that answers."""
    held = Identifier.objects.filter(value_hash=value_hash, agency_id=OuterRef("pk")).order_by(
        "created_at", "pk"
    )
    return (
        Agency.objects.filter(
            pk__in=Identifier.objects.filter(value_hash=value_hash).values("agency_id")
        )
        .annotate(
            value=Value(value_hash, output_field=BinaryField()),
            border=Subquery(held.filter(unseen, case__discoverable=True).values("pk")[:1]),
            matched=Subquery(held.filter(Q(case__discoverable=True) | ~unseen).values("pk")[:1]),
        )
        .order_by()
        .values("pk", "value", "border", "matched")
    )


@transaction.atomic
def deconflict_identifier(*, actor, identifier: Identifier) -> SearchAnswer:
    """Who else holds a recorded identifier: the search, on its stored hash.

    Run after recording one, so the investigator learns at once that another
    agency holds it (and that agency is told); the identifier itself is left
    out of its own hits.
    """
    access.require(actor, "view", identifier)
    me = searcher_agency(actor)
    answer = SearchAnswer(
        index=0,
        kind=identifier.kind,
        value=identifier.raw_value,
        normalised_value=identifier.normalised_value,
    )
    _answer(actor, me, [(answer, bytes(identifier.value_hash))])
    own = str(identifier.public_id)
    answer.hits = [hit for hit in answer.hits if hit.identifier != own]
    return answer


# A salt for signing, not a secret.
CONTACT_TOKEN_SALT = "cases.deconfliction.contact"  # noqa: S105  # nosec B105
CONTACT_TOKEN_MAX_AGE = dt.timedelta(days=30)


def _contact_token(me: Agency, holder_agency_id: int, kind: str, value_hash: bytes) -> str:
    """A signed, stateless token: the search writes nothing per hit.

    It carries the searching and holding agencies' ids, the kind and the
    keyed hash of the value the searcher typed: nothing the searcher was not
    told, and nothing of the holder's case. Signed, so it cannot be forged
    to ask about a value that was not searched.
    """
    return signing.dumps(
        {"s": me.pk, "h": holder_agency_id, "k": kind, "v": value_hash.hex()},
        salt=CONTACT_TOKEN_SALT,
    )


@transaction.atomic
def request_contact(*, actor, token: str) -> ContactRequest:
    """Ask the holding agency's coordinators to contact the searcher.

    Only the searching agency can redeem its token (anyone else, or a
    forged or expired token: 404). The holder learns who asked and which of
    its identifiers; the searcher learns nothing more than it was told.
    """
    me = access.require_role(actor, Role.INVESTIGATOR).agency
    try:
        claims = signing.loads(str(token), salt=CONTACT_TOKEN_SALT, max_age=CONTACT_TOKEN_MAX_AGE)
        holder_agency_id, kind = int(claims["h"]), str(claims["k"])
        value_hash = bytes.fromhex(claims["v"])
        searcher_agency_id = int(claims["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound() from None
    if searcher_agency_id != me.pk:
        raise NotFound()
    contact, created = ContactRequest.objects.get_or_create(
        requester_agency=me,
        holder_agency_id=holder_agency_id,
        value_hash=value_hash,
        defaults={"requested_by": actor, "kind": kind},
    )
    if not created:
        raise Conflict(_("Contact has already been requested for this match."))
    theirs = Identifier.objects.filter(
        value_hash=value_hash, agency_id=holder_agency_id, case__discoverable=True
    ).values_list("public_id", flat=True)
    notify_contact_requested(actor=actor, contact=contact, identifier_ids=list(theirs))
    audit_contact_requested(actor=actor, contact_request=contact)
    return contact


def identifiers_of(*, actor, case: Case) -> Iterable[Identifier]:
    """A case's identifiers as this user may see them (404 if the case is invisible)."""
    access.require(actor, "view", case)
    return access.visible_identifiers(actor).filter(case=case).order_by("created_at", "id")
