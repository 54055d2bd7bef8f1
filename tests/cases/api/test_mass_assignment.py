"""Mass assignment: no serializer lets a client set what the server owns.

Each write sends one forbidden field (alone, or beside a legitimate change);
whatever the answer (ignored or 400), the stored row must not take it.
"""

import uuid

import pytest
from rest_framework.test import APIClient

from cases.models import Case, Note, Task

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _case_state(case: Case) -> dict:
    case.refresh_from_db()
    return {
        "lead_agency_id": case.lead_agency_id,
        "created_by_id": case.created_by_id,
        "status": case.status,
        "public_id": case.public_id,
        "reference": case.reference,
    }


def _patch_case(user, case, body):
    return api(user).patch(
        f"/api/v1/cases/{case.public_id}/", body, format="json", HTTP_IF_MATCH=f'"{case.version}"'
    )


FORBIDDEN_CASE_FIELDS = {
    "lead_agency": "KH-CCOS",
    "lead_agency_id": 1,
    "created_by": 1,
    "created_by_id": 1,
    "status": "archived",
    "version": 99,
    "id": str(uuid.uuid4()),
    "public_id": str(uuid.uuid4()),
    "reference": "KR-KNP-2000-00001",
}


@pytest.mark.parametrize(("field", "value"), FORBIDDEN_CASE_FIELDS.items())
def test_case_patch_cannot_set_server_owned_fields(shared_case, knp_coordinator, field, value):
    before = _case_state(shared_case)
    version = shared_case.version
    response = _patch_case(knp_coordinator, shared_case, {field: value, "title": "Renamed"})
    assert response.status_code in (200, 400)
    assert _case_state(shared_case) == before
    assert shared_case.version in (version, version + 1)


@pytest.mark.parametrize(("field", "value"), FORBIDDEN_CASE_FIELDS.items())
def test_case_create_cannot_set_server_owned_fields(knp_coordinator, kh_coordinator, field, value):
    body = {"title": "New case", "crime_types": ["other"], field: value}
    response = api(knp_coordinator).post("/api/v1/cases/", body, format="json")
    if response.status_code == 400:
        return
    assert response.status_code == 201, response.content
    case = Case.objects.get(public_id=response.json()["id"])
    assert case.lead_agency.code == "KR-KNP"
    assert case.created_by_id == knp_coordinator.pk
    assert case.status == "open"
    assert case.version == 1
    assert str(case.public_id) != value
    assert case.reference != "KR-KNP-2000-00001"


def test_partner_agency_cannot_take_the_lead_through_patch(shared_case, kh_investigator):
    before = _case_state(shared_case)
    response = _patch_case(kh_investigator, shared_case, {"lead_agency": "KH-CCOS"})
    assert response.status_code in (200, 400, 403)
    assert _case_state(shared_case) == before


def test_status_cannot_skip_the_workflow(case, knp_coordinator):
    response = api(knp_coordinator).post(
        f"/api/v1/cases/{case.public_id}/status/",
        {"status": "archived"},
        format="json",
        HTTP_IF_MATCH=f'"{case.version}"',
    )
    assert response.status_code in (400, 409)
    case.refresh_from_db()
    assert case.status == "open"


@pytest.mark.parametrize(
    ("field", "value"),
    [("case", None), ("created_by", 1), ("version", 99), ("id", str(uuid.uuid4()))],
)
def test_task_patch_cannot_set_server_owned_fields(task, knp_coordinator, case, field, value):
    before = (task.case_id, task.created_by_id, task.public_id)
    version = task.version
    response = api(knp_coordinator).patch(
        f"/api/v1/tasks/{task.public_id}/",
        {field: value, "title": "Trace wallets again"},
        format="json",
        HTTP_IF_MATCH=f'"{task.version}"',
    )
    assert response.status_code in (200, 400)
    task.refresh_from_db()
    assert (task.case_id, task.created_by_id, task.public_id) == before
    assert task.version in (version, version + 1)


