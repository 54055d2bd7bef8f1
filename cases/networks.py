"""Every write on a case's network: entities, links, transactions and assets.

As for notes and identifiers: contributors of an agency that contributes to
the case add them (gate action `contribute`); what an agency recorded stays
its own to change or delete (`edit`: the third-party rule); an asset's state
moves on by the recording agency or the agency holding it (`change_state`).
A closed case takes none of it (409). Each write checks the actor through
`cases.access`, validates every field (all errors at once, by field name),
and writes the row and one audit event in one transaction: a refused call
changes nothing.

Every object a network row names (an end of a link, a parent company, a
source note, an account, an MLA request) must be one the actor sees, on the
same case: one the actor may not see is refused exactly like one that does
not exist ("Unknown entity."), so a write learns nothing of what is hidden.

Victims: a person recorded or re-cast as a victim is TLP:RED (the recording
agency's alone, `access.AGENCY_ONLY_CODES`) unless the same call names a
handling code: sharing a victim with partners is an explicit act, lowering
the code.

The audit log keeps metadata (kinds, states, references by public id,
handling codes); names, amounts, descriptions and other case content are
only said to have changed, as for notes (`cases.services`). An asset
recorded or moved on is announced through the outbox (`asset.recorded`,
`asset.state_changed`; `cases.audiences`).

Why in `cases` and not an app of its own: the gate must name these models
(docs/architecture.md, "Why networks and money live in `cases`").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import pycountry
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.actors import Actor
from agencies.models import Agency
from audit import services as audit
from audit.models import AuditAction
from gate.errors import Conflict, PreconditionFailed, ValidationFailed
from notifications.choices import EventType
from notifications.outbox import emit

from . import access
from .choices import (
    AssetState,
    EntityKind,
    HandlingCode,
    IdentifierKind,
    PersonRole,
)
from .identifiers import normalise_country, parse_date_of_birth
from .models import (
    Asset,
    AssetStateChange,
    Case,
    Document,
    Entity,
    HandlingMixin,
    Identifier,
    Link,
    MLARequest,
    Note,
    Transaction,
)
from .models.network import AMOUNT_DECIMALS, AMOUNT_DIGITS
from .services import _agency_of_member, _agency_today, _full_clean, _validate_handling

_R = TypeVar("_R", Entity, Link, Transaction, Asset)

HANDLING_FIELDS = ("handling_code", "handling_instruction", "handling_restriction")

#: What a person writes on an entity, in the order forms show it: the one list
#: the admin's form, the API's input and `create_entity` follow. The kind is
#: set once; everything else changes with `update_entity`.
ENTITY_FIELDS = (
    "kind",
    "name",
    "aliases",
    "description",
    "role",
    "nationality",
    "date_of_birth",
    "registration_number",
    "country",
    "parent",
    "address",
    "latitude",
    "longitude",
    *HANDLING_FIELDS,
)
ENTITY_CHANGEABLE = tuple(f for f in ENTITY_FIELDS if f != "kind")
#: The fields of one kind of entity; the others stay empty.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    EntityKind.PERSON: ("role", "nationality", "date_of_birth"),
    EntityKind.ORGANISATION: ("registration_number", "country", "parent"),
    EntityKind.PLACE: ("address", "country", "latitude", "longitude"),
}
ENTITY_AUDIT_FIELDS = ("case", "kind", "role", "parent", "handling_code", "handling_instruction")

#: A link's ends are set once; what it says of them, its source and grading change.
LINK_ENDS = ("from_entity", "from_identifier", "to_entity", "to_identifier")
LINK_FIELDS = (
    "kind",
    *LINK_ENDS,
    "source_note",
    "source_document",
    "source_reliability",
    "information_accuracy",
    "description",
    *HANDLING_FIELDS,
)
LINK_CHANGEABLE = tuple(f for f in LINK_FIELDS if f not in LINK_ENDS)
LINK_AUDIT_FIELDS = (
    "case",
    "kind",
    *LINK_ENDS,
    "source_note",
    "source_document",
    "source_reliability",
    "information_accuracy",
    "handling_code",
    "handling_instruction",
)

#: A transaction is a record of what a statement or a ledger says: its ends,
#: amount and time never change (a wrong one is deleted and recorded again);
#: its reference, source, description and handling do.
TRANSACTION_FIELDS = (
    "from_identifier",
    "to_identifier",
    "amount",
    "currency",
    "occurred_at",
    "reference",
    "source_document",
    "description",
    *HANDLING_FIELDS,
)
TRANSACTION_CHANGEABLE = ("reference", "source_document", "description", *HANDLING_FIELDS)
TRANSACTION_AUDIT_FIELDS = (
    "case",
    "from_identifier",
    "to_identifier",
    "currency",
    "source_document",
    "handling_code",
    "handling_instruction",
)
#: Identifiers money moves between: accounts, wallets, and phone numbers
#: (mobile money).
MONEY_IDENTIFIER_KINDS = (
    IdentifierKind.CRYPTO_WALLET,
    IdentifierKind.IBAN,
    IdentifierKind.BANK_ACCOUNT,
    IdentifierKind.PHONE,
)

#: The state of an asset moves on only through `change_asset_state`.
ASSET_FIELDS = (
    "kind",
    "description",
    "value",
    "currency",
    "state",
    "state_on",
    "holding_agency",
    "legal_basis",
    "identifier",
    "mla_request",
    *HANDLING_FIELDS,
)
ASSET_CHANGEABLE = tuple(f for f in ASSET_FIELDS if f not in ("state", "state_on"))
ASSET_AUDIT_FIELDS = (
    "case",
    "kind",
    "currency",
    "state",
    "state_on",
    "holding_agency",
    "identifier",
    "mla_request",
    "handling_code",
    "handling_instruction",
)
#: Where an asset may go from each state: on, never back (a returned asset's
#: story is over; a freeze that was lifted is a new asset's story).
ASSET_TRANSITIONS: dict[str, tuple[str, ...]] = {
    AssetState.FROZEN: (AssetState.SEIZED, AssetState.CONFISCATED, AssetState.RETURNED),
    AssetState.SEIZED: (AssetState.CONFISCATED, AssetState.RETURNED),
    AssetState.CONFISCATED: (AssetState.RETURNED,),
    AssetState.RETURNED: (),
}

#: Text fields the audit log names without copying.
_CONTENT_FIELDS = {
    "name",
    "aliases",
    "description",
    "nationality",
    "date_of_birth",
    "registration_number",
    "country",
    "address",
    "latitude",
    "longitude",
    "reference",
    "value",
    "legal_basis",
    "handling_restriction",
}
MAX_ALIASES = 50
NAME_MAX_LENGTH = 300
NOTE_MAX_LENGTH = 2000
#: An ISO 4217 code, or a token and optionally its network: USDT-TRC20, BTC.
_CURRENCY = re.compile(r"[A-Z][A-Z0-9]{1,9}(-[A-Z0-9]{2,10})?")


# --- validation helpers ---------------------------------------------------------


class _Errors:
    """Field errors gathered over one call, raised together."""

    def __init__(self) -> None:
        self.errors: dict[str, list[Any]] = {}

    def add(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def _refuse_unknown(fields: Iterable[str], allowed: Iterable[str], message: Any) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationFailed({f: [message] for f in unknown})


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def normalise_currency(value: Any) -> str:
    """`KRW`, `usd`, `USDT-TRC20` → upper case; anything else is refused."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not _CURRENCY.fullmatch(text):
        raise ValidationFailed(
            {
                "currency": [
                    _("Give an ISO 4217 code (KRW, USD) or a token with its network (USDT-TRC20).")
                ]
            }
        )
    return text


