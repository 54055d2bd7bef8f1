"""`/api/v1/documents/` and `/api/v1/audit-events/`: the same rules as the services,
the same refusals, nothing leaked to an agency the case was not shared with."""

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import services as audit
from audit.models import AuditEvent
from cases.choices import HandlingCode
from cases.models import Document
from gate.roles import Role
from tests.factories import make_user

from .conftest import LIMIT, pdf_bytes, stored_files
from .test_views import BOUNDARY, _multipart

URL = "/api/v1/documents/"


@pytest.fixture(autouse=True)
def _api_test_settings(settings):
    """No throttling left over from other tests, no clock-skew margin to wait out."""
    from django.core.cache import cache

    cache.clear()
    settings.API_SYNC_CLOCK_MARGIN = 0


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def _upload(client, case, name="statement.pdf", data=None, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    payload = {
        "case": str(case.public_id),
        "title": "Bank statement",
        "handling_code": "GREEN",
        "file": SimpleUploadedFile(name, pdf_bytes() if data is None else data),
        **extra,
    }
    return client.post(URL, payload, format="multipart")


def _nothing_stored(evidence_root):
    assert Document.objects.count() == 0
    assert stored_files(evidence_root) == []


def test_upload_returns_the_record_with_its_hash(api, kh_investigator, shared_case):
    data = pdf_bytes(30_000)
    response = _upload(api(kh_investigator), shared_case, data=data)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["case"] == str(shared_case.public_id)
    assert body["agency"] == "KH-CCOS"
    assert response["Location"].endswith(f"/api/v1/documents/{body['id']}/")


@pytest.mark.parametrize(
    ("name", "data", "status", "fragment"),
    [
        ("big.pdf", pdf_bytes(LIMIT + 1), 413, "limit"),
        ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 300, 400, "Executable"),
        ("empty.pdf", b"", 400, "empty"),
    ],
    ids=["oversized", "exe-renamed-pdf", "empty"],
)
def test_bad_uploads_are_refused_and_store_nothing(
    api, kh_investigator, shared_case, evidence_root, name, data, status, fragment
):
    response = _upload(api(kh_investigator), shared_case, name=name, data=data)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert fragment in str(response.json())
    _nothing_stored(evidence_root)


