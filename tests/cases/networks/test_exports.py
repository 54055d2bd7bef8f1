"""Exports of a case's network (STIX 2.1, GraphML, CSV): exactly what the
reader sees, each object with its handling code, audited; CSV cells that a
spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import pytest
from defusedxml import ElementTree as SafeET
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from cases import network_export, networks
from cases.choices import EntityKind, HandlingCode, LinkKind, PersonRole
from cases.deconfliction import add_identifier
from cases.stix import export_case_stix
from config.spreadsheets import safe_cell
from gate.errors import NotFound

pytestmark = pytest.mark.django_db

G = "{http://graphml.graphdrawing.org/xmlns}"


@pytest.fixture
def hidden_account(shared_case, knp_coordinator):
    """The victim's own account, kept by KR-KNP (TLP:RED)."""
    return add_identifier(
        actor=knp_coordinator, case=shared_case, kind="iban",
        value="DE89370400440532013000", handling_code=HandlingCode.RED,
    )  # fmt: skip


@pytest.fixture
def world(
    shared_case, knp_coordinator, kh_investigator, operator, company, victim, wallet,
    victim_account, mule_account, transfer, hidden_account,
):  # fmt: skip
    compound = networks.create_entity(
        actor=kh_investigator, case=shared_case, kind=EntityKind.PLACE,
        name="Golden Fortune Compound", country="KH", latitude="10.6", longitude="103.5",
    )  # fmt: skip
    networks.create_entity(
        actor=kh_investigator, case=shared_case, kind=EntityKind.PLACE, name="Building C"
    )
    networks.create_entity(
        actor=kh_investigator, case=shared_case, kind=EntityKind.PERSON,
        name="Lim Sopheap", role=PersonRole.FACILITATOR,
    )  # fmt: skip
    links = {
        "at": networks.create_link(
            actor=kh_investigator, case=shared_case, kind=LinkKind.LOCATED_AT,
            from_entity=operator, to_entity=compound,
        ),
        "holds": networks.create_link(
            actor=kh_investigator, case=shared_case, kind=LinkKind.HOLDS_WALLET,
            from_entity=operator, to_identifier=wallet,
        ),
        "victim": networks.create_link(
            actor=knp_coordinator, case=shared_case, kind=LinkKind.HOLDS_ACCOUNT,
            from_entity=victim, to_identifier=victim_account,
        ),
    }  # fmt: skip
    hidden_transfer = networks.record_transaction(
        actor=knp_coordinator, case=shared_case, from_identifier=hidden_account,
        to_identifier=wallet, amount=Decimal("1520.123456789012345678"),
        currency="USDT-TRC20", occurred_at=timezone.now() - dt.timedelta(days=2),
    )  # fmt: skip
    return {
        "case": shared_case,
        "victim": victim,
        "operator": operator,
        "compound": compound,
        "links": links,
        "transfer": transfer,
        "hidden_transfer": hidden_transfer,
        "hidden_account": hidden_account,
    }


def _stix(actor, case) -> dict[str, list[dict]]:
    bundle = json.loads(export_case_stix(actor=actor, case=case))
    types: dict[str, list[dict]] = {}
    for obj in bundle["objects"]:
        types.setdefault(obj["type"], []).append(obj)
    return types


def _transfers(types) -> list[dict]:
    return [r for r in types["relationship"] if r["relationship_type"] == "transferred-to"]


# --- STIX ---------------------------------------------------------------------------


def test_stix_maps_a_suspect_to_a_threat_actor_and_others_to_identities(world, knp_coordinator):
    types = _stix(knp_coordinator, world["case"])
    actor = next(iter(types["threat-actor"]))
    assert actor["id"] == f"threat-actor--{world['operator'].public_id}"
    assert actor["aliases"] == ["陈伟", "Boss Chen"]
    individuals = {i["name"]: i for i in types["identity"] if i["identity_class"] == "individual"}
    assert individuals["김민지"]["x_casebridge_role"] == "victim"
    assert individuals["Lim Sopheap"]["x_casebridge_role"] == "facilitator"
    organisation = next(i for i in types["identity"] if i["identity_class"] == "organization")
    assert organisation["x_casebridge_registration_number"] == "00012345"


