"""The web download asks for a purpose where the handling code requires one;
upload from the case page; the custody report's times carry their zone."""

import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import HandlingCode
from cases.models import Document
from tests.admin_client import login

from .test_admin import _form


def _download_url(doc) -> str:
    return reverse("cases:document-download", args=[doc.public_id])


def test_amber_download_link_shows_a_purpose_form(knp_coordinator, upload):
    doc = upload(handling_code=HandlingCode.AMBER)
    response = login(knp_coordinator).get(_download_url(doc))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert 'name="purpose"' in response.content.decode()
    assert not doc.custody_events.filter(action="download").exists()


def test_purpose_form_downloads_and_records_the_purpose(knp_coordinator, upload):
    doc = upload(handling_code=HandlingCode.AMBER)
    response = login(knp_coordinator).post(_download_url(doc), {"purpose": "Court annex"})
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    event = doc.custody_events.get(action="download")
    assert event.purpose == "Court annex" and event.user == knp_coordinator


@pytest.mark.parametrize("purpose", ["", "   "])
def test_missing_purpose_reshows_the_form_with_an_error(knp_coordinator, upload, purpose):
    doc = upload(handling_code=HandlingCode.AMBER)
    response = login(knp_coordinator).post(_download_url(doc), {"purpose": purpose})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert 'class="errorlist' in body and '"errors"' not in body
    assert not doc.custody_events.filter(action="download").exists()


def test_green_download_needs_no_form(knp_coordinator, upload):
    doc = upload(handling_code=HandlingCode.GREEN)
    response = login(knp_coordinator).get(_download_url(doc))
    assert response.status_code == 200 and response.streaming


def test_outsider_gets_404_on_the_purpose_form(outsider, upload):
    doc = upload(handling_code=HandlingCode.AMBER)
    client = login(outsider)
    for response in (
        client.get(_download_url(doc)),
        client.post(_download_url(doc), {"purpose": "x"}),
    ):
        assert response.status_code == 404
        assert doc.title not in response.content.decode()
    assert not doc.custody_events.filter(action="download").exists()


def test_document_page_links_to_download_and_custody(knp_coordinator, upload):
    doc = upload(handling_code=HandlingCode.AMBER)
    body = login(knp_coordinator).get(reverse("admin:cases_document_change", args=[doc.pk]))
    html = body.content.decode()
    assert 'id="document-download"' in html and _download_url(doc) in html
    assert reverse("admin:cases_document_custody", args=[doc.pk]) in html


def test_custody_report_shows_the_readers_zone(knp_coordinator, upload):
    doc = upload()
    html = (
        login(knp_coordinator)
        .get(reverse("admin:cases_document_custody", args=[doc.pk]))
        .content.decode()
    )
    local = timezone.localtime(doc.created_at, timezone=zoneinfo.ZoneInfo("Asia/Seoul"))
    assert "Asia/Seoul" in html and "+0900" in html
    assert local.strftime("%Y-%m-%d %H:%M") in html
    assert " UTC" not in html


# --- upload from the case -----------------------------------------------------


@pytest.mark.parametrize("by", ["pk", "public_id"])
def test_upload_page_preselects_the_case(kh_investigator, shared_case, by):
    value = shared_case.pk if by == "pk" else shared_case.public_id
    response = login(kh_investigator).get("/admin/cases/document/add/", {"case": value})
    assert response.context["adminform"].form.initial["case"] == shared_case.pk


def test_upload_from_the_case_returns_to_the_case(kh_investigator, shared_case):
    response = login(kh_investigator).post(
        f"/admin/cases/document/add/?case={shared_case.pk}", _form(shared_case)
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_case_change", args=[shared_case.pk])
    assert Document.objects.get().case == shared_case


def test_upload_url_with_a_case_leads_to_the_upload_form(kh_investigator, shared_case):
    response = login(kh_investigator).get(
        reverse("cases:document-upload"), {"case": shared_case.public_id}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/cases/document/add/?case={shared_case.pk}"


def test_outsider_gets_no_case_preselected_and_404_on_the_upload_url(outsider, shared_case):
    client = login(outsider)
    page = client.get("/admin/cases/document/add/", {"case": shared_case.pk})
    assert "case" not in page.context["adminform"].form.initial
    assert shared_case.reference not in page.content.decode()
    response = client.get(reverse("cases:document-upload"), {"case": shared_case.public_id})
    assert response.status_code == 404


def test_integrity_failure_in_a_browser_is_a_page_not_json(knp_coordinator, upload, evidence_root):
    doc = upload()
    (evidence_root / doc.storage_path).write_bytes(b"%PDF-1.7 replaced")
    response = login(knp_coordinator).get(_download_url(doc), HTTP_ACCEPT="text/html")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    assert "integrity check" in response.content.decode()