def test_investigator_cannot_reopen_a_finished_task(task, kh_investigator):
    """Reopening is a coordinator's decision (cases.services.update_task)."""
    Task.objects.filter(pk=task.pk).update(status="cancelled")
    response = api(kh_investigator).patch(
        f"/api/v1/tasks/{task.public_id}/",
        {"status": "in_progress"},
        format="json",
        HTTP_IF_MATCH=f'"{task.version}"',
    )
    assert response.status_code in (400, 409)
    task.refresh_from_db()
    assert task.status == "cancelled"


@pytest.mark.parametrize("field", ["agency", "author", "created_at"])
def test_note_cannot_be_written_in_another_agencys_name(shared_case, kh_investigator, field):
    value = {"agency": "KR-KNP", "author": 1, "created_at": "2000-01-01T00:00:00Z"}[field]
    response = api(kh_investigator).post(
        "/api/v1/notes/",
        {"case": str(shared_case.public_id), "body": "Wallet seen in Phnom Penh.", field: value},
        format="json",
    )
    if response.status_code == 400:
        assert not Note.objects.filter(author=kh_investigator).exists()
        return
    assert response.status_code == 201, response.content
    note = Note.objects.get(public_id=response.json()["id"])
    assert note.agency.code == "KH-CCOS"
    assert note.author_id == kh_investigator.pk
    assert note.created_at.year > 2000


# --- evidence documents: the hash and custody are the server's ------------------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 2048


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sha256", "0" * 64),
        ("size", 1),
        ("uploaded_by", 1),
        ("agency", "KR-KNP"),
        ("version", 7),
        ("id", str(uuid.uuid4())),
    ],
)
def test_document_upload_cannot_set_server_owned_fields(
    settings, tmp_path, shared_case, kh_investigator, field, value
):
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.models import Document

    settings.MEDIA_ROOT = str(tmp_path)
    response = api(kh_investigator).post(
        "/api/v1/documents/",
        {
            "case": str(shared_case.public_id),
            "title": "Bank statement",
            "handling_code": "GREEN",
            "file": SimpleUploadedFile("statement.pdf", PDF),
            field: value,
        },
        format="multipart",
    )
    if response.status_code == 400:
        assert not Document.objects.exists()
        return
    assert response.status_code == 201, response.content
    doc = Document.objects.get(public_id=response.json()["id"])
    assert doc.sha256 == hashlib.sha256(PDF).hexdigest()
    assert doc.size == len(PDF)
    assert doc.uploaded_by_id == kh_investigator.pk
    assert str(doc.public_id) != value


# --- MLA requests: sides and states are the server's ------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("requesting_agency", "KH-CCOS"),
        ("status", "executed"),
        ("created_by", 1),
        ("version", 9),
        ("id", str(uuid.uuid4())),
    ],
)
def test_mla_request_create_cannot_set_server_owned_fields(
    case, knp_coordinator, ccos, field, value
):
    from cases.models import MLARequest

    response = api(knp_coordinator).post(
        "/api/v1/mla-requests/",
        {
            "case": str(case.public_id),
            "requested_agency": "KH-CCOS",
            "legal_basis": "reciprocity",
            field: value,
        },
        format="json",
    )
    if response.status_code == 400:
        assert not MLARequest.objects.exists()
        return
    assert response.status_code == 201, response.content
    mla = MLARequest.objects.get(public_id=response.json()["id"])
    assert mla.requesting_agency.code == "KR-KNP"
    assert mla.status == "draft"
    assert mla.created_by_id == knp_coordinator.pk
    assert mla.version == 1
    assert str(mla.public_id) != value


def test_mla_request_baseline_payload_is_accepted(case, knp_coordinator, ccos):
    """Control for the test above: without the extra field the draft is created."""
    response = api(knp_coordinator).post(
        "/api/v1/mla-requests/",
        {"case": str(case.public_id), "requested_agency": "KH-CCOS", "legal_basis": "reciprocity"},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_document_baseline_upload_is_accepted(settings, tmp_path, shared_case, kh_investigator):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    response = api(kh_investigator).post(
        "/api/v1/documents/",
        {
            "case": str(shared_case.public_id),
            "title": "Bank statement",
            "handling_code": "GREEN",
            "file": SimpleUploadedFile("statement.pdf", PDF),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