def is_iso_currency(code: str) -> bool:
    """Whether `code` is an ISO 4217 currency (else a token)."""
    return pycountry.currencies.get(alpha_3=code) is not None


def _decimal(value: Any, field: str, errors: _Errors, *, positive: bool) -> Decimal | None:
    """An amount: exact, finite, at most 18 decimals and 18 digits before the point."""
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        errors.add(field, _("Give a number."))
        return None
    if positive and number <= 0:
        errors.add(field, _("The amount must be greater than zero."))
        return None
    if number < 0:
        errors.add(field, _("The value cannot be negative."))
        return None
    exponent = number.normalize().as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    whole = number.adjusted() + 1 if number >= 1 else 0
    if decimals > AMOUNT_DECIMALS or whole > AMOUNT_DIGITS - AMOUNT_DECIMALS:
        errors.add(
            field,
            _("At most %(whole)d digits before the point and %(decimals)d after.")
            % {"whole": AMOUNT_DIGITS - AMOUNT_DECIMALS, "decimals": AMOUNT_DECIMALS},
        )
        return None
    return number


def _text(value: Any, field: str, errors: _Errors, *, max_length: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, _("Expected text."))
        return ""
    text = value.strip()
    if required and not text:
        errors.add(field, _("This field is required."))
    elif len(text) > max_length:
        errors.add(field, _("Too long (at most %(n)d characters).") % {"n": max_length})
    return text


