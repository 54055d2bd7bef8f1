"""STIX 2.1 export of a case's identifiers and network, for the agency's own
MISP or OpenCTI.

Standard cyber observables where STIX has them (email-addr, domain-name,
url, ipv4-addr/ipv6-addr, user-account, identity); custom observables named
as OpenCTI names them where it has none (cryptocurrency-wallet,
phone-number, bank-account), and for the rest. Identifiers with a standard
STIX pattern also get an indicator "based-on" their observable.

The network (`cases.network_export.case_network`, read through the gate)
goes out as STIX domain objects and relationships:

* a person is an `identity` (class `individual`), or a `threat-actor`
  (type `criminal`) when the case holds them as a suspect: STIX's
  threat-actor says "acts with malicious intent", which a facilitator (often
  a mule, deceived or trafficked), a victim or a witness is not established
  to do; the role travels in `x_casebridge_role` either way;
* an organisation is an `identity` of class `organization`; its parent, when
  the reader sees it, a `subsidiary-of` relationship;
* a place is a `location` (name, address, country, coordinates). STIX
  requires a location to have a region, a country or coordinates; a place
  known only by its name is an `x-casebridge-place` instead of a location
  with an invented country;
* a link is a `relationship` between the two objects (observables are valid
  ends in 2.1), its kind in STIX's vocabulary where it has the word
  (`located-at`, `uses`, `related-to`), hyphenated otherwise, the exact kind
  and the 4x4 grading in `x_casebridge_*`;
* a transaction is a `relationship` `transferred-to` from the sender's
  account or wallet to the recipient's, its time in `start_time`, the
  amount, currency and reference in `x_casebridge_amount`, `…_currency`,
  `…_reference`. Why a relationship and not a custom object: every STIX
  consumer draws a relationship as an edge between the two accounts, which
  is what following the money needs; a custom SDO would be dropped or shown
  as an unconnected node by tools that do not know it. The amount is a
  string: JSON numbers are floats to most readers, and 18 decimals of a
  token would be rounded.

Domain objects and relationships take their Casebridge public id as their
STIX id, so a re-import updates them instead of doubling them.

Only what the user may see goes out (`access.visible_identifiers` and the
network's selectors): a victim another agency keeps TLP:RED, and every link
or transaction with it at one end, is absent. Each object is marked with its
TLP colour. The stix2 library knows TLP 1.0 only:
CLEAR is exported as WHITE, AMBER+STRICT as AMBER, and the exact TLP 2.0
code travels in `x_casebridge_handling` beside it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import stix2
from stix2 import CustomObject, CustomObservable, properties

from agencies.actors import Actor

from .choices import EntityKind, HandlingCode, IdentifierKind, PersonRole
from .models import Case, Entity, Identifier, Link, Transaction
from .network_export import CaseNetwork, audit_export, case_network

TLP = {
    HandlingCode.CLEAR: stix2.TLP_WHITE,
    HandlingCode.GREEN: stix2.TLP_GREEN,
    HandlingCode.AMBER: stix2.TLP_AMBER,
    HandlingCode.AMBER_STRICT: stix2.TLP_AMBER,
    HandlingCode.RED: stix2.TLP_RED,
}


@CustomObservable(
    "cryptocurrency-wallet",
    [("value", properties.StringProperty(required=True)), ("chain", properties.StringProperty())],
    id_contrib_props=["value"],
)
class CryptocurrencyWallet:
    pass


@CustomObservable(
    "cryptocurrency-transaction",
    [("value", properties.StringProperty(required=True)), ("chain", properties.StringProperty())],
    id_contrib_props=["value"],
)
class CryptocurrencyTransaction:
    pass


@CustomObservable(
    "phone-number",
    [("value", properties.StringProperty(required=True))],
    id_contrib_props=["value"],
)
class PhoneNumber:
    pass


@CustomObservable(
    "bank-account",
    [
        ("iban", properties.StringProperty()),
        ("account_number", properties.StringProperty()),
        ("bank_code", properties.StringProperty()),
        ("country", properties.StringProperty()),
    ],
    id_contrib_props=["iban", "account_number", "bank_code", "country"],
)
class BankAccount:
    pass


@CustomObservable(
    "identity-document",
    [
        ("value", properties.StringProperty(required=True)),
        ("issuing_country", properties.StringProperty()),
    ],
    id_contrib_props=["value", "issuing_country"],
)
class IdentityDocument:
    pass


@CustomObject(
    "x-casebridge-place",
    [
        ("name", properties.StringProperty(required=True)),
        ("street_address", properties.StringProperty()),
        ("description", properties.StringProperty()),
    ],
)
class Place:
    """A place known only by its name (a compound whose country is not yet
    recorded): STIX's location needs a region, a country or coordinates."""


