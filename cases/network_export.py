"""A case's network for analysts' tools: GraphML (Gephi, yEd, i2 Analyst's
Notebook, Maltego) and CSV (nodes.csv + edges.csv in one zip).

Exactly what the reader sees of the case (the gate's selectors, read once
in `case_network`): a link or a transaction is in it only when the reader
sees it, hence both of its ends; a victim another agency keeps TLP:RED is
neither a node nor the end of an edge. Every node and edge carries its
handling code and the agency that recorded it, so the handling travels with
the copy. STIX 2.1 is in `cases.stix`, from the same reading. Each export
is audited (what, for which case, how many objects; never their content).

Nodes are the case's entities and identifiers; edges its links, its
transactions and an organisation's parent. Ids are `entity:<public id>`,
`identifier:<public id>`, `link:…`, `transaction:…`, `parent:<public id of
the subsidiary>`: stable, so a re-import updates a chart instead of
doubling it.

Why one zip for the CSV and not two endpoints: nodes and edges read in one
request are one consistent picture (an edge never names a node the other
file lacks), and Gephi's and i2's importers take the two files together.
Columns follow Gephi's spreadsheet import (`Id`, `Label`; `Source`,
`Target`, `Type`, `Weight`), every cell is made safe for spreadsheets
(`config.spreadsheets`), and the files start with a UTF-8 byte order mark,
without which Excel reads Khmer and Korean as mojibake.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET  # nosec B405  # writing only: nothing is parsed
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agencies.actors import Actor
from audit import services as audit
from audit.models import AuditAction
from config.spreadsheets import safe_cell

from . import access
from .models import Case, Entity, Identifier, Link, Transaction

GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"

#: GraphML attributes: (name, type) of nodes and of edges, in column order.
NODE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("label", "string"),
    ("node_type", "string"),
    ("kind", "string"),
    ("role", "string"),
    ("value", "string"),
    ("chain", "string"),
    ("country", "string"),
    ("nationality", "string"),
    ("date_of_birth", "string"),
    ("registration_number", "string"),
    ("address", "string"),
    ("latitude", "double"),
    ("longitude", "double"),
    ("aliases", "string"),
    ("handling", "string"),
    ("agency", "string"),
)
EDGE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("label", "string"),
    ("edge_type", "string"),
    ("kind", "string"),
    ("amount", "double"),
    ("amount_exact", "string"),
    ("currency", "string"),
    ("occurred_at", "string"),
    ("reference", "string"),
    ("source_reliability", "string"),
    ("information_accuracy", "string"),
    ("handling", "string"),
    ("agency", "string"),
)
# Characters XML 1.0 cannot carry at all (a control character in a pasted name).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class CaseNetwork:
    """What one reader sees of a case's network, read once through the gate."""

    case: Case
    entities: list[Entity]
    identifiers: list[Identifier]
    links: list[Link]
    transactions: list[Transaction]


def case_network(*, actor: Actor, case: Case) -> CaseNetwork:
    """The case's entities, identifiers, links and transactions `actor` sees
    (NotFound for a case it may not see)."""
    access.require(actor, "view", case)
    return CaseNetwork(
        case=case,
        entities=list(
            access.visible_entities(actor)
            .filter(case=case)
            .select_related("agency")
            .order_by("created_at", "id")
        ),
        identifiers=list(
            access.visible_identifiers(actor)
            .filter(case=case)
            .select_related("agency")
            .order_by("created_at", "id")
        ),
        links=list(
            access.visible_links(actor)
            .filter(case=case)
            .select_related("agency")
            .order_by("created_at", "id")
        ),
        transactions=list(
            access.visible_transactions(actor)
            .filter(case=case)
            .select_related("agency")
            .order_by("occurred_at", "id")
        ),
    )


