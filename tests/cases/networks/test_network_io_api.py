"""The network's exports and the transaction import through the API."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditAction, AuditEvent
from cases.models import Identifier, Transaction

from .conftest import TRON_WALLET
from .helpers import unchanged

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]

HEADER = (
    "occurred_at,from_kind,from_value,from_bank_code,from_country,"
    "to_kind,to_value,to_chain,amount,currency\n"
)
GOOD = (
    "2025-03-01 14:05,bank_account,110-234-567890,088,KR,"
    f"crypto_wallet,{TRON_WALLET},tron,1520.5,USDT-TRC20\n"
)
BAD = (
    "2025-03-02 14:05,bank_account,110-234-567890,088,KR,"
    f"crypto_wallet,{TRON_WALLET},tron,-1,USDT-TRC20\n"
)


def _url(case, tail: str) -> str:
    return f"/api/v1/cases/{case.public_id}/{tail}/"


def _post(client, case, body: bytes, **fields):
    upload = SimpleUploadedFile("statement.csv", body, content_type="text/csv")
    return client.post(
        _url(case, "transactions/import"), {"file": upload, **fields}, format="multipart"
    )


# --- exports ------------------------------------------------------------------------


@pytest.mark.parametrize("tail", ["stix", "graphml", "network-csv"])
def test_exports_are_404_for_an_outsider(api, shared_case, outsider, victim, transfer, tail):
    response = api(outsider).get(_url(shared_case, tail))
    assert response.status_code == 404
    assert "김민지" not in response.content.decode(errors="replace")


def test_the_stix_export_holds_the_network_without_the_partners_hidden_victim(
    api, shared_case, kh_investigator, knp_coordinator, victim, operator, transfer
):
    seen = {
        user: json.loads(api(user).get(_url(shared_case, "stix")).content)
        for user in (knp_coordinator, kh_investigator)
    }
    names = {user: {o.get("name") for o in bundle["objects"]} for user, bundle in seen.items()}
    assert {"김민지", "Chen Wei"} <= names[knp_coordinator]
    assert "Chen Wei" in names[kh_investigator] and "김민지" not in names[kh_investigator]


def test_the_graphml_export_is_an_attachment_named_for_the_case(
    api, shared_case, kh_investigator, operator
):
    response = api(kh_investigator).get(_url(shared_case, "graphml"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{shared_case.reference}-network.graphml"'
    )
    assert b"Chen Wei" in response.content
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("seq")
    assert event.changes["format"] == "graphml"


def test_the_csv_export_is_a_zip_of_nodes_and_edges(api, shared_case, knp_coordinator, transfer):
    response = api(knp_coordinator).get(_url(shared_case, "network-csv"))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["edges.csv", "nodes.csv"]


def test_an_export_refuses_unknown_query_parameters(api, shared_case, knp_coordinator):
    response = api(knp_coordinator).get(_url(shared_case, "graphml") + "?kind=person")
    assert response.status_code == 400


# --- import -------------------------------------------------------------------------


def test_a_valid_file_is_recorded_and_reported(api, shared_case, knp_coordinator):
    response = _post(api(knp_coordinator), shared_case, (HEADER + GOOD).encode())
    assert response.status_code == 201, response.content
    report = response.json()
    assert (report["imported"], report["identifiers_created"]) == (1, 2)
    assert Transaction.objects.filter(case=shared_case).count() == 1


def test_a_check_answers_200_with_the_preview_and_records_nothing(
    api, shared_case, knp_coordinator
):
    with unchanged():
        response = _post(api(knp_coordinator), shared_case, (HEADER + GOOD).encode(), dry_run=True)
    assert response.status_code == 200, response.content
    assert response.json()["preview"][0]["to_value"] == TRON_WALLET
    assert not Identifier.objects.filter(case=shared_case).exists()


def test_bad_rows_are_a_400_naming_each_row_and_column(api, shared_case, knp_coordinator):
    with unchanged():
        response = _post(api(knp_coordinator), shared_case, (HEADER + GOOD + BAD + BAD).encode())
    assert response.status_code == 400
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["rows.3.amount", "rows.4.amount"]
    assert not Identifier.objects.filter(case=shared_case).exists()


def test_a_wrong_header_is_a_400_on_the_file(api, shared_case, knp_coordinator):
    response = _post(api(knp_coordinator), shared_case, b"date,from,to,amount\n1,2,3,4\n")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"


def test_a_file_that_is_not_utf8_is_a_400_on_the_file(api, shared_case, knp_coordinator):
    body = HEADER.encode() + "2025-03-01,bank_account,계좌".encode("euc-kr") + b"\n"
    response = _post(api(knp_coordinator), shared_case, body)
    assert response.status_code == 400
    assert "UTF-8" in response.json()["errors"][0]["detail"]


def test_an_outsider_gets_404_and_nothing_changes(api, shared_case, outsider):
    with unchanged():
        response = _post(api(outsider), shared_case, (HEADER + GOOD).encode())
    assert response.status_code == 404


def test_a_read_only_participant_gets_403_and_nothing_changes(api, shared_case, kh_viewer):
    with unchanged():
        response = _post(api(kh_viewer), shared_case, (HEADER + GOOD).encode())
    assert response.status_code == 403
    assert not Identifier.objects.filter(case=shared_case).exists()