def _aliases(value: Any, errors: _Errors) -> list[str]:
    """Other names, each kept as written (NFC), without blanks or repeats."""
    if _empty(value):
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        errors.add("aliases", _("Expected a list of names."))
        return []
    names = [unicodedata.normalize("NFC", v.strip()) for v in value if v.strip()]
    names = list(dict.fromkeys(names))
    if len(names) > MAX_ALIASES:
        errors.add("aliases", _("At most %(n)d aliases.") % {"n": MAX_ALIASES})
    if any(len(n) > NAME_MAX_LENGTH for n in names):
        errors.add("aliases", _("Too long (at most %(n)d characters).") % {"n": NAME_MAX_LENGTH})
    return names


def _country(value: Any, field: str, errors: _Errors) -> str:
    if _empty(value):
        return ""
    try:
        return normalise_country(value, field)
    except ValidationFailed as exc:
        for message in exc.errors.get(field, []):
            errors.add(field, message)
        return ""


_UNKNOWN = {
    Entity: _("Unknown entity."),
    Identifier: _("Unknown identifier."),
    Note: _("Unknown note."),
    Document: _("Unknown document."),
    MLARequest: _("Unknown MLA request."),
}


def _on_case(
    actor: Actor,
    obj: Any,
    field: str,
    case: Case,
    errors: _Errors,
    seen: Callable[[Actor, Model], bool] = access.is_visible,
) -> Any:
    """`obj` if the actor sees it and it is on `case`; None (and the field's
    error) otherwise. One the actor may not see is unknown, as a missing one.
    `seen` answers "does the actor see it" (a bulk caller passes the answer
    it already read through the gate)."""
    if obj is None:
        return None
    model = type(obj)
    if not isinstance(obj, tuple(_UNKNOWN)) or not seen(actor, obj):
        errors.add(field, _UNKNOWN.get(model, _("Unknown object.")))
        return None
    if obj.case_id != case.pk:
        errors.add(field, _("It must be on the same case."))
        return None
    return obj


def _holding_agency(value: Any, errors: _Errors) -> Agency | None:
    if value is None:
        return None
    if not isinstance(value, Agency) or value.pk is None or not value.active:
        errors.add("holding_agency", _("Unknown agency."))
        return None
    return value


def _locked(model: type[_R], obj: _R, expected_version: int | None) -> _R:
    """Re-read `obj` under a row lock; refuse if the caller's copy is stale."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if expected_version is not None and locked.version != expected_version:
        raise PreconditionFailed()
    return locked


def _touch(obj: Entity | Link | Transaction | Asset) -> None:
    obj.version += 1
    obj.updated_at = timezone.now()


def _audit_update(before: dict[str, Any], obj: Model, fields: Iterable[str], changed) -> dict:
    diff = audit.changes_between(before, audit.snapshot(obj, fields))
    diff.update({f: "[changed]" for f in _CONTENT_FIELDS & set(changed)})
    return diff


def _record_delete(actor: Actor, obj: Model, fields: Iterable[str]) -> None:
    audit.record(
        action=AuditAction.DELETE,
        obj=obj,
        actor=actor,
        changes={f: {"before": v, "after": None} for f, v in audit.snapshot(obj, fields).items()},
    )


def _set_handling(obj: Any, values: dict[str, Any]) -> None:
    for field in HANDLING_FIELDS:
        if field in values:
            setattr(obj, field, values[field] if values[field] is not None else "")


def _finish(obj: HandlingMixin, errors: _Errors, exclude: Iterable[str] = ()) -> None:
    """Raise the gathered errors, then the model's own (choices, lengths)."""
    errors.raise_any()
    _full_clean(obj, exclude=exclude)
    _validate_handling(obj)


# --- entities -----------------------------------------------------------------


