"""The admin's evidence upload opens a resumable upload for its script
(`upload/`), and lands on the document once the last chunk is in (`done/`)."""

import io

from django.urls import reverse

from cases import uploads
from cases.choices import HandlingCode
from tests.admin_client import login

from .conftest import pdf_bytes

START_URL = "/admin/cases/document/upload/"


def _fields(case, **extra):
    return {
        "case": case.pk,
        "title": "Bank statement",
        "description": "",
        "handling_code": HandlingCode.GREEN,
        "handling_instruction": "H0",
        "handling_restriction": "",
        "file_name": "statement.pdf",
        "file_size": "5000",
        **extra,
    }


def test_the_add_page_carries_the_chunked_upload_script(kh_investigator, shared_case):
    page = login(kh_investigator).get(f"/admin/cases/document/add/?case={shared_case.pk}")
    body = page.content.decode()
    assert "casebridge/uploads.js" in body
    assert 'id="cb-resumable"' in body and 'name="file"' in body  # the form still posts a file


def test_start_opens_an_upload_with_the_api_address(kh_investigator, shared_case):
    response = login(kh_investigator).post(START_URL, _fields(shared_case))
    assert response.status_code == 201
    upload = uploads.EvidenceUpload.objects.get()
    assert (upload.length, upload.original_name, upload.case) == (
        5000,
        "statement.pdf",
        shared_case,
    )
    assert response.json()["location"] == f"/api/v1/uploads/{upload.public_id}/"


def test_start_answers_the_form_errors_by_field(kh_investigator, shared_case):
    response = login(kh_investigator).post(
        START_URL, _fields(shared_case, title="", file_name="../etc/passwd")
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title"}
    path = login(kh_investigator).post(START_URL, _fields(shared_case, file_name="../x.pdf"))
    assert path.json()["errors"]["file"] == ["The file name must not contain a path."]
    assert not uploads.EvidenceUpload.objects.exists()


def test_a_viewer_cannot_start_an_upload(kh_viewer, shared_case):
    assert login(kh_viewer).post(START_URL, _fields(shared_case)).status_code in (403, 404)


def test_done_lands_on_the_new_document(kh_investigator, shared_case):
    upload = uploads.start_upload(
        actor=kh_investigator, case=shared_case, length=4096, name="s.pdf", title="Statement"
    )
    uploads.append_chunk(
        actor=kh_investigator, upload=upload, offset=0, stream=io.BytesIO(pdf_bytes()), length=4096
    )
    client = login(kh_investigator)
    response = client.get(reverse("admin:cases_document_upload_done", args=[upload.public_id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_document_change", args=[upload.document.pk])


def test_done_of_someone_elses_upload_is_404(kh_investigator, knp_coordinator, shared_case):
    upload = uploads.start_upload(
        actor=kh_investigator, case=shared_case, length=4096, name="s.pdf", title="Statement"
    )
    response = login(knp_coordinator).get(
        reverse("admin:cases_document_upload_done", args=[upload.public_id])
    )
    assert response.status_code == 404