def audit_export(*, actor: Actor, network: CaseNetwork, export_format: str) -> None:
    """An export is a disclosure: who took which case's network, in what form,
    how many objects (never their content)."""
    audit.record(
        action=AuditAction.EXPORT,
        obj=network.case,
        actor=actor,
        changes={
            "format": export_format,
            "entities": len(network.entities),
            "identifiers": len(network.identifiers),
            "links": len(network.links),
            "transactions": len(network.transactions),
        },
    )


# --- rows ---------------------------------------------------------------------------


def node_id(obj: Entity | Identifier) -> str:
    prefix = "entity" if isinstance(obj, Entity) else "identifier"
    return f"{prefix}:{obj.public_id}"


def _amount(value: Decimal) -> str:
    return f"{value.normalize():f}"


def node_rows(network: CaseNetwork) -> Iterator[dict[str, Any]]:
    """One dict per node, keyed by `NODE_ATTRIBUTES` (plus `id`); None for n/a."""
    for entity in network.entities:
        yield {
            "id": node_id(entity),
            "label": entity.name,
            "node_type": "entity",
            "kind": entity.kind,
            "role": entity.role,
            "country": entity.country,
            "nationality": entity.nationality,
            "date_of_birth": entity.date_of_birth.isoformat() if entity.date_of_birth else "",
            "registration_number": entity.registration_number,
            "address": entity.address,
            "latitude": entity.latitude,
            "longitude": entity.longitude,
            "aliases": "; ".join(entity.aliases),
            "handling": entity.handling_code,
            "agency": entity.agency.code,
        }
    for identifier in network.identifiers:
        yield {
            "id": node_id(identifier),
            "label": identifier.raw_value,
            "node_type": "identifier",
            "kind": identifier.kind,
            "value": identifier.normalised_value.replace("\x1f", " "),
            "chain": identifier.chain,
            "country": identifier.country,
            "handling": identifier.handling_code,
            "agency": identifier.agency.code,
        }


def edge_rows(network: CaseNetwork) -> Iterator[dict[str, Any]]:
    """One dict per edge (`EDGE_ATTRIBUTES` plus `id`, `source`, `target`)."""
    public = {("entity", e.pk): e.public_id for e in network.entities}
    public |= {("identifier", i.pk): i.public_id for i in network.identifiers}
    shown = {e.pk for e in network.entities}
    for entity in network.entities:
        # The parent is named only when the reader sees it too (the gate's
        # `parent_shown`; a visible parent is on the same case, so listed).
        if getattr(entity, "parent_shown", False) and entity.parent_id in shown:
            yield {
                "id": f"parent:{entity.public_id}",
                "source": node_id(entity),
                "target": f"entity:{public[('entity', entity.parent_id)]}",
                "label": "subsidiary_of",
                "edge_type": "link",
                "kind": "subsidiary_of",
                "handling": entity.handling_code,
                "agency": entity.agency.code,
            }
    for link in network.links:
        ends = {}
        for end in ("from", "to"):
            entity_id = getattr(link, f"{end}_entity_id")
            ends[end] = (
                f"entity:{public[('entity', entity_id)]}"
                if entity_id is not None
                else f"identifier:{public[('identifier', getattr(link, f'{end}_identifier_id'))]}"
            )
        yield {
            "id": f"link:{link.public_id}",
            "source": ends["from"],
            "target": ends["to"],
            "label": link.kind,
            "edge_type": "link",
            "kind": link.kind,
            "source_reliability": link.source_reliability,
            "information_accuracy": link.information_accuracy,
            "handling": link.handling_code,
            "agency": link.agency.code,
        }
    for record in network.transactions:
        yield {
            "id": f"transaction:{record.public_id}",
            "source": f"identifier:{public[('identifier', record.from_identifier_id)]}",
            "target": f"identifier:{public[('identifier', record.to_identifier_id)]}",
            "label": f"{_amount(record.amount)} {record.currency}",
            "edge_type": "transaction",
            "kind": "transfer",
            "amount": record.amount,
            "amount_exact": _amount(record.amount),
            "currency": record.currency,
            "occurred_at": record.occurred_at.isoformat(),
            "reference": record.reference,
            "handling": record.handling_code,
            "agency": record.agency.code,
        }


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return _amount(value)
    return "" if value is None else str(value)