def _apply_entity(actor: Actor, entity: Entity, values: dict[str, Any], errors: _Errors) -> None:
    """Set and check `values` on `entity` (its kind already set)."""
    if "name" in values:
        entity.name = _text(
            values["name"], "name", errors, max_length=NAME_MAX_LENGTH, required=True
        )
    if "aliases" in values:
        entity.aliases = _aliases(values["aliases"], errors)
    if "description" in values:
        entity.description = _text(
            values["description"], "description", errors, max_length=10000, required=False
        )
    if "role" in values:
        entity.role = values["role"] or ""
    if "nationality" in values:
        entity.nationality = _country(values["nationality"], "nationality", errors)
    if "country" in values:
        entity.country = _country(values["country"], "country", errors)
    if "date_of_birth" in values:
        entity.date_of_birth = None
        if not _empty(values["date_of_birth"]):
            try:
                entity.date_of_birth = parse_date_of_birth(values["date_of_birth"])
            except ValidationFailed as exc:
                for message in exc.errors.get("date_of_birth", []):
                    errors.add("date_of_birth", message)
    if "registration_number" in values:
        entity.registration_number = _text(
            values["registration_number"],
            "registration_number",
            errors,
            max_length=40,
            required=False,
        )
    if "address" in values:
        entity.address = _text(values["address"], "address", errors, max_length=500, required=False)
    if "parent" in values:
        entity.parent = _parent(actor, entity, values["parent"], errors)
    for field, bound in (("latitude", 90), ("longitude", 180)):
        if field in values:
            number = None
            if not _empty(values[field]):
                number = _coordinate(values[field], field, bound, errors)
            setattr(entity, field, number)
    _set_handling(entity, values)
    if (entity.latitude is None) != (entity.longitude is None):
        errors.add(
            "longitude" if entity.longitude is None else "latitude",
            _("Give both the latitude and the longitude, or neither."),
        )
    own = KIND_FIELDS.get(entity.kind, ())
    for field in {f for fields in KIND_FIELDS.values() for f in fields} - set(own):
        if not _empty(getattr(entity, field)):
            errors.add(
                field,
                _("This does not apply to a %(kind)s.")
                % {"kind": EntityKind(entity.kind).label.lower()},
            )


def _coordinate(value: Any, field: str, bound: int, errors: _Errors) -> Decimal | None:
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not -bound <= number <= bound:
        errors.add(field, _("Give degrees between -%(n)d and %(n)d.") % {"n": bound})
        return None
    return number.quantize(Decimal("0.000001"))


def _parent(actor: Actor, entity: Entity, parent: Any, errors: _Errors) -> Entity | None:
    """A parent organisation: an organisation the actor sees on the same case,
    not the entity itself nor one of its own subsidiaries."""
    parent = _on_case(actor, parent, "parent", entity.case, errors)
    if parent is None:
        return None
    if parent.kind != EntityKind.ORGANISATION:
        errors.add("parent", _("The parent must be an organisation."))
        return None
    ancestor: Entity | None = parent
    seen: set[int] = set()
    while ancestor is not None and ancestor.pk not in seen:
        if entity.pk is not None and ancestor.pk == entity.pk:
            errors.add("parent", _("An organisation cannot be its own parent or subsidiary."))
            return None
        seen.add(ancestor.pk)
        ancestor = ancestor.parent
    return parent


@transaction.atomic
def create_entity(*, actor: Actor, case: Case, kind: str, name: str, **fields: Any) -> Entity:
    """Record a person, an organisation or a place on `case`.

    `fields`: any of `ENTITY_FIELDS`. A victim is TLP:RED unless a handling
    code is given (see the module's docstring).
    """
    access.require(actor, "contribute", case)
    _refuse_unknown(fields, ENTITY_FIELDS, _("This field cannot be set here."))
    if kind not in EntityKind.values:
        raise ValidationFailed({"kind": [_("Unknown kind of entity.")]})
    entity = Entity(case=case, kind=kind, agency=_agency_of_member(actor), created_by=actor)
    errors = _Errors()
    _apply_entity(actor, entity, {"name": name, **fields}, errors)
    if entity.role == PersonRole.VICTIM and "handling_code" not in fields:
        entity.handling_code = HandlingCode.RED
    _finish(entity, errors)
    entity.save()
    audit.record(
        action=AuditAction.CREATE,
        obj=entity,
        actor=actor,
        changes=audit.created(entity, ENTITY_AUDIT_FIELDS),
    )
    return entity