def test_stix_maps_places_to_locations_or_named_places(world, knp_coordinator):
    types = _stix(knp_coordinator, world["case"])
    location = types["location"][0]
    assert (location["name"], location["country"], location["latitude"]) == (
        "Golden Fortune Compound", "KH", 10.6,
    )  # fmt: skip
    assert types["x-casebridge-place"][0]["name"] == "Building C"


def test_stix_links_are_relationships_between_the_exported_objects(world, knp_coordinator):
    types = _stix(knp_coordinator, world["case"])
    ids = {obj["id"] for group in types.values() for obj in group}
    located = next(r for r in types["relationship"] if r["relationship_type"] == "located-at")
    assert located["id"] == f"relationship--{world['links']['at'].public_id}"
    assert located["source_ref"] == f"threat-actor--{world['operator'].public_id}"
    assert located["target_ref"] == f"location--{world['compound'].public_id}"
    assert located["x_casebridge_source_reliability"] == "X"
    holds = next(r for r in types["relationship"] if r["relationship_type"] == "holds-wallet")
    assert holds["target_ref"] in {w["id"] for w in types["cryptocurrency-wallet"]}
    assert all({r["source_ref"], r["target_ref"]} <= ids for r in types["relationship"])


def test_stix_transactions_carry_the_exact_amount_currency_and_time(world, knp_coordinator):
    transfers = {
        r["x_casebridge_currency"]: r for r in _transfers(_stix(knp_coordinator, world["case"]))
    }
    assert transfers["USDT-TRC20"]["x_casebridge_amount"] == "1520.123456789012345678"
    assert transfers["KRW"]["x_casebridge_amount"] == "25000000"
    assert transfers["KRW"]["x_casebridge_reference"] == "KB-20250301-0042"
    assert transfers["KRW"]["start_time"].startswith(
        world["transfer"].occurred_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    )


def test_every_stix_object_carries_its_handling_code(world, knp_coordinator):
    bundle = json.loads(export_case_stix(actor=knp_coordinator, case=world["case"]))
    markings = {m["id"]: m["name"] for m in bundle["objects"] if m["type"] == "marking-definition"}
    victim = next(o for o in bundle["objects"] if o.get("name") == "김민지")
    assert victim["x_casebridge_handling"] == "RED"
    assert markings[victim["object_marking_refs"][0]] == "TLP:RED"
    shared = [o for o in bundle["objects"] if o["type"] not in ("marking-definition",)]
    assert all(o["object_marking_refs"] for o in shared)


def test_stix_for_a_partner_leaves_out_the_red_victim_and_the_hidden_transfer(
    world, kh_investigator
):
    types = _stix(kh_investigator, world["case"])
    names = {i["name"] for i in types["identity"]}
    assert "김민지" not in names and "Golden Sands Trading Co., Ltd." in names
    relationship_ids = {r["id"] for r in types["relationship"]}
    assert f"relationship--{world['links']['victim'].public_id}" not in relationship_ids
    assert f"relationship--{world['links']['at'].public_id}" in relationship_ids
    assert [r["x_casebridge_currency"] for r in _transfers(types)] == ["KRW"]
    assert "DE89370400440532013000" not in json.dumps(types)


def test_stix_export_is_audited(world, kh_investigator):
    export_case_stix(actor=kh_investigator, case=world["case"])
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("seq")
    assert event.object_id == str(world["case"].public_id)
    assert event.changes["format"] == "stix"
    assert event.changes["transactions"] == 1


# --- GraphML ------------------------------------------------------------------------


def _graph(actor, case):
    root = SafeET.fromstring(network_export.export_graphml(actor=actor, case=case))
    keys = {k.get("id"): (k.get("attr.name"), k.get("attr.type")) for k in root.iter(f"{G}key")}

    def data(element):
        return {keys[d.get("key")][0]: d.text for d in element.iter(f"{G}data")}

    nodes = {n.get("id"): data(n) for n in root.iter(f"{G}node")}
    edges = {e.get("id"): {**data(e), "source": e.get("source"), "target": e.get("target")}
             for e in root.iter(f"{G}edge")}  # fmt: skip
    return keys, nodes, edges


