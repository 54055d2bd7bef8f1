"""The search box in a real browser (Debian's Chromium through Playwright).

A KH-CCOS investigator types a Korean name into the header's box on the case
workspace and sees the journal entry, the name highlighted, and opens it;
a UNODC coordinator typing the same finds nothing. Screenshots go to
test-results/.
"""

from __future__ import annotations

import pytest

from cases import services
from cases.choices import AccessLevel
from gate.roles import Role
from tests.browser import Session
from tests.factories import make_agency, make_case, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR")
    ccos = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    unodc = make_agency("UNODC", name="UNODC", country="INT", kind="international")
    lead = make_user(knp, Role.COORDINATOR, "knp.coordinator")
    case = make_case(lead, title="Golden Fortune compound")
    services.share_case(actor=lead, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    note = services.add_note(actor=lead, case=case, body="피해자 김민수 진술 확보 <b>not bold</b>")
    return {
        "case": case,
        "note": note,
        "kh": make_user(ccos, Role.INVESTIGATOR, "kh.investigator"),
        "unodc": make_user(unodc, Role.COORDINATOR, "unodc.coordinator"),
    }


def test_an_investigator_types_a_name_and_sees_it_highlighted(browser, live_server, world):
    case = world["case"]
    kh = Session(browser, live_server, world["kh"], "kh-search")
    kh.goto(f"/admin/cases/case/{case.pk}/change/")
    kh.page.fill("#cb-search-q", "김민")
    kh.page.press("#cb-search-q", "Enter")
    kh.page.wait_for_selector("#cb-search-results")
    kh.shot("search-01-results")
    hit = kh.page.locator("li.cb-search-note")
    assert hit.locator("mark").inner_text() == "김민"
    # Stored markup is shown as text, never rendered.
    assert "<b>not bold</b>" in hit.locator(".cb-search-snippet").inner_text()
    assert hit.locator(".cb-search-snippet b").count() == 0
    assert case.reference in hit.inner_text()
    hit.locator("a.cb-search-open").click()
    kh.page.wait_for_url(f"**/admin/cases/case/{case.pk}/change/#journal")
    assert kh.page.locator("#cb-journal").is_visible()
    kh.shot("search-02-opened")
    kh.close()


def test_an_outsider_finds_nothing(browser, live_server, world):
    case = world["case"]
    un = Session(browser, live_server, world["unodc"], "unodc-search")
    un.page.fill("#cb-search-q", "김민")
    un.page.press("#cb-search-q", "Enter")
    un.page.wait_for_selector("#cb-search-empty")
    un.shot("search-03-outsider")
    content = un.page.content()
    assert case.reference not in content and "김민수" not in content
    un.close()


@pytest.mark.parametrize(("language", "heading"), [("ko", "검색"), ("km", "ស្វែងរក")])
def test_the_search_page_in_the_members_language_finds_the_note(
    browser, live_server, world, language, heading
):
    membership = world["kh"].membership
    membership.language = language
    membership.save(update_fields=["language"])
    kh = Session(browser, live_server, world["kh"], f"kh-search-{language}")
    kh.page.fill("#cb-search-q", "진술")
    kh.page.press("#cb-search-q", "Enter")
    kh.page.wait_for_selector("#cb-search-results")
    assert kh.page.inner_text("h1") == heading
    assert kh.page.locator("#cb-search-results mark").first.inner_text() == "진술"
    kh.shot(f"search-04-{language}")
    kh.close()