#: Link kinds in STIX's relationship vocabulary where it has the word.
RELATIONSHIP_TYPES = {
    "uses_phone": "uses",
    "located_at": "located-at",
    "associated_with": "related-to",
}


def _parts(identifier: Identifier) -> list[str]:
    return identifier.normalised_value.split("\x1f")


def _observable(identifier: Identifier, common: dict):
    """The STIX object for one identifier, and its pattern if STIX has one."""
    kind, value = identifier.kind, identifier.normalised_value
    match kind:
        case IdentifierKind.EMAIL:
            return stix2.EmailAddress(value=value, **common), f"[email-addr:value = '{value}']"
        case IdentifierKind.DOMAIN:
            return stix2.DomainName(value=value, **common), f"[domain-name:value = '{value}']"
        case IdentifierKind.URL:
            escaped = value.replace("\\", "\\\\").replace("'", "\\'")
            return stix2.URL(value=value, **common), f"[url:value = '{escaped}']"
        case IdentifierKind.IP_ADDRESS:
            if ":" in value:
                return stix2.IPv6Address(value=value, **common), f"[ipv6-addr:value = '{value}']"
            return stix2.IPv4Address(value=value, **common), f"[ipv4-addr:value = '{value}']"
        case IdentifierKind.CRYPTO_WALLET:
            return CryptocurrencyWallet(
                value=identifier.raw_value, chain=identifier.chain, **common
            ), None
        case IdentifierKind.CRYPTO_TX:
            return CryptocurrencyTransaction(
                value=_parts(identifier)[-1], chain=identifier.chain, **common
            ), None
        case IdentifierKind.PHONE:
            return PhoneNumber(value=value, **common), None
        case IdentifierKind.IBAN:
            return BankAccount(iban=value, **common), None
        case IdentifierKind.BANK_ACCOUNT:
            country, bank_code, account = _parts(identifier)
            return BankAccount(
                account_number=account, bank_code=bank_code, country=country, **common
            ), None
        case IdentifierKind.SOCIAL_HANDLE:
            platform, handle = _parts(identifier)
            return stix2.UserAccount(account_login=handle, account_type=platform, **common), None
        case IdentifierKind.PASSPORT:
            country, number = _parts(identifier)
            return IdentityDocument(value=number, issuing_country=country, **common), None
        case IdentifierKind.PERSON:
            return stix2.Identity(
                name=identifier.raw_value,
                identity_class="individual",
                x_casebridge_date_of_birth=identifier.date_of_birth.isoformat(),
                x_casebridge_nationality=identifier.country,
                **common,
            ), None
        case IdentifierKind.COMPANY:
            return stix2.Identity(
                name=identifier.raw_value,
                identity_class="organization",
                x_casebridge_registration_number=identifier.registration_number,
                **common,
            ), None
    raise AssertionError(kind)  # pragma: no cover


def _stamp(obj: Any) -> dict[str, Any]:
    created = obj.created_at.astimezone(dt.UTC)
    return {"created": created, "modified": max(created, obj.updated_at.astimezone(dt.UTC))}


def _common(obj: Any) -> dict[str, Any]:
    return {
        "object_marking_refs": [TLP[obj.handling_code]],
        "allow_custom": True,
        "x_casebridge_handling": obj.handling_code,
        "x_casebridge_agency": obj.agency.code,
    }


def _entity(entity: Entity) -> Any:
    """The STIX domain object of an entity (see the module's docstring)."""
    common = {**_common(entity), **_stamp(entity)}
    if entity.description:
        common["description"] = entity.description
    if entity.kind == EntityKind.PERSON:
        person = {
            "name": entity.name,
            "x_casebridge_role": entity.role or None,
            "x_casebridge_nationality": entity.nationality or None,
            "x_casebridge_date_of_birth": entity.date_of_birth.isoformat()
            if entity.date_of_birth
            else None,
        }
        person = {k: v for k, v in person.items() if v is not None}
        if entity.role == PersonRole.SUSPECT:
            return stix2.ThreatActor(
                id=f"threat-actor--{entity.public_id}",
                threat_actor_types=["criminal"],
                aliases=entity.aliases or None,
                **person,
                **common,
            )
        return stix2.Identity(
            id=f"identity--{entity.public_id}",
            identity_class="individual",
            x_casebridge_aliases=entity.aliases or None,
            **person,
            **common,
        )
    if entity.kind == EntityKind.ORGANISATION:
        extra = {
            "x_casebridge_registration_number": entity.registration_number or None,
            "x_casebridge_country": entity.country or None,
            "x_casebridge_aliases": entity.aliases or None,
        }
        return stix2.Identity(
            id=f"identity--{entity.public_id}",
            name=entity.name,
            identity_class="organization",
            **{k: v for k, v in extra.items() if v is not None},
            **common,
        )
    place: dict[str, Any] = {"name": entity.name}
    if entity.address:
        place["street_address"] = entity.address
    if entity.country or entity.latitude is not None:
        if entity.country:
            place["country"] = entity.country
        if entity.latitude is not None and entity.longitude is not None:
            place["latitude"], place["longitude"] = float(entity.latitude), float(entity.longitude)
        return stix2.Location(id=f"location--{entity.public_id}", **place, **common)
    return Place(id=f"x-casebridge-place--{entity.public_id}", **place, **common)