def _update(
    actor: Actor,
    obj: _R,
    expected_version: int | None,
    changes: dict[str, Any],
    *,
    changeable: Iterable[str],
    audited: Iterable[str],
    apply: Callable[[Actor, Any, dict[str, Any], _Errors], None],
    exclude: Iterable[str] = (),
) -> _R:
    """The one shape of every update here: a field that cannot change is a
    400 (to a reader of the row; else the 404 of `require`), the row is
    locked at the version the writer read, every bad field is reported at
    once and nothing is saved then, and the change is audited."""
    if set(changes) - set(changeable):
        access.require(actor, "view", obj)
        _refuse_unknown(changes, changeable, _("This field cannot be changed here."))
    access.require(actor, "edit", obj)
    obj = _locked(type(obj), obj, expected_version)
    before = audit.snapshot(obj, audited)
    errors = _Errors()
    apply(actor, obj, changes, errors)
    _finish(obj, errors, exclude=exclude)
    _touch(obj)
    obj.save()
    audit.record(
        action=AuditAction.UPDATE,
        obj=obj,
        actor=actor,
        changes=_audit_update(before, obj, audited, changes),
    )
    return obj


@transaction.atomic
def update_entity(
    *, actor: Actor, entity: Entity, expected_version: int | None = None, **changes: Any
) -> Entity:
    """Change what the recording agency wrote of an entity (its kind stays).

    Re-cast as a victim without a handling code in the same call, it becomes
    TLP:RED."""

    def apply(actor: Actor, entity: Entity, values: dict[str, Any], errors: _Errors) -> None:
        was_victim = entity.role == PersonRole.VICTIM  # the locked row's
        _apply_entity(actor, entity, values, errors)
        if entity.role == PersonRole.VICTIM and not was_victim and "handling_code" not in values:
            entity.handling_code = HandlingCode.RED

    return _update(
        actor,
        entity,
        expected_version,
        changes,
        changeable=ENTITY_CHANGEABLE,
        audited=ENTITY_AUDIT_FIELDS,
        apply=apply,
    )


@transaction.atomic
def delete_entity(*, actor: Actor, entity: Entity, expected_version: int | None = None) -> None:
    """Delete an entity nothing names any more (no link, no subsidiary).

    The refusal does not say what names it: that may be a link the actor
    may not see."""
    access.require(actor, "edit", entity)
    entity = _locked(Entity, entity, expected_version)
    named = (
        Link.objects.filter(Q(from_entity=entity) | Q(to_entity=entity)).exists()
        or Entity.objects.filter(parent=entity).exists()
    )
    if named:
        raise Conflict(
            _("Links or subsidiaries name this entity: it cannot be deleted while they do.")
        )
    _record_delete(actor, entity, ENTITY_AUDIT_FIELDS)
    entity.delete()


# --- links --------------------------------------------------------------------


def _apply_link(actor: Actor, link: Link, values: dict[str, Any], errors: _Errors) -> None:
    case = link.case
    if "kind" in values:
        link.kind = values["kind"]
    for end in ("from", "to"):
        entity_field, identifier_field = f"{end}_entity", f"{end}_identifier"
        if entity_field not in values and identifier_field not in values:
            continue
        entity, identifier = values.get(entity_field), values.get(identifier_field)
        if (entity is None) == (identifier is None):
            errors.add(entity_field, _("Give one entity or one identifier for this end."))
            continue
        setattr(link, entity_field, _on_case(actor, entity, entity_field, case, errors))
        setattr(link, identifier_field, _on_case(actor, identifier, identifier_field, case, errors))
    if (link.from_entity_id and link.from_entity_id == link.to_entity_id) or (
        link.from_identifier_id and link.from_identifier_id == link.to_identifier_id
    ):
        errors.add(
            "to_entity" if link.to_entity_id else "to_identifier",
            _("A link joins two different nodes."),
        )
    if "source_note" in values:
        link.source_note = _on_case(actor, values["source_note"], "source_note", case, errors)
    if "source_document" in values:
        link.source_document = _on_case(
            actor, values["source_document"], "source_document", case, errors
        )
    if link.source_note_id and link.source_document_id:
        errors.add("source_document", _("Give a note or a document as the source, not both."))
    for field in ("source_reliability", "information_accuracy"):
        if field in values:
            setattr(link, field, values[field])
    if "description" in values:
        link.description = _text(
            values["description"], "description", errors, max_length=10000, required=False
        )
    _set_handling(link, values)


@transaction.atomic
def create_link(*, actor: Actor, case: Case, kind: str, **fields: Any) -> Link:
    """Record how two nodes of `case`'s network relate (`LINK_FIELDS`): each
    end an entity or an identifier the actor sees on the case."""
    access.require(actor, "contribute", case)
    _refuse_unknown(fields, LINK_FIELDS, _("This field cannot be set here."))
    link = Link(case=case, agency=_agency_of_member(actor), created_by=actor)
    errors = _Errors()
    values = {"kind": kind, **{end: None for end in LINK_ENDS}, **fields}
    _apply_link(actor, link, values, errors)
    _finish(link, errors)
    link.save()
    audit.record(
        action=AuditAction.CREATE,
        obj=link,
        actor=actor,
        changes=audit.created(link, LINK_AUDIT_FIELDS),
    )
    return link


