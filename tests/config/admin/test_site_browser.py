"""The site in a real browser: Khmer and Korean screens render with the fonts shipped in
cases/static/casebridge/fonts/, not with whatever the viewer's machine has (Chromium is asked
which font drew the heading); the language is chosen on the login page by clicks."""

from __future__ import annotations

import pytest

from gate.roles import Role
from tests.browser import RESULTS, Session
from tests.factories import make_agency, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fonts_drawing(page, selector: str) -> dict[str, bool]:
    """The fonts Chromium used for the text of `selector`: {family: is a webfont}."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {font["familyName"]: font["isCustomFont"] for font in fonts}


@pytest.mark.parametrize(
    ("language", "face", "family"),
    [
        ("km", "Casebridge Khmer", "Noto Sans Khmer"),
        ("ko", "Casebridge Hangul", "Casebridge Hangul"),
    ],
)
def test_khmer_and_korean_are_drawn_with_the_shipped_fonts(
    browser,
    live_server,
    language,
    face,
    family,
):
    agency = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    user = make_user(agency, Role.INVESTIGATOR, f"fonts.{language}")
    user.membership.language = language
    user.membership.save(update_fields=["language"])
    session = Session(browser, live_server, user, f"fonts-{language}")
    session.page.wait_for_function("document.fonts.status === 'loaded'")
    session.shot(f"fonts-{language}")
    status = session.page.evaluate(
        "Array.from(document.fonts).map(f => [f.family, f.weight, f.status])"
    )
    assert [face.strip('"'), "400", "loaded"] in [
        [family.strip('"'), weight, state] for family, weight, state in status
    ], status
    # Chromium's own account of the font that drew the heading: the webfont.
    assert fonts_drawing(session.page, "h1").get(family) is True
    session.close()


def test_a_reader_picks_korean_on_the_login_page_before_signing_in(
    browser,
    live_server,
):
    context = browser.new_context(locale="km-KH")
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.wait_for_url(f"{live_server.url}/admin/login/?next=/admin/")
    assert page.get_attribute("html", "lang") == "km"
    options = page.locator("#cb-language option").all_inner_texts()
    assert options == ["English", "ខ្មែរ", "한국어"]
    page.select_option("#cb-language", "ko")
    page.click("#cb-language-submit")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "ko"
    assert page.url.endswith("/admin/login/?next=/admin/")
    assert page.input_value("#login-form input[type=submit]") == "로그인"
    page.screenshot(path=str(RESULTS / "login-language-ko.png"), full_page=True)
    context.close()