def _link(link: Link, ends: dict[tuple[str, int], str]) -> stix2.Relationship:
    def end(side: str) -> str:
        entity_id = getattr(link, f"{side}_entity_id")
        if entity_id is not None:
            return ends["entity", entity_id]
        return ends["identifier", getattr(link, f"{side}_identifier_id")]

    extra = {
        "x_casebridge_link_kind": link.kind,
        "x_casebridge_source_reliability": link.source_reliability,
        "x_casebridge_information_accuracy": link.information_accuracy,
    }
    if link.description:
        extra["description"] = link.description
    return stix2.Relationship(
        id=f"relationship--{link.public_id}",
        relationship_type=RELATIONSHIP_TYPES.get(link.kind, link.kind.replace("_", "-")),
        source_ref=end("from"),
        target_ref=end("to"),
        **extra,
        **_common(link),
        **_stamp(link),
    )


def _transfer(record: Transaction, ends: dict[tuple[str, int], str]) -> stix2.Relationship:
    extra = {
        "x_casebridge_amount": f"{record.amount.normalize():f}",
        "x_casebridge_currency": record.currency,
    }
    if record.reference:
        extra["x_casebridge_reference"] = record.reference
    if record.description:
        extra["description"] = record.description
    return stix2.Relationship(
        id=f"relationship--{record.public_id}",
        relationship_type="transferred-to",
        source_ref=ends["identifier", record.from_identifier_id],
        target_ref=ends["identifier", record.to_identifier_id],
        start_time=record.occurred_at.astimezone(dt.UTC),
        **extra,
        **_common(record),
        **_stamp(record),
    )


def _identifier_objects(identifier: Identifier) -> list:
    marking = TLP[identifier.handling_code]
    common = {
        "object_marking_refs": [marking],
        "allow_custom": True,
        "x_casebridge_handling": identifier.handling_code,
    }
    observable, pattern = _observable(identifier, common)
    objects = [observable]
    if pattern:
        created = identifier.created_at.astimezone(dt.UTC)
        indicator = stix2.Indicator(
            name=f"{identifier.get_kind_display()}: {identifier.normalised_value}",
            pattern=pattern,
            pattern_type="stix",
            valid_from=created,
            created=created,
            indicator_types=["malicious-activity"],
            object_marking_refs=[marking],
        )
        objects += [
            indicator,
            stix2.Relationship(indicator, "based-on", observable, object_marking_refs=[marking]),
        ]
    return objects


def network_bundle(network: CaseNetwork) -> stix2.Bundle:
    """The STIX 2.1 bundle of one reader's view of a case (see the docstring)."""
    objects: list = []
    ends: dict[tuple[str, int], str] = {}
    for identifier in network.identifiers:
        made = _identifier_objects(identifier)
        ends["identifier", identifier.pk] = made[0].id
        objects += made
    for entity in network.entities:
        made_entity = _entity(entity)
        ends["entity", entity.pk] = made_entity.id
        objects.append(made_entity)
    for entity in network.entities:
        if getattr(entity, "parent_shown", False) and ("entity", entity.parent_id) in ends:
            objects.append(
                stix2.Relationship(
                    id=f"relationship--{uuid.uuid5(entity.public_id, 'parent')}",
                    relationship_type="subsidiary-of",
                    source_ref=ends["entity", entity.pk],
                    target_ref=ends["entity", entity.parent_id],
                    **_common(entity),
                )
            )
    objects += [_link(link, ends) for link in network.links]
    objects += [_transfer(record, ends) for record in network.transactions]
    codes = {
        obj.handling_code
        for group in (network.identifiers, network.entities, network.links, network.transactions)
        for obj in group
    }
    used = {id(TLP[code]): TLP[code] for code in codes}
    return stix2.Bundle(*used.values(), *objects, allow_custom=True)


def export_case_stix(*, actor: Actor, case: Case) -> str:
    """A STIX 2.1 bundle (JSON) of the identifiers and network of `case` this
    user may see (NotFound for a case it may not see); the export is audited."""
    network = case_network(actor=actor, case=case)
    audit_export(actor=actor, network=network, export_format="stix")
    return network_bundle(network).serialize(pretty=True)
