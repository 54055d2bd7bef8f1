"""The Statistics page in a real browser (Debian's Chromium through
Playwright), in English, Khmer and Korean.

KR-KNP's coordinator opens it from "My work", sees the bar charts of its
agency's cases (one count drawn; a small one and its complement shown as
"<5", with no bar) and no victim's name. Screenshots go to test-results/.
"""

from __future__ import annotations

import pytest

from cases import networks
from cases.choices import EntityKind, PersonRole
from gate.roles import Role
from tests.browser import Session
from tests.factories import make_agency, make_case, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADINGS = {
    "en": "Cases by crime type",
    "km": "សំណុំរឿងតាមប្រភេទឧក្រិដ្ឋកម្ម",
    "ko": "범죄 유형별 사건",
}


@pytest.fixture
def coordinator(db):
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR")
    lead = make_user(knp, Role.COORDINATOR, "knp.coordinator")
    cases = [make_case(lead, title=f"Compound case {i}") for i in range(7)]
    for i in range(6):
        make_case(lead, title=f"Laundering case {i}", crime_types=["money_laundering"])
    for i in range(2):
        make_case(lead, title=f"Trafficking case {i}", crime_types=["human_trafficking"])
    for i in range(5):
        networks.create_entity(
            actor=lead,
            case=cases[0],
            kind=EntityKind.PERSON,
            name=f"Kim Minji {i}",
            role=PersonRole.VICTIM,
            nationality="KR",
        )
    return lead


@pytest.mark.parametrize("language", ["en", "km", "ko"])
def test_a_coordinator_sees_the_charts(browser, live_server, coordinator, language):
    membership = coordinator.membership
    membership.language = language
    membership.save(update_fields=["language"])
    session = Session(browser, live_server, coordinator, f"statistics-{language}")
    session.page.click("#cb-statistics-link")
    chart = session.page.locator("#cb-chart-crime-types")
    chart.wait_for(state="visible")
    assert HEADINGS[language] in chart.inner_text()
    bars = chart.locator("svg.cb-bar")
    # Investment fraud (7) has its bar; trafficking (2) is suppressed, and so
    # is money laundering (6), which with the total would give the 2 back.
    assert bars.count() == 1
    box = bars.first.bounding_box()
    assert box is not None and box["width"] > 50
    assert chart.locator(".cb-suppressed").count() == 2
    assert session.page.locator("#cb-chart-nationalities svg.cb-bar").count() == 1
    assert "Kim Minji" not in session.page.content()
    session.shot("statistics-01")
    session.close()