@transaction.atomic
def update_link(
    *, actor: Actor, link: Link, expected_version: int | None = None, **changes: Any
) -> Link:
    """Change what a link says (kind, source, grading, handling); its ends stay."""
    return _update(
        actor,
        link,
        expected_version,
        changes,
        changeable=LINK_CHANGEABLE,
        audited=LINK_AUDIT_FIELDS,
        apply=_apply_link,
    )


@transaction.atomic
def delete_link(*, actor: Actor, link: Link, expected_version: int | None = None) -> None:
    access.require(actor, "edit", link)
    link = _locked(Link, link, expected_version)
    _record_delete(actor, link, LINK_AUDIT_FIELDS)
    link.delete()


# --- transactions ---------------------------------------------------------------


def _money_end(
    actor: Actor,
    value: Any,
    field: str,
    case: Case,
    errors: _Errors,
    seen: Callable[[Actor, Model], bool] = access.is_visible,
):
    identifier = _on_case(actor, value, field, case, errors, seen)
    if identifier is not None and identifier.kind not in MONEY_IDENTIFIER_KINDS:
        errors.add(
            field, _("Money moves between accounts, wallets and phone numbers (mobile money).")
        )
        return None
    return identifier


def _occurred_at(value: Any, errors: _Errors) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        errors.add("occurred_at", _("Give a date and time."))
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + dt.timedelta(minutes=5):
        errors.add("occurred_at", _("This time is in the future."))
        return None
    return value


#: Foreign keys a bulk caller has checked through the gate (the ends, by
#: `seen`) or set itself (case, agency, author).
_BULK_CHECKED_KEYS = ("case", "agency", "created_by", "from_identifier", "to_identifier")


def check_transaction(
    *,
    actor: Actor,
    case: Case,
    agency: Agency,
    from_identifier: Identifier | None,
    to_identifier: Identifier | None,
    amount: Any,
    currency: str,
    occurred_at: dt.datetime | None,
    seen: Callable[[Actor, Model], bool] = access.is_visible,
    bulk: bool = False,
    **fields: Any,
) -> Transaction:
    """The transaction `record_transaction` would save, unsaved, or every
    field error at once (ValidationFailed): the one set of rules for a
    transaction typed in a form, sent to the API or read from a CSV file
    (`cases.transaction_import`). The caller has checked that the actor
    contributes to `case`.

    `bulk`: Django's model validation does not query the database again for
    what the rules above already ensure (each foreign key exists; the
    amount is above zero and the ends differ, the table's CHECK
    constraints, which PostgreSQL enforces on insert anyway): three
    queries a row, the whole cost of a file of 100,000 rows."""
    _refuse_unknown(fields, TRANSACTION_FIELDS, _("This field cannot be set here."))
    errors = _Errors()
    sender = _money_end(actor, from_identifier, "from_identifier", case, errors, seen)
    recipient = _money_end(actor, to_identifier, "to_identifier", case, errors, seen)
    if sender is not None and recipient is not None and sender.pk == recipient.pk:
        errors.add("to_identifier", _("Money moves between two different identifiers."))
    number = _decimal(amount, "amount", errors, positive=True)
    try:
        code = normalise_currency(currency)
    except ValidationFailed as exc:
        code = ""
        for message in exc.errors["currency"]:
            errors.add("currency", message)
    when = _occurred_at(occurred_at, errors)
    record = Transaction(case=case, agency=agency, created_by=actor, currency=code)
    if when is not None:
        record.occurred_at = when
    if number is not None:
        record.amount = number
    if sender is not None and recipient is not None:
        record.from_identifier, record.to_identifier = sender, recipient
        record.from_hash, record.to_hash = sender.value_hash, recipient.value_hash
    _apply_transaction(actor, record, fields, errors)
    if not bulk:
        _finish(record, errors, exclude=["from_hash", "to_hash"])
        return record
    errors.raise_any()
    try:
        record.full_clean(
            exclude=["from_hash", "to_hash", *_BULK_CHECKED_KEYS],
            validate_unique=False,
            validate_constraints=False,
        )
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc
    _validate_handling(record)
    return record


