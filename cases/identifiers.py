"""Normalisation of deconfliction identifiers: pure functions, one per kind.

Two agencies record the same phone as "010-1234-5678" and "+82 10 1234 5678";
deconfliction only works if both end up as the same string. Each function
takes what an investigator typed and returns the canonical form, or raises
`ValidationFailed` naming the field that is wrong. Nothing here touches the
database, so the rules can be tested on their own and reused by the CSV
import, the API and the admin alike.

Policies worth knowing (each a deliberate choice):

* E-mail: the whole address is lower-cased (case-folded). RFC 5321 lets a
  mail server treat the local part case-sensitively, but no provider that
  matters does, and a miss is worse than a false match, which the contacted
  agency resolves. Dots and ``+tags`` are kept: ignoring them is one
  provider's rule (Gmail), not a general one.
* Wallets: Ethereum-family addresses are validated against EIP-55 when
  written in mixed case and matched lower-case, whatever the EVM chain
  (one key controls the same address on every EVM chain). Bitcoin base58
  addresses are case-sensitive; bech32/bech32m ones are matched lower-case.
* Person and company names: Unicode NFKC, case-folded, whitespace collapsed
  (zero-width spaces, common in Khmer text, count as spaces); no
  transliteration, so "김민준" and "Kim Min-jun" are different names.
* Phone: E.164; numbers written without a country code are read in the
  region given, else in the recording agency's country.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import base58
import bech32
import idna
import phonenumbers
import pycountry
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _
from eth_utils import is_checksum_address, is_hex_address
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from gate.errors import ValidationFailed

from .choices import EVM_CHAINS, Chain, IdentifierKind

# Parts of a normalised value are joined with the ASCII unit separator,
# which no normalised part can contain.
SEP = "\x1f"
MAX_VALUE_LENGTH = 500
# TextChoices.values rebuilds its list (with lazy labels) on every access.
_KINDS = frozenset(IdentifierKind.values)
_CHAINS = frozenset(Chain.values)


def _fail(field: str, message) -> ValidationFailed:
    return ValidationFailed({field: [message]})


def _text(value, field: str = "value") -> str:
    if not isinstance(value, str):
        raise _fail(field, _("Expected text."))
    value = value.strip()
    if not value:
        raise _fail(field, _("This field is required."))
    if len(value) > MAX_VALUE_LENGTH:
        raise _fail(field, _("Too long (at most %(n)d characters).") % {"n": MAX_VALUE_LENGTH})
    return value


# --- names, countries -------------------------------------------------------

_INVISIBLE_SPACES = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u180e"), " ")


def normalise_name(value: str, field: str = "value") -> str:
    """NFKC, case-folded, whitespace collapsed; scripts are left as they are.

    NFKC composes Hangul jamo into syllables and folds full-width and
    compatibility forms; zero-width spaces (Khmer word separators) become
    ordinary spaces before whitespace is collapsed.
    """
    text = unicodedata.normalize("NFKC", _text(value, field)).translate(_INVISIBLE_SPACES)
    text = " ".join(text.casefold().split())
    text = unicodedata.normalize("NFKC", text)  # case-folding can denormalise
    if not text:
        raise _fail(field, _("This field is required."))
    return text


def normalise_country(value, field: str = "country") -> str:
    """ISO 3166-1 alpha-2; alpha-3 (as printed in passports) is accepted."""
    code = _text(value, field).upper()
    country = None
    if re.fullmatch(r"[A-Z]{2}", code):
        country = pycountry.countries.get(alpha_2=code)
    elif re.fullmatch(r"[A-Z]{3}", code):
        country = pycountry.countries.get(alpha_3=code)
    if country is None:
        raise _fail(field, _("Unknown country: give an ISO 3166-1 code such as KH or KOR."))
    return country.alpha_2


def parse_date_of_birth(value, field: str = "date_of_birth") -> dt.date:
    if isinstance(value, dt.datetime):
        raise _fail(field, _("Give a date, not a date and time."))
    if isinstance(value, dt.date):
        parsed = value
    else:
        try:
            parsed = dt.date.fromisoformat(_text(value, field))
        except ValueError:
            raise _fail(field, _("Give the date as YYYY-MM-DD.")) from None
    if parsed.year < 1900 or parsed > dt.date.today():  # noqa: DTZ011 (a date of birth)
        raise _fail(field, _("This date of birth is not plausible."))
    return parsed


# --- one function per kind --------------------------------------------------


def normalise_phone(value: str, *, region: str | None = None) -> str:
    """E.164. `region` is the ISO country a number without country code is read in."""
    text = _text(value)
    region = normalise_country(region) if region else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        if region is None and not text.startswith("+"):
            raise _fail(
                "value", _("Give the number with its country code (+…), or give a country.")
            ) from None
        raise _fail("value", _("This is not a phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        raise _fail("value", _("This is not a valid phone number for its country."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_domain(value: str, field: str = "value") -> str:
    """IDNA (UTS #46) ASCII form, lower-case, without the root dot."""
    text = _text(value, field).rstrip(".")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise _fail(field, _("This is not a valid domain name.")) from None
    if "." not in ascii_name or len(ascii_name) > 253:
        raise _fail(field, _("This is not a valid domain name."))
    return ascii_name.lower()


def normalise_url(value: str) -> str:
    """Scheme and host lower-cased (host in IDNA form), default port and
    fragment dropped; path and query kept as written (servers may care)."""
    text = _text(value)
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _fail("value", _("This is not a valid URL.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise _fail("value", _("Only http and https URLs with a host are accepted."))
    try:
        host = str(ipaddress.ip_address(parts.hostname.strip("[]")))
        host = f"[{host}]" if ":" in host else host
    except ValueError:
        host = normalise_domain(parts.hostname)
    if port and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


_email_validator = EmailValidator()


def normalise_email(value: str) -> str:
    """Whole address lower-cased, domain in IDNA form (see module policy)."""
    text = _text(value)
    local, at, domain = text.rpartition("@")
    if not at or not local:
        raise _fail("value", _("This is not an e-mail address."))
    address = f"{unicodedata.normalize('NFKC', local).casefold()}@{normalise_domain(domain)}"
    try:
        _email_validator(address)
    except DjangoValidationError:
        raise _fail("value", _("This is not an e-mail address.")) from None
    return address


def normalise_iban(value: str) -> str:
    """Compact upper-case IBAN, checksum and national format verified (schwifty)."""
    try:
        return IBAN(_text(value)).compact
    except SchwiftyException as exc:
        raise _fail("value", _("This is not a valid IBAN: %(e)s") % {"e": exc}) from None


def _digits(value, field: str) -> str:
    text = unicodedata.normalize("NFKC", _text(value, field))
    if re.search(r"[^\d\s./-]", text):
        raise _fail(field, _("Only digits (and spaces, dots, hyphens) are allowed."))
    digits = re.sub(r"\D", "", text)
    if not 3 <= len(digits) <= 34:
        raise _fail(field, _("Between 3 and 34 digits are expected."))
    return digits


def normalise_bank_account(value: str, *, bank_code: str, country: str) -> str:
    """Country, bank code and account number, digits only."""
    return SEP.join(
        (normalise_country(country), _digits(bank_code, "bank_code"), _digits(value, "value"))
    )


def _evm_address(text: str) -> str:
    if not is_hex_address(text):
        raise _fail("value", _("An EVM address is 0x followed by 40 hexadecimal digits."))
    body = text[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(text):
        raise _fail(
            "value", _("The EIP-55 checksum (mixed case) of this address is wrong: check it.")
        )
    return text.lower()


_BTC_BASE58_VERSIONS = {0x00, 0x05, 0x6F, 0xC4}  # P2PKH, P2SH (main and test net)
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3


def _segwit_address(text: str) -> str | None:
    """BIP-173/BIP-350 decoding; None if `text` is not bech32 at all."""
    if text.lower()[:3] not in ("bc1", "tb1"):
        return None
    if text != text.lower() and text != text.upper():
        raise _fail("value", _("A bech32 address is all lower case or all upper case."))
    text = text.lower()
    hrp, _sep, data_part = text.rpartition("1")
    if not 6 <= len(data_part) <= 90 or len(text) > 90:
        raise _fail("value", _("This bech32 address has the wrong length."))
    if any(c not in bech32.CHARSET for c in data_part):
        raise _fail("value", _("This bech32 address has characters outside its alphabet."))
    data = [bech32.CHARSET.find(c) for c in data_part]
    const = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + data)
    version, program = data[0], bech32.convertbits(data[1:-6], 5, 8, False)
    # Witness v0 uses bech32, v1+ (taproot) bech32m: the wrong one is an error.
    if const != (_BECH32_CONST if version == 0 else _BECH32M_CONST):
        raise _fail("value", _("The checksum of this bech32 address is wrong."))
    if (
        program is None
        or version > 16
        or not 2 <= len(program) <= 40
        or (version == 0 and len(program) not in (20, 32))
    ):
        raise _fail("value", _("This is not a valid segwit address."))
    return text


def _bitcoin_address(text: str) -> str:
    segwit = _segwit_address(text)
    if segwit:
        return segwit
    try:
        payload = base58.b58decode_check(text)
    except ValueError:
        raise _fail("value", _("This is not a valid Bitcoin address (checksum).")) from None
    if len(payload) != 21 or payload[0] not in _BTC_BASE58_VERSIONS:
        raise _fail("value", _("This is not a valid Bitcoin address."))
    return text  # base58 is case-sensitive: kept exactly


def _tron_address(text: str) -> str:
    try:
        payload = base58.b58decode_check(text)
    except ValueError:
        raise _fail("value", _("This is not a valid TRON address (checksum).")) from None
    if len(payload) != 21 or payload[0] != 0x41:
        raise _fail("value", _("This is not a valid TRON address."))
    return text


def _chain(chain) -> str:
    if chain in (None, ""):
        raise _fail("chain", _("Say which blockchain this is on."))
    if not isinstance(chain, str) or chain not in _CHAINS:
        raise _fail("chain", _("Unknown blockchain."))
    return chain


def normalise_wallet(value: str, *, chain: str) -> str:
    """Validated address in its matching form (see module policy)."""
    text = _text(value)
    chain = _chain(chain)
    if chain in EVM_CHAINS:
        return _evm_address(text)
    if chain == Chain.BITCOIN:
        return _bitcoin_address(text)
    if chain == Chain.TRON:
        return _tron_address(text)
    if re.search(r"\s", text):
        raise _fail("value", _("An address contains no spaces."))
    return f"{chain}{SEP}{text}"  # unknown rules: exact, kept apart per chain


def normalise_tx_hash(value: str, *, chain: str) -> str:
    """Lower-case hex without 0x for Bitcoin, EVM and TRON (64 digits)."""
    text = _text(value)
    chain = _chain(chain)
    if chain == Chain.OTHER:
        if re.search(r"\s", text):
            raise _fail("value", _("A transaction hash contains no spaces."))
        return f"{chain}{SEP}{text}"
    digits = text[2:] if text[:2].lower() == "0x" else text
    if not re.fullmatch(r"[0-9a-fA-F]{64}", digits):
        raise _fail("value", _("A transaction hash is 64 hexadecimal digits."))
    return digits.lower()


def normalise_social_handle(value: str, *, platform: str) -> str:
    """Platform and handle, both case-folded; a leading @ is dropped."""
    platform_name = normalise_name(platform, "platform").replace(" ", "")
    handle = unicodedata.normalize("NFKC", _text(value)).lstrip("@").casefold()
    if not handle or re.search(r"\s", handle):
        raise _fail("value", _("A handle contains no spaces."))
    return f"{platform_name}{SEP}{handle}"


def normalise_person(value: str, *, date_of_birth, country: str) -> str:
    """Name (see `normalise_name`), date of birth and nationality: all three must match."""
    name = normalise_name(value)
    return SEP.join(
        (name, parse_date_of_birth(date_of_birth).isoformat(), normalise_country(country))
    )


def _document_number(value, field: str) -> str:
    text = unicodedata.normalize("NFKC", _text(value, field)).upper()
    cleaned = re.sub(r"[\s./-]", "", text)
    if not re.fullmatch(r"[A-Z0-9]{3,30}", cleaned):
        raise _fail(field, _("Only letters and digits are allowed."))
    return cleaned


def normalise_passport(value: str, *, country: str) -> str:
    """Issuing country and the number in upper-case alphanumerics."""
    return SEP.join((normalise_country(country), _document_number(value, "value")))


def normalise_company(value: str, *, registration_number: str) -> str:
    """Company name (see `normalise_name`) and registration number."""
    return SEP.join(
        (normalise_name(value), _document_number(registration_number, "registration_number"))
    )


def normalise_ip(value: str) -> str:
    """`ipaddress`'s canonical form (IPv6 compressed, lower-case)."""
    try:
        return str(ipaddress.ip_address(_text(value)))
    except ValueError:
        raise _fail("value", _("This is not an IPv4 or IPv6 address.")) from None


# --- dispatch ---------------------------------------------------------------


@dataclass(frozen=True)
class IdentifierInput:
    """One identifier as given, with the qualifiers its kind needs.

    chain: wallets and transactions; country: default region of a phone,
    issuing country of a passport, nationality of a person, country of a
    bank account; date_of_birth: person; platform: social handle;
    bank_code: bank account; registration_number: company.
    """

    kind: str
    value: str
    chain: str = ""
    country: str = ""
    date_of_birth: dt.date | str | None = None
    platform: str = ""
    bank_code: str = ""
    registration_number: str = ""

    @classmethod
    def coerce(cls, item) -> IdentifierInput:
        """From an IdentifierInput, a (kind, value[, chain]) tuple or a mapping."""
        if isinstance(item, cls):
            return item
        if isinstance(item, dict):
            allowed = set(cls.__dataclass_fields__)
            unknown = set(item) - allowed
            if unknown:
                raise ValidationFailed(
                    {f: [_("Unknown field.")] for f in sorted(map(str, unknown))}
                )
            if "kind" not in item or "value" not in item:
                raise ValidationFailed({"kind": [_("Give a kind and a value.")]})
            return cls(**{k: v for k, v in item.items() if v is not None})
        if isinstance(item, (tuple, list)) and 2 <= len(item) <= 3:
            return cls(*item)
        raise ValidationFailed({"non_field_errors": [_("Give a kind and a value.")]})


def normalise(item: IdentifierInput, *, default_region: str | None = None) -> str:
    """The normalised value of `item` (raises ValidationFailed with its field)."""
    kind = item.kind
    if not isinstance(kind, str) or kind not in _KINDS:
        raise _fail("kind", _("Unknown kind of identifier."))
    match kind:
        case IdentifierKind.CRYPTO_WALLET:
            return normalise_wallet(item.value, chain=item.chain)
        case IdentifierKind.CRYPTO_TX:
            return normalise_tx_hash(item.value, chain=item.chain)
        case IdentifierKind.PHONE:
            region = item.country or default_region
            return normalise_phone(item.value, region=region if region != "INT" else None)
        case IdentifierKind.EMAIL:
            return normalise_email(item.value)
        case IdentifierKind.IBAN:
            return normalise_iban(item.value)
        case IdentifierKind.BANK_ACCOUNT:
            return normalise_bank_account(
                item.value, bank_code=item.bank_code, country=item.country
            )
        case IdentifierKind.DOMAIN:
            return normalise_domain(item.value)
        case IdentifierKind.URL:
            return normalise_url(item.value)
        case IdentifierKind.SOCIAL_HANDLE:
            return normalise_social_handle(item.value, platform=item.platform)
        case IdentifierKind.PERSON:
            return normalise_person(
                item.value, date_of_birth=item.date_of_birth, country=item.country
            )
        case IdentifierKind.PASSPORT:
            return normalise_passport(item.value, country=item.country)
        case IdentifierKind.COMPANY:
            return normalise_company(item.value, registration_number=item.registration_number)
        case IdentifierKind.IP_ADDRESS:
            return normalise_ip(item.value)
    raise AssertionError(kind)  # pragma: no cover


def hmac_key() -> bytes:
    """The deconfliction key; changing it orphans every stored hash (re-hash first)."""
    key = getattr(settings, "DECONFLICTION_HMAC_KEY", "")
    if not key:
        raise ImproperlyConfigured("DECONFLICTION_HMAC_KEY must be set when DEBUG is off.")
    return key.encode()


def keyed_hash(kind: str, normalised: str, *, key: bytes | None = None) -> bytes:
    """HMAC-SHA256 of (kind, normalised value): the exact-match key.

    Keyed, so a stolen table cannot be reversed by hashing a dictionary of
    phone numbers without also stealing the key.
    """
    message = f"{kind}{SEP}{normalised}".encode()
    return hmac.new(key or hmac_key(), message, hashlib.sha256).digest()
