"""In Chromium, by clicks: a KR-KNP coordinator downloads AMBER evidence
uploaded by KH-CCOS, gives a purpose, and finds it on the chain of custody."""

from __future__ import annotations

import pytest

from agencies.choices import Role
from cases import services
from cases.choices import AccessLevel, HandlingCode
from tests.admin.test_browser import Session, browser  # noqa: F401 (the fixture)
from tests.factories import make_agency, make_case, make_document, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PURPOSE = "Annex to the MLA request for the Phnom Penh bank records"


def test_coordinator_downloads_amber_evidence_giving_a_purpose(browser, live_server):  # noqa: F811
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR",
                      timezone="Asia/Seoul")  # fmt: skip
    ccos = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    coordinator = make_user(knp, Role.COORDINATOR, "knp.coordinator")
    investigator = make_user(ccos, Role.INVESTIGATOR, "kh.investigator")
    case = make_case(coordinator, title="Golden Fortune compound")
    services.share_case(actor=coordinator, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    doc = make_document(investigator, case, title="Seized ledger", handling_code=HandlingCode.AMBER)

    session = Session(browser, live_server, coordinator, "knp-download")
    page = session.page
    page.click(".app-cases a[href$='/admin/cases/document/']")
    page.click(f"#result_list a:has-text('{doc.title}')")
    page.click("#document-download")
    page.fill("#id_purpose", PURPOSE)
    session.shot("evidence-01-purpose")
    with page.expect_download() as download:
        page.click("#download-submit")
    assert download.value.suggested_filename == doc.original_name
    page.click("#document-custody")
    report = page.inner_text("body")
    session.shot("evidence-02-custody")
    assert PURPOSE in report and "knp.coordinator" in report
    assert "Asia/Seoul" in report
    assert doc.custody_events.get(action="download").purpose == PURPOSE
    session.close()
