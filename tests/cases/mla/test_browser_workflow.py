"""An MLA request by clicks in Chromium: KR-KNP drafts a bank-records and
subscriber-data request, is told what is missing, completes it and submits;
KH-MOJ acknowledges it. Screenshots go to test-results/admin-browser/."""

from __future__ import annotations

import pytest

from cases.choices import MLAStatus
from cases.models import MLARequest
from tests.browser import RESULTS, Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_draft_submit_and_acknowledge_by_clicks(
    browser,
    live_server,
    case,
    kh_moj,
    knp_coordinator,
    moj_coordinator,
):
    knp = Session(browser, live_server, knp_coordinator, "mla-knp")
    page = knp.page
    knp.goto(f"/admin/cases/mlarequest/add/?case={case.pk}")
    page.select_option("#id_requested_agency", str(kh_moj.pk))
    page.select_option("#id_legal_basis", "untoc")
    page.select_option("#id_language", "ko")
    page.fill("#id_facts", "Victims in Seoul wired USDT to a platform run from Sihanoukville.")
    page.fill("#id_offences", "Fraud (Criminal Act art. 347), up to 10 years.")
    page.fill("#id_assistance_sought", "Bank statements and subscriber data.")
    page.check("input[name=assistance_types][value=bank_records]")
    page.check("input[name=assistance_types][value=subscriber_data]")
    # Only the chosen types' sections are shown.
    assert page.is_hidden("fieldset.mla-section-witness_statement")
    page.fill("#id_bank_records__bank_identifiers", "ACLEDA Bank Plc (ACLBKHPP)")
    page.fill("#id_bank_records__account_identifiers", "KH-ACLEDA-0012345678")
    page.fill("#id_bank_records__period_start", "2025-01-01")
    page.fill("#id_subscriber_data__identifiers", "+855 12 345 678")
    knp.shot("mla-01-draft")
    page.click("input[name=_continue]")

    # Told what is missing, in words.
    missing = page.inner_text("#mla-missing")
    assert "Bank records — Period to" in missing
    assert "Subscriber or traffic data — Time window from" in missing
    knp.shot("mla-02-missing")
    page.fill("#id_bank_records__period_end", "2025-06-30")
    # With unsaved edits, the steps wait for the draft to be saved.
    assert page.is_disabled("#mla-verb-submit")
    page.fill("#id_subscriber_data__period_start", "2025-01-01")
    page.fill("#id_subscriber_data__period_end", "2025-06-30")
    page.click("input[name=_continue]")
    page.wait_for_selector("ul.messagelist")
    assert page.query_selector("#mla-missing") is None

    page.click("#mla-verb-submit")
    page.wait_for_selector("ul.messagelist .success")
    assert "KR-KNP submitted the request" in page.inner_text("ul.messagelist")
    knp.shot("mla-03-submitted")
    request = MLARequest.objects.get(case=case)
    assert request.status == MLAStatus.SUBMITTED
    knp.close()

    moj = Session(browser, live_server, moj_coordinator, "mla-moj")
    moj.goto("/admin/cases/mlarequest/")
    moj.page.click(f"a:has-text('{request.requesting_agency.code} → {kh_moj.code}')")
    assert "ACLEDA Bank Plc (ACLBKHPP)" in moj.page.inner_text("#content-main")
    moj.shot("mla-04-received")
    moj.page.click("#mla-verb-acknowledge")
    moj.page.wait_for_selector("ul.messagelist .success")
    assert "KH-MOJ acknowledged receipt" in moj.page.inner_text("ul.messagelist")
    assert "KH-MOJ acknowledged receipt" in moj.page.inner_text("#content-main")
    moj.shot("mla-05-acknowledged")
    assert MLARequest.objects.get(pk=request.pk).status == MLAStatus.ACKNOWLEDGED

    # A step that needs text opens its own page asking for it.
    moj.page.click("#mla-verb-request-more-info")
    moj.page.fill("#id_comment", "Which branch opened the account?")
    moj.shot("mla-06-question")
    moj.page.click("#mla-transition-confirm")
    moj.page.wait_for_selector("ul.messagelist .success")
    assert "KH-MOJ asked for more information: Which branch opened the account?" in (
        moj.page.inner_text("#content-main")
    )
    assert MLARequest.objects.get(pk=request.pk).status == MLAStatus.MORE_INFO_REQUESTED
    with moj.page.expect_popup() as popup:
        moj.page.click("#mla-letter-link")
    letter = popup.value
    letter.wait_for_load_state()
    assert letter.locator("html[lang=ko]").count() == 1
    letter.screenshot(path=str(RESULTS / "mla-07-letter-ko.png"), full_page=True)
    moj.close()