def test_graphml_has_typed_attributes_and_every_node_and_edge(world, knp_coordinator):
    keys, nodes, edges = _graph(knp_coordinator, world["case"])
    assert keys["e_amount"] == ("amount", "double")
    assert keys["n_latitude"] == ("latitude", "double")
    victim = nodes[f"entity:{world['victim'].public_id}"]
    assert (victim["label"], victim["role"], victim["handling"]) == ("김민지", "victim", "RED")
    transfer = edges[f"transaction:{world['transfer'].public_id}"]
    assert transfer["amount"] == "25000000" and transfer["currency"] == "KRW"
    assert transfer["source"] in nodes and transfer["target"] in nodes
    assert all(e["source"] in nodes and e["target"] in nodes for e in edges.values())
    assert f"link:{world['links']['victim'].public_id}" in edges


def test_graphml_for_a_partner_leaves_out_the_victim_and_the_hidden_transfer(
    world, kh_investigator
):
    _keys, nodes, edges = _graph(kh_investigator, world["case"])
    assert f"entity:{world['victim'].public_id}" not in nodes
    assert f"identifier:{world['hidden_account'].public_id}" not in nodes
    assert f"transaction:{world['hidden_transfer'].public_id}" not in edges
    assert f"link:{world['links']['victim'].public_id}" not in edges
    assert f"transaction:{world['transfer'].public_id}" in edges
    assert all(e["source"] in nodes and e["target"] in nodes for e in edges.values())


# --- CSV ----------------------------------------------------------------------------


def _csv(actor, case) -> tuple[list[dict], list[dict]]:
    archive = zipfile.ZipFile(io.BytesIO(network_export.export_csv_zip(actor=actor, case=case)))
    assert sorted(archive.namelist()) == ["edges.csv", "nodes.csv"]

    def rows(name):
        raw = archive.read(name)
        assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 by its BOM
        return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))

    return rows("nodes.csv"), rows("edges.csv")


def test_csv_nodes_and_edges_follow_gephis_columns(world, knp_coordinator):
    nodes, edges = _csv(knp_coordinator, world["case"])
    ids = {n["Id"] for n in nodes}
    assert {"Id", "Label", "handling"} <= set(nodes[0])
    assert all(e["Source"] in ids and e["Target"] in ids for e in edges)
    transfer = next(e for e in edges if e["Id"] == f"transaction:{world['transfer'].public_id}")
    assert (transfer["Type"], transfer["Weight"], transfer["amount_exact"]) == (
        "Directed", "25000000", "25000000",
    )  # fmt: skip


def test_csv_for_a_partner_leaves_out_the_victim_and_the_hidden_transfer(world, kh_investigator):
    nodes, edges = _csv(kh_investigator, world["case"])
    labels = {n["Label"] for n in nodes}
    assert "김민지" not in labels and "Chen Wei" in labels
    edge_ids = {e["Id"] for e in edges}
    assert f"transaction:{world['hidden_transfer'].public_id}" not in edge_ids
    assert f"transaction:{world['transfer'].public_id}" in edge_ids


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x.example")', "+1+1", "-2", "@SUM(A1)"])
def test_csv_cells_that_a_spreadsheet_would_run_are_written_as_text(
    shared_case, knp_coordinator, name
):
    networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
        name=f"{name}", aliases=["=cmd|' /C calc'!A0"],
    )  # fmt: skip
    nodes, _edges = _csv(knp_coordinator, shared_case)
    node = nodes[0]
    assert node["Label"] == "'" + name
    assert node["aliases"] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize("text", ["\tx", "\rx"])
def test_a_cell_starting_with_a_tab_or_carriage_return_is_text_too(text):
    assert safe_cell(text) == "'" + text


# --- who may export -------------------------------------------------------------------


@pytest.mark.parametrize(
    "export",
    [export_case_stix, network_export.export_graphml, network_export.export_csv_zip],
)
def test_an_outsider_exports_nothing(world, outsider, export):
    before = AuditEvent.objects.filter(action=AuditAction.EXPORT).count()
    with pytest.raises(NotFound):
        export(actor=outsider, case=world["case"])
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == before
