"""Khmer and Korean screens render with the fonts shipped in cases/static/casebridge/fonts/,
not with whatever the viewer's machine has (Chromium asked which font drew the heading)."""

from __future__ import annotations

import pytest

from agencies.choices import Role
from tests.admin.test_browser import RESULTS, Session, browser  # noqa: F401 - the fixture
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
    browser,  # noqa: F811 - the fixture imported above
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
