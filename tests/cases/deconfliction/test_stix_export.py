import json

import pytest

from cases import deconfliction
from cases.stix import export_case_stix
from gate.errors import NotFound


@pytest.fixture
def recorded(case, knp_coordinator, hooks):
    add = deconfliction.add_identifier
    add(actor=knp_coordinator, case=case, kind="domain", value="Bücher.example")
    add(actor=knp_coordinator, case=case, kind="email", value="Boss@Scam.example")
    add(actor=knp_coordinator, case=case, kind="ip_address", value="2001:db8::1")
    add(actor=knp_coordinator, case=case, kind="url", value="https://scam.example/it's")
    add(
        actor=knp_coordinator,
        case=case,
        kind="crypto_wallet",
        value="TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        chain="tron",
    )
    add(actor=knp_coordinator, case=case, kind="phone", value="010-1234-5678")
    add(actor=knp_coordinator, case=case, kind="iban", value="DE89 3704 0044 0532 0130 00")
    add(
        actor=knp_coordinator,
        case=case,
        kind="person",
        value="김민준",
        date_of_birth="1990-01-02",
        country="KR",
        handling_code="RED",
    )
    return case


def by_type(bundle):
    types = {}
    for obj in bundle["objects"]:
        types.setdefault(obj["type"], []).append(obj)
    return types


def test_case_identifiers_export_as_stix_observables_and_indicators(recorded, knp_coordinator):
    bundle = json.loads(export_case_stix(actor=knp_coordinator, case=recorded))
    types = by_type(bundle)
    assert bundle["type"] == "bundle"
    assert types["domain-name"][0]["value"] == "xn--bcher-kva.example"
    assert types["email-addr"][0]["value"] == "boss@scam.example"
    assert types["ipv6-addr"][0]["value"] == "2001:db8::1"
    assert types["cryptocurrency-wallet"][0]["chain"] == "tron"
    assert types["phone-number"][0]["value"] == "+821012345678"
    assert types["bank-account"][0]["iban"] == "DE89370400440532013000"
    assert types["identity"][0]["identity_class"] == "individual"
    patterns = sorted(i["pattern"] for i in types["indicator"])
    assert "[domain-name:value = 'xn--bcher-kva.example']" in patterns
    assert "[url:value = 'https://scam.example/it\\'s']" in patterns
    assert len(types["relationship"]) == len(types["indicator"]) == 4


def test_each_object_carries_its_tlp_marking(recorded, knp_coordinator):
    bundle = json.loads(export_case_stix(actor=knp_coordinator, case=recorded))
    person = by_type(bundle)["identity"][0]
    red = next(m for m in bundle["objects"] if m.get("name") == "TLP:RED")
    assert person["object_marking_refs"] == [red["id"]]
    assert person["x_casebridge_handling"] == "RED"


def test_red_identifier_of_another_agency_is_not_exported(recorded, shared_case, kh_investigator):
    bundle = json.loads(export_case_stix(actor=kh_investigator, case=shared_case))
    types = by_type(bundle)
    assert "identity" not in types
    assert "domain-name" in types


def test_outsider_gets_not_found_on_export(recorded, outsider):
    with pytest.raises(NotFound):
        export_case_stix(actor=outsider, case=recorded)