@transaction.atomic
def record_transaction(
    *,
    actor: Actor,
    case: Case,
    from_identifier: Identifier,
    to_identifier: Identifier,
    amount: Any,
    currency: str,
    occurred_at: dt.datetime,
    **fields: Any,
) -> Transaction:
    """Record money moving from one identifier of `case` to another
    (`TRANSACTION_FIELDS`: the amount above zero, in a currency or token)."""
    access.require(actor, "contribute", case)
    record = check_transaction(
        actor=actor,
        case=case,
        agency=_agency_of_member(actor),
        from_identifier=from_identifier,
        to_identifier=to_identifier,
        amount=amount,
        currency=currency,
        occurred_at=occurred_at,
        **fields,
    )
    record.save()
    audit.record(
        action=AuditAction.CREATE,
        obj=record,
        actor=actor,
        changes=audit.created(record, TRANSACTION_AUDIT_FIELDS),
    )
    return record


def _apply_transaction(
    actor: Actor, record: Transaction, values: dict[str, Any], errors: _Errors
) -> None:
    if "reference" in values:
        record.reference = _text(
            values["reference"], "reference", errors, max_length=200, required=False
        )
    if "source_document" in values:
        record.source_document = _on_case(
            actor, values["source_document"], "source_document", record.case, errors
        )
    if "description" in values:
        record.description = _text(
            values["description"], "description", errors, max_length=10000, required=False
        )
    _set_handling(record, values)


@transaction.atomic
def update_transaction(
    *, actor: Actor, record: Transaction, expected_version: int | None = None, **changes: Any
) -> Transaction:
    """Change a transaction's reference, source, description or handling."""
    return _update(
        actor,
        record,
        expected_version,
        changes,
        changeable=TRANSACTION_CHANGEABLE,
        audited=TRANSACTION_AUDIT_FIELDS,
        apply=_apply_transaction,
        exclude=["from_hash", "to_hash"],
    )


@transaction.atomic
def delete_transaction(
    *, actor: Actor, record: Transaction, expected_version: int | None = None
) -> None:
    access.require(actor, "edit", record)
    record = _locked(Transaction, record, expected_version)
    _record_delete(actor, record, TRANSACTION_AUDIT_FIELDS)
    record.delete()


# --- assets ---------------------------------------------------------------------


def _apply_asset(actor: Actor, asset: Asset, values: dict[str, Any], errors: _Errors) -> None:
    case = asset.case
    if "kind" in values:
        asset.kind = values["kind"]
    if "description" in values:
        asset.description = _text(
            values["description"], "description", errors, max_length=10000, required=True
        )
    if "value" in values:
        number = _decimal(values["value"], "value", errors, positive=False)
        if number is not None:
            asset.value = number
    if "currency" in values:
        try:
            asset.currency = normalise_currency(values["currency"])
        except ValidationFailed as exc:
            for message in exc.errors["currency"]:
                errors.add("currency", message)
    if "holding_agency" in values:
        asset.holding_agency = _holding_agency(values["holding_agency"], errors)
    if "legal_basis" in values:
        asset.legal_basis = _text(
            values["legal_basis"], "legal_basis", errors, max_length=300, required=False
        )
    if "identifier" in values:
        asset.identifier = _on_case(actor, values["identifier"], "identifier", case, errors)
    if "mla_request" in values:
        asset.mla_request = _mla_request(actor, values["mla_request"], case, errors)
    _set_handling(asset, values)


def _mla_request(actor: Actor, request: Any, case: Case, errors: _Errors) -> MLARequest | None:
    """An MLA request the actor is a party to, made for this case."""
    if request is None:
        return None
    if not isinstance(request, MLARequest) or not access.is_visible(actor, request):
        errors.add("mla_request", _("Unknown MLA request."))
        return None
    if request.case_id != case.pk:
        errors.add("mla_request", _("It must be on the same case."))
        return None
    return request


def _state_date(value: Any, agency: Agency, errors: _Errors, *, after: dt.date | None) -> Any:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        errors.add("state_on", _("Give a date."))
        return None
    if value > _agency_today(agency):
        errors.add("state_on", _("This date is in the future."))
        return None
    if after is not None and value < after:
        errors.add("state_on", _("The date cannot be before the current state's date."))
        return None
    return value