# --- GraphML ------------------------------------------------------------------------


def _xml_text(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", _text(value))


def graphml(network: CaseNetwork) -> bytes:
    """The network as a GraphML document: a directed graph whose nodes and
    edges carry typed attributes (`amount` a double, for sizing edges; its
    exact decimal in `amount_exact`)."""
    root = ET.Element("graphml", {"xmlns": GRAPHML_NS})
    for scope, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        for name, kind in attributes:
            ET.SubElement(
                root,
                "key",
                {
                    "id": f"{scope[0]}_{name}",
                    "for": scope,
                    "attr.name": name,
                    "attr.type": kind,
                },
            )
    graph = ET.SubElement(root, "graph", {"id": network.case.reference, "edgedefault": "directed"})
    for row in node_rows(network):
        node = ET.SubElement(graph, "node", {"id": row["id"]})
        _data(node, "n", NODE_ATTRIBUTES, row)
    for row in edge_rows(network):
        edge = ET.SubElement(
            graph, "edge", {"id": row["id"], "source": row["source"], "target": row["target"]}
        )
        _data(edge, "e", EDGE_ATTRIBUTES, row)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _data(parent: ET.Element, scope: str, attributes, row: dict[str, Any]) -> None:
    for name, _kind in attributes:
        value = row.get(name)
        if value is None or value == "":
            continue  # GraphML: an absent attribute, not an empty one
        ET.SubElement(parent, "data", {"key": f"{scope}_{name}"}).text = _xml_text(value)


def export_graphml(*, actor: Actor, case: Case) -> bytes:
    """The GraphML document of what `actor` sees of `case`'s network (audited)."""
    network = case_network(actor=actor, case=case)
    audit_export(actor=actor, network=network, export_format="graphml")
    return graphml(network)


# --- CSV ----------------------------------------------------------------------------

NODE_COLUMNS = ("Id", "Label", *(name for name, _ in NODE_ATTRIBUTES if name != "label"))
EDGE_COLUMNS = (
    "Id",
    "Source",
    "Target",
    "Type",
    "Label",
    "Weight",
    *(name for name, _ in EDGE_ATTRIBUTES if name not in ("label", "amount")),
)


def _csv(columns: tuple[str, ...], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([safe_cell(_text(cell)) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def csv_zip(network: CaseNetwork) -> bytes:
    """nodes.csv and edges.csv in one zip (see the module's docstring)."""
    nodes = [
        [row["id"], row.get("label"), *(row.get(n) for n in NODE_COLUMNS[2:])]
        for row in node_rows(network)
    ]
    edges = [
        [
            row["id"],
            row["source"],
            row["target"],
            "Directed",
            row.get("label"),
            row.get("amount") if row.get("amount") is not None else 1,
            *(row.get(n) for n in EDGE_COLUMNS[6:]),
        ]
        for row in edge_rows(network)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("nodes.csv", _csv(NODE_COLUMNS, nodes))
        archive.writestr("edges.csv", _csv(EDGE_COLUMNS, edges))
    return buffer.getvalue()


def export_csv_zip(*, actor: Actor, case: Case) -> bytes:
    """The zip of nodes.csv and edges.csv of what `actor` sees of `case` (audited)."""
    network = case_network(actor=actor, case=case)
    audit_export(actor=actor, network=network, export_format="csv")
    return csv_zip(network)


def file_name(case: Case, extension: str) -> str:
    """`KR-KNP-2025-00001-network.graphml`: the reference, safe in a header."""
    reference = re.sub(r"[^A-Za-z0-9-]", "_", case.reference)
    return f"{reference}-network.{extension}"
