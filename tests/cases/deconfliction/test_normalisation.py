"""Real-world spellings of the same identifier normalise to one value;
malformed ones are refused with the field that is wrong."""

import datetime as dt
import unicodedata

import pytest

from cases.identifiers import (
    IdentifierInput,
    keyed_hash,
    normalise,
    normalise_domain,
    normalise_email,
    normalise_iban,
    normalise_ip,
    normalise_person,
    normalise_phone,
    normalise_tx_hash,
    normalise_url,
    normalise_wallet,
)
from gate.errors import ValidationFailed

# --- phones -----------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    ["010-1234-5678", "+82 10 1234 5678", "(010) 1234 5678", "+821012345678", "82-10-1234-5678"],
)
def test_korean_mobile_written_five_ways_is_one_e164_number(written):
    assert normalise_phone(written, region="KR") == "+821012345678"


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("012 345 678", "+85512345678"),
        ("+855 12 345 678", "+85512345678"),
        ("096 123 4567", "+855961234567"),
        ("+855-96-123-4567", "+855961234567"),
    ],
)
def test_cambodian_numbers_are_read_in_cambodia(written, e164):
    assert normalise_phone(written, region="KH") == e164


def test_phone_without_country_code_is_read_in_the_recording_agencys_country():
    item = IdentifierInput("phone", "010-1234-5678")
    assert normalise(item, default_region="KR") == "+821012345678"


def test_international_agency_must_give_the_country_code():
    with pytest.raises(ValidationFailed) as exc:
        normalise(IdentifierInput("phone", "010-1234-5678"), default_region="INT")
    assert "country code" in exc.value.errors["value"][0]


@pytest.mark.parametrize("bad", ["12", "not a number", "+82 10 12"])
def test_malformed_phone_is_refused_on_value(bad):
    with pytest.raises(ValidationFailed) as exc:
        normalise_phone(bad, region="KR")
    assert set(exc.value.errors) == {"value"}


# --- bank accounts ----------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    ["DE89 3704 0044 0532 0130 00", "de89370400440532013000", " de89 3704 0044 0532013000 "],
)
def test_iban_with_spaces_and_lower_case_is_compact_upper_case(written):
    assert normalise_iban(written) == "DE89370400440532013000"


def test_iban_with_a_wrong_check_digit_is_refused():
    with pytest.raises(ValidationFailed) as exc:
        normalise_iban("DE88 3704 0044 0532 0130 00")
    assert "IBAN" in exc.value.errors["value"][0]


def test_domestic_bank_account_keeps_digits_only():
    a = normalise(IdentifierInput("bank_account", "0012-345-678", country="KH", bank_code=" 0 01 "))
    b = normalise(IdentifierInput("bank_account", "0012345678", country="KHM", bank_code="001"))
    assert a == b


def test_bank_account_needs_a_bank_code():
    with pytest.raises(ValidationFailed) as exc:
        normalise(IdentifierInput("bank_account", "0012345678", country="KH"))
    assert set(exc.value.errors) == {"bank_code"}


# --- crypto -----------------------------------------------------------------

ETH_CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55 test vector


@pytest.mark.parametrize(
    "written", [ETH_CHECKSUMMED, ETH_CHECKSUMMED.lower(), "0x" + ETH_CHECKSUMMED[2:].upper()]
)
def test_ethereum_address_in_any_valid_case_matches_lower_case(written):
    assert normalise_wallet(written, chain="ethereum") == ETH_CHECKSUMMED.lower()


def test_ethereum_address_with_a_wrong_eip55_checksum_is_refused():
    wrong = ETH_CHECKSUMMED[:-1] + "D"  # last letter's case flipped
    with pytest.raises(ValidationFailed) as exc:
        normalise_wallet(wrong, chain="ethereum")
    assert "EIP-55" in exc.value.errors["value"][0]


def test_same_address_matches_across_evm_chains():
    assert normalise_wallet(ETH_CHECKSUMMED, chain="bsc") == normalise_wallet(
        ETH_CHECKSUMMED, chain="ethereum"
    )


def test_bech32_bitcoin_address_upper_and_lower_case_match():
    upper = "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"
    assert normalise_wallet(upper, chain="bitcoin") == upper.lower()
    assert normalise_wallet(upper.lower(), chain="bitcoin") == upper.lower()


def test_mixed_case_bech32_address_is_refused():
    with pytest.raises(ValidationFailed):
        normalise_wallet("bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", chain="bitcoin")


def test_taproot_address_needs_a_bech32m_checksum():
    taproot = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
    assert normalise_wallet(taproot, chain="bitcoin") == taproot
    with pytest.raises(ValidationFailed):  # BIP-350: v1 with a bech32 (not m) checksum
        normalise_wallet(
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", chain="bitcoin"
        )


def test_base58_bitcoin_address_is_case_sensitive():
    genesis = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    assert normalise_wallet(genesis, chain="bitcoin") == genesis
    with pytest.raises(ValidationFailed):
        normalise_wallet(genesis.lower(), chain="bitcoin")


def test_tron_address_is_validated_by_its_checksum():
    usdt = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    assert normalise_wallet(usdt, chain="tron") == usdt
    with pytest.raises(ValidationFailed):
        normalise_wallet(usdt[:-1] + "u", chain="tron")


def test_wallet_needs_a_chain():
    with pytest.raises(ValidationFailed) as exc:
        normalise(IdentifierInput("crypto_wallet", ETH_CHECKSUMMED))
    assert set(exc.value.errors) == {"chain"}


