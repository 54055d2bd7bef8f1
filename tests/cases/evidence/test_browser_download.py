"""In Chromium, by clicks: a KR-KNP coordinator downloads AMBER evidence
uploaded by KH-CCOS, gives a purpose, and finds it on the chain of custody.

The browser is the session's one Chromium (the `browser` fixture, tests/browser.py).
"""

from __future__ import annotations

import pytest

from cases import services
from cases.choices import AccessLevel, HandlingCode
from gate.roles import Role
from tests.browser import Session
from tests.factories import make_agency, make_case, make_document, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PURPOSE = "Annex to the MLA request for the Phnom Penh bank records"


def _download_by_clicks(browser, live_server, user, doc) -> dict:
    session = Session(browser, live_server, user, "knp-download")
    page = session.page
    page.click(".app-cases a[href$='/admin/cases/document/']")
    page.click(f"#result_list a:has-text('{doc.title}')")
    page.click("#document-download")
    page.fill("#id_purpose", PURPOSE)
    session.shot("evidence-01-purpose")
    with page.expect_download() as download:
        page.click("#download-submit")
    page.click("#document-custody")
    session.shot("evidence-02-custody")
    result = {
        "filename": download.value.suggested_filename,
        "report": page.inner_text("body"),
    }
    session.close()
    return result


def test_coordinator_downloads_amber_evidence_giving_a_purpose(
    browser, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR",
                      timezone="Asia/Seoul")  # fmt: skip
    ccos = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    coordinator = make_user(knp, Role.COORDINATOR, "knp.coordinator")
    investigator = make_user(ccos, Role.INVESTIGATOR, "kh.investigator")
    case = make_case(coordinator, title="Golden Fortune compound")
    services.share_case(actor=coordinator, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    doc = make_document(investigator, case, title="Seized ledger", handling_code=HandlingCode.AMBER)

    result = _download_by_clicks(browser, live_server, coordinator, doc)

    assert result["filename"] == doc.original_name
    assert PURPOSE in result["report"] and "knp.coordinator" in result["report"]
    assert "Asia/Seoul" in result["report"]
    assert doc.custody_events.get(action="download").purpose == PURPOSE