@pytest.mark.parametrize("truncate", [True, False], ids=["truncated-body", "path-name"])
def test_hand_built_bad_multipart_is_refused(
    api, kh_investigator, shared_case, evidence_root, truncate
):
    if truncate:
        body = _multipart(shared_case, "statement.pdf", pdf_bytes(30_000), close=False)[:-500]
    else:
        body = _multipart(shared_case, "../../etc/passwd", b"root:x:0:0:root\n")
    response = api(kh_investigator).generic(
        "POST", URL, body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 400
    assert any(e["field"] == "file" for e in response.json()["errors"])
    _nothing_stored(evidence_root)


def test_outsider_cannot_upload_to_an_unshared_case(api, outsider, shared_case, evidence_root):
    response = _upload(api(outsider), shared_case)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "case"
    _nothing_stored(evidence_root)


def test_outsider_sees_no_document_anywhere(api, outsider, upload):
    doc = upload()
    client = api(outsider)
    assert client.get(URL).json()["results"] == []
    for suffix in ("", "download/", "custody/"):
        response = client.get(f"{URL}{doc.public_id}/{suffix}")
        assert response.status_code == 404, suffix
        assert doc.title not in response.content.decode()
    assert doc.custody_events.count() == 1
    refused = AuditEvent.objects.filter(action="permission_refused", actor=outsider)
    assert refused.count() == 3


def test_participant_lists_retrieves_and_downloads(api, kh_viewer, upload):
    data = pdf_bytes(12_345)
    doc = upload(data)
    client = api(kh_viewer)
    assert [d["id"] for d in client.get(URL).json()["results"]] == [str(doc.public_id)]
    assert client.get(f"{URL}{doc.public_id}/").json()["sha256"] == doc.sha256
    response = client.get(f"{URL}{doc.public_id}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Digest"] == f"sha-256={doc.sha256}"


def test_amber_download_needs_a_purpose(api, kh_viewer, upload):
    doc = upload(handling_code=HandlingCode.AMBER)
    client = api(kh_viewer)
    assert client.get(f"{URL}{doc.public_id}/download/").status_code == 400
    response = client.post(
        f"{URL}{doc.public_id}/download/", {"purpose": "court annex"}, format="json"
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert doc.custody_events.get(action="download").purpose == "court annex"


def test_tampered_file_download_is_409(api, kh_viewer, upload, evidence_root):
    doc = upload()
    (evidence_root / doc.storage_path).write_bytes(b"%PDF-1.7 forged")
    response = api(kh_viewer).get(f"{URL}{doc.public_id}/download/")
    assert response.status_code == 409
    assert response.json()["code"] == "integrity_failure"
    assert doc.custody_events.filter(action="integrity_failure").count() == 1


def test_custody_endpoint_lists_events(api, kh_viewer, upload):
    doc = upload()
    body = api(kh_viewer).get(f"{URL}{doc.public_id}/custody/").json()
    assert body["document"]["id"] == str(doc.public_id)
    assert [e["action"] for e in body["events"]] == ["upload"]


def test_documents_are_immutable_through_the_api(api, kh_investigator, upload):
    doc = upload()
    client = api(kh_investigator)
    assert client.patch(f"{URL}{doc.public_id}/", {"title": "x"}).status_code == 405
    assert client.delete(f"{URL}{doc.public_id}/").status_code == 405


# --- audit events -------------------------------------------------------------

AUDIT_URL = "/api/v1/audit-events/"


@pytest.fixture
def trail(knp_coordinator, outsider):
    audit.record(action="update", actor=knp_coordinator, object_type="cases.case", object_id="K1")
    audit.record(action="share", actor=knp_coordinator, object_type="cases.case", object_id="K2")
    audit.record(action="update", actor=outsider, object_type="cases.case", object_id="U1")


def test_agency_admin_lists_only_their_agencys_events(api, knp, trail):
    body = api(make_user(knp, Role.AGENCY_ADMIN)).get(AUDIT_URL).json()
    ids = [e["object_id"] for e in body["results"]]
    assert ids.index("K2") < ids.index("K1")  # newest first
    assert "U1" not in ids
    assert {e["agency"] for e in body["results"]} == {"KR-KNP"}


def test_audit_events_filter_by_action_actor_and_object(api, knp, knp_coordinator, trail):
    client = api(make_user(knp, Role.AGENCY_ADMIN))
    by_action = client.get(AUDIT_URL, {"action": "share"}).json()["results"]
    assert [e["object_id"] for e in by_action] == ["K2"]
    by_actor = client.get(AUDIT_URL, {"actor": knp_coordinator.username}).json()["results"]
    assert len(by_actor) == 2
    assert client.get(AUDIT_URL, {"object_id": "U1"}).json()["results"] == []


def test_non_admins_read_no_audit_events(api, knp_coordinator, trail):
    assert api(knp_coordinator).get(AUDIT_URL).json()["results"] == []


def test_audit_csv_export_is_scoped_and_audited(api, knp, trail):
    admin_user = make_user(knp, Role.AGENCY_ADMIN)
    response = api(admin_user).get(f"{AUDIT_URL}export/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "K1" in body and "K2" in body and "U1" not in body
    assert AuditEvent.objects.filter(action="export", actor=admin_user).count() == 1


def test_the_document_list_costs_the_same_queries_whatever_its_cases(
    api, upload, knp_coordinator, kh_investigator, ccos, django_assert_num_queries
):
    """Whether the reader sees each document's case is asked in the list's
    query (`access.listed_documents`), not once per case on the page."""
    from cases import services
    from cases.choices import AccessLevel

    upload()
    client = api(kh_investigator)
    client.get("/api/v1/documents/")  # the token's last-used stamp, once a minute
    with CaptureQueriesContext(connection) as one_case:
        assert len(client.get("/api/v1/documents/").json()["results"]) == 1
    for i in range(3):
        case = services.create_case(actor=knp_coordinator, title=f"Other {i}")
        services.share_case(
            actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE
        )
        upload(case=case)
    with django_assert_num_queries(len(one_case.captured_queries)):
        response = client.get("/api/v1/documents/")
    assert [row["case"] is not None for row in response.json()["results"]] == [True] * 4