def test_transaction_hash_is_lower_case_hex_without_prefix():
    tx = "0x" + "AB" * 32
    assert normalise_tx_hash(tx, chain="ethereum") == "ab" * 32
    assert normalise_tx_hash("ab" * 32, chain="bitcoin") == "ab" * 32


def test_short_transaction_hash_is_refused():
    with pytest.raises(ValidationFailed):
        normalise_tx_hash("0xabc", chain="ethereum")


# --- internet ---------------------------------------------------------------


def test_domain_is_idna_and_lower_case():
    assert normalise_domain("Bücher.Example.") == "xn--bcher-kva.example"
    assert normalise_domain("XN--BCHER-KVA.example") == "xn--bcher-kva.example"


def test_url_host_is_normalised_and_path_kept():
    assert normalise_url("HTTPS://Bücher.Example:443/Invest?ref=A#top") == (
        "https://xn--bcher-kva.example/Invest?ref=A"
    )
    assert normalise_url("scam-exchange.com") == "http://scam-exchange.com/"


def test_email_is_lower_cased_whole_with_dots_and_tags_kept():
    assert normalise_email("Kim.Min+Invest@GMAIL.com") == "kim.min+invest@gmail.com"


def test_ip_addresses_take_their_canonical_form():
    assert normalise_ip("2001:DB8:0:0::1") == "2001:db8::1"
    assert normalise_ip(" 203.0.113.7 ") == "203.0.113.7"


@pytest.mark.parametrize(
    ("kind", "bad"),
    [
        ("domain", "not a domain"),
        ("url", "ftp://example.com/file"),
        ("email", "no-at-sign.example.com"),
        ("ip_address", "300.1.2.3"),
        ("iban", "KH00 1234"),
        ("passport", "M1234*56"),
    ],
)
def test_malformed_values_are_refused_on_value(kind, bad):
    with pytest.raises(ValidationFailed) as exc:
        normalise(IdentifierInput(kind, bad, country="KR"))
    assert set(exc.value.errors) == {"value"}


def test_unknown_kind_is_refused_on_kind():
    with pytest.raises(ValidationFailed) as exc:
        normalise(IdentifierInput("horoscope", "leo"))
    assert set(exc.value.errors) == {"kind"}


# --- people, documents, companies --------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "សុខ ដារា",
        " សុខ  ដារា ",
        "សុខ\u200bដារា",  # zero-width space, the usual Khmer word separator
        "សុខ\u00a0ដារា",  # no-break space
    ],
)
def test_khmer_name_written_with_different_spaces_is_one_person(written):
    assert normalise_person(written, date_of_birth="1994-03-12", country="KH") == (
        normalise_person("សុខ ដារា", date_of_birth=dt.date(1994, 3, 12), country="KHM")
    )


@pytest.mark.parametrize(
    "written",
    [
        "김민준",
        unicodedata.normalize("NFD", "김민준"),  # decomposed jamo, as some systems store it
        "김민준\u3000",  # ideographic space
        "  김민준",
    ],
)
def test_korean_name_in_any_normalisation_form_is_one_person(written):
    assert normalise_person(written, date_of_birth="1990-01-02", country="KR") == (
        normalise_person("김민준", date_of_birth="1990-01-02", country="KOR")
    )


def test_latin_names_match_case_insensitively_but_are_not_transliterated():
    a = normalise_person("KIM  Min-jun", date_of_birth="1990-01-02", country="KR")
    assert a == normalise_person("kim min-jun", date_of_birth="1990-01-02", country="KR")
    assert a != normalise_person("김민준", date_of_birth="1990-01-02", country="KR")


def test_same_name_different_date_of_birth_is_another_person():
    assert normalise_person("김민준", date_of_birth="1990-01-02", country="KR") != (
        normalise_person("김민준", date_of_birth="1990-01-03", country="KR")
    )


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("date_of_birth", {"date_of_birth": "02/01/1990", "country": "KR"}),
        ("date_of_birth", {"date_of_birth": None, "country": "KR"}),
        ("country", {"date_of_birth": "1990-01-02", "country": "Korea"}),
    ],
)
def test_person_needs_a_date_of_birth_and_nationality(field, kwargs):
    with pytest.raises(ValidationFailed) as exc:
        normalise(IdentifierInput("person", "김민준", **kwargs))
    assert set(exc.value.errors) == {field}


def test_passport_number_is_upper_case_alphanumerics_with_issuing_country():
    a = normalise(IdentifierInput("passport", "m12 345-678", country="KOR"))
    assert a == normalise(IdentifierInput("passport", "M12345678", country="KR"))


def test_company_name_and_registration_number():
    a = normalise(
        IdentifierInput("company", "Golden  Fortune Co., LTD", registration_number="000-123 45")
    )
    b = normalise(
        IdentifierInput("company", "golden fortune co., ltd", registration_number="00012345")
    )
    assert a == b


def test_social_handle_ignores_at_sign_and_case():
    a = normalise(IdentifierInput("social_handle", "@CryptoQueen88", platform="Telegram"))
    assert a == normalise(IdentifierInput("social_handle", "cryptoqueen88", platform="telegram"))


def test_keyed_hash_depends_on_kind_and_key():
    assert keyed_hash("domain", "example.com") != keyed_hash("url", "example.com")
    assert keyed_hash("domain", "example.com") != keyed_hash(
        "domain", "example.com", key=b"another key"
    )