@transaction.atomic
def record_asset(
    *,
    actor: Actor,
    case: Case,
    kind: str,
    description: str,
    value: Any,
    currency: str,
    state: str,
    state_on: dt.date,
    note: str = "",
    **fields: Any,
) -> Asset:
    """Record an asset frozen, seized, confiscated or returned on `case`
    (`ASSET_FIELDS`), with the first step of its history (`note` on it)."""
    access.require(actor, "contribute", case)
    _refuse_unknown(fields, ASSET_FIELDS, _("This field cannot be set here."))
    agency = _agency_of_member(actor)
    asset = Asset(case=case, agency=agency, created_by=actor, state=state)
    errors = _Errors()
    _apply_asset(
        actor,
        asset,
        {"kind": kind, "description": description, "value": value, "currency": currency, **fields},
        errors,
    )
    asset.state_on = _state_date(state_on, agency, errors, after=None)
    note = _text(note, "note", errors, max_length=NOTE_MAX_LENGTH, required=False)
    _finish(asset, errors)
    asset.save()
    AssetStateChange.objects.create(
        asset=asset,
        case=case,
        state=asset.state,
        on=asset.state_on,
        note=note,
        agency=agency,
        user=actor,
    )
    audit.record(
        action=AuditAction.CREATE,
        obj=asset,
        actor=actor,
        changes=audit.created(asset, ASSET_AUDIT_FIELDS),
    )
    emit(EventType.ASSET_RECORDED, obj=asset, actor=actor, case=case.public_id, status=asset.state)
    return asset


@transaction.atomic
def update_asset(
    *, actor: Actor, asset: Asset, expected_version: int | None = None, **changes: Any
) -> Asset:
    """Change what is known of an asset; its state moves with `change_asset_state`."""
    return _update(
        actor,
        asset,
        expected_version,
        changes,
        changeable=ASSET_CHANGEABLE,
        audited=ASSET_AUDIT_FIELDS,
        apply=_apply_asset,
    )


def allowed_asset_states(asset: Asset) -> tuple[str, ...]:
    """The states `asset` may move to from its current one."""
    return ASSET_TRANSITIONS.get(asset.state, ())


@transaction.atomic
def change_asset_state(
    *,
    actor: Actor,
    asset: Asset,
    state: str,
    on: dt.date,
    note: str = "",
    expected_version: int | None = None,
) -> Asset:
    """Move an asset on (frozen → seized → confiscated → returned, or a step
    skipped), from a date no earlier than its current state's: one more step
    of its history. The recording agency or the agency holding it."""
    access.require(actor, "change_state", asset)
    if state not in AssetState.values:
        raise ValidationFailed({"state": [_("Unknown state.")]})
    asset = _locked(Asset, asset, expected_version)
    agency = _agency_of_member(actor)
    errors = _Errors()
    day = _state_date(on, agency, errors, after=asset.state_on)
    if errors.errors:
        # The form's field is `on` here; `state_on` on the asset itself.
        raise ValidationFailed({"on": errors.errors.pop("state_on")})
    note = _text(note, "note", errors, max_length=NOTE_MAX_LENGTH, required=False)
    errors.raise_any()
    if state not in allowed_asset_states(asset):
        raise Conflict(
            _("An asset cannot go from %(a)s to %(b)s.")
            % {"a": AssetState(asset.state).label, "b": AssetState(state).label},
            field="state",
        )
    before = audit.snapshot(asset, ("state", "state_on"))
    asset.state, asset.state_on = state, day
    _touch(asset)
    asset.save(update_fields=["state", "state_on", "version", "updated_at"])
    AssetStateChange.objects.create(
        asset=asset,
        case_id=asset.case_id,
        state=state,
        on=day,
        note=note,
        agency=agency,
        user=actor,
    )
    audit.record(
        action=AuditAction.TRANSITION,
        obj=asset,
        actor=actor,
        changes=audit.changes_between(before, audit.snapshot(asset, ("state", "state_on"))),
    )
    # Not who moved it: the holding agency may be one a reader may not learn of.
    emit(
        EventType.ASSET_STATE_CHANGED,
        obj=asset,
        actor=actor,
        case=asset.case.public_id,
        status=state,
    )
    return asset


@transaction.atomic
def delete_asset(*, actor: Actor, asset: Asset, expected_version: int | None = None) -> None:
    """Delete an asset recorded by mistake, with its history."""
    access.require(actor, "edit", asset)
    asset = _locked(Asset, asset, expected_version)
    _record_delete(actor, asset, ASSET_AUDIT_FIELDS)
    asset.delete()
