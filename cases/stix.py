"""STIX 2.1 export of a case's identifiers, for the agency's own MISP or OpenCTI.

Standard cyber observables where STIX has them (email-addr, domain-name,
url, ipv4-addr/ipv6-addr, user-account, identity); custom observables named
as OpenCTI names them where it has none (cryptocurrency-wallet,
phone-number, bank-account), and for the rest. Identifiers with a standard
STIX pattern also get an indicator "based-on" their observable.

Only what the user may see goes out (`access.visible_identifiers`), each
object marked with its TLP colour. The stix2 library knows TLP 1.0 only:
CLEAR is exported as WHITE, AMBER+STRICT as AMBER, and the exact TLP 2.0
code travels in `x_casebridge_handling` beside it.
"""

from __future__ import annotations

import datetime as dt

import stix2
from stix2 import CustomObservable, properties

from . import access
from .choices import HandlingCode, IdentifierKind
from .models import Case, Identifier

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


def export_case_stix(*, actor, case: Case) -> str:
    """A STIX 2.1 bundle (JSON) of the identifiers of `case` this user may see."""
    access.require(actor, "view", case)
    identifiers = (
        access.visible_identifiers(actor)
        .filter(case=case)
        .select_related("agency")
        .order_by("created_at", "id")
    )
    objects: list = []
    for identifier in identifiers:
        marking = TLP[identifier.handling_code]
        common = {
            "object_marking_refs": [marking],
            "allow_custom": True,
            "x_casebridge_handling": identifier.handling_code,
        }
        observable, pattern = _observable(identifier, common)
        objects.append(observable)
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
                stix2.Relationship(
                    indicator, "based-on", observable, object_marking_refs=[marking]
                ),
            ]
    used = {id(TLP[code]): TLP[code] for code in {i.handling_code for i in identifiers}}
    bundle = stix2.Bundle(*used.values(), *objects, allow_custom=True)
    return bundle.serialize(pretty=True)
