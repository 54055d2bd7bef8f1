"""Evidence and audit pages in the admin: upload through the service, read-only
records, custody report, agency-scoped audit trail with CSV export."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit import services as audit
from audit.models import AuditEvent
from cases.choices import HandlingCode
from cases.models import Document
from gate.roles import Role
from tests.admin_client import login
from tests.factories import make_user

from .conftest import pdf_bytes, stored_files

ADD_URL = "/admin/cases/document/add/"


def _form(case, name="statement.pdf", data=None, **extra):
    return {
        "case": case.pk,
        "title": "Bank statement",
        "description": "",
        "handling_code": HandlingCode.GREEN,
        "handling_instruction": "H0",
        "handling_restriction": "",
        "file": SimpleUploadedFile(name, pdf_bytes() if data is None else data),
        **extra,
    }


def test_investigator_uploads_evidence_from_the_admin(kh_investigator, shared_case):
    response = login(kh_investigator).post(ADD_URL, _form(shared_case))
    assert response.status_code == 302, response.context["adminform"].form.errors
    doc = Document.objects.get()
    assert doc.uploaded_by == kh_investigator and doc.content_type == "application/pdf"


def test_admin_upload_of_an_exe_shows_the_error_and_stores_nothing(
    kh_investigator, shared_case, evidence_root
):
    response = login(kh_investigator).post(
        ADD_URL, _form(shared_case, "invoice.pdf", b"MZ\x90\x00" + b"\x00" * 300)
    )
    assert response.status_code == 200
    assert "Executable" in response.content.decode()
    assert Document.objects.count() == 0
    assert stored_files(evidence_root) == []
    assert not LogEntry.objects.exists()


def test_document_page_is_read_only_with_custody_link(kh_investigator, upload):
    doc = upload()
    client = login(kh_investigator)
    page = client.get(reverse("admin:cases_document_change", args=[doc.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert doc.sha256 in body and 'name="title"' not in body
    custody = client.get(reverse("admin:cases_document_custody", args=[doc.pk]))
    assert custody.status_code == 200 and doc.sha256 in custody.content.decode()


@pytest.mark.parametrize("name", ["change", "custody", "history", "delete"])
def test_outsider_gets_404_on_every_document_page(outsider, upload, name):
    doc = upload()
    client = login(outsider)
    response = client.get(reverse(f"admin:cases_document_{name}", args=[doc.pk]))
    assert response.status_code == 404
    assert doc.title not in response.content.decode()


def test_outsider_document_list_and_search_show_nothing(outsider, upload):
    doc = upload()
    client = login(outsider)
    response = client.get("/admin/cases/document/", {"q": doc.sha256[2:-2]})
    assert response.status_code == 200
    assert doc.sha256 not in response.content.decode()
    assert doc.title not in client.get("/admin/cases/document/").content.decode()


# --- audit trail ------------------------------------------------------------


@pytest.fixture
def trail(knp_coordinator, outsider):
    mine = audit.record(action="update", actor=knp_coordinator, object_type="x", object_id="KNP1")
    theirs = audit.record(action="update", actor=outsider, object_type="x", object_id="UNODC1")
    return mine, theirs


def test_agency_admin_reads_only_their_agencys_trail(knp, trail):
    _mine, theirs = trail
    client = login(make_user(knp, Role.AGENCY_ADMIN))
    body = client.get("/admin/audit/auditevent/").content.decode()
    assert "KNP1" in body and "UNODC1" not in body
    url = reverse("admin:audit_auditevent_change", args=[theirs.pk])
    assert client.get(url).status_code == 404


def test_coordinator_cannot_open_the_audit_trail(knp_coordinator, trail):
    response = login(knp_coordinator).get("/admin/audit/auditevent/")
    assert response.status_code == 403


def test_agency_admin_exports_their_trail_as_csv(knp, trail):
    mine, theirs = trail
    admin_user = make_user(knp, Role.AGENCY_ADMIN)
    response = login(admin_user).post(
        "/admin/audit/auditevent/",
        {"action": "export_csv", "_selected_action": [mine.pk, theirs.pk]},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "KNP1" in body and "UNODC1" not in body
    assert AuditEvent.objects.filter(action="export", actor=admin_user).count() == 1
