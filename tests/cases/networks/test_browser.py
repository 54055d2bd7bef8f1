"""The case workspace's Network tab in a real browser (Debian's Chromium
through Playwright), in English, Khmer and Korean.

KR-KNP records a compound, its operator and a victim (TLP:RED by default);
KH-CCOS, a partner on the case, opens the tab and sees the compound and the
operator but not the victim; an outsider's request for the case is a 404.
Screenshots go to test-results/.
"""

from __future__ import annotations

import pytest

from cases import networks, services
from cases.choices import AccessLevel, EntityKind, PersonRole
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
    knp_investigator = make_user(knp, Role.INVESTIGATOR, "knp.investigator")
    case = make_case(lead, title="Golden Fortune compound")
    services.share_case(actor=lead, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    networks.create_entity(
        actor=knp_investigator, case=case, kind=EntityKind.PLACE, name="Golden Fortune Compound"
    )
    networks.create_entity(
        actor=knp_investigator,
        case=case,
        kind=EntityKind.PERSON,
        name="Chen Wei",
        role=PersonRole.SUSPECT,
    )
    networks.create_entity(
        actor=knp_investigator,
        case=case,
        kind=EntityKind.PERSON,
        name="Kim Minji",
        role=PersonRole.VICTIM,
    )
    return {
        "case": case,
        "kh": make_user(ccos, Role.INVESTIGATOR, "kh.investigator"),
        "unodc": make_user(unodc, Role.COORDINATOR, "unodc.coordinator"),
    }


@pytest.mark.parametrize(
    ("language", "tab"), [("en", "Network"), ("km", "បណ្តាញ"), ("ko", "네트워크")]
)
def test_a_partner_sees_the_network_but_not_the_victim(browser, live_server, world, language, tab):
    membership = world["kh"].membership
    membership.language = language
    membership.save(update_fields=["language"])
    kh = Session(browser, live_server, world["kh"], f"kh-network-{language}")
    kh.goto(f"/admin/cases/case/{world['case'].pk}/change/")
    link = kh.page.locator("#cb-tab-network")
    assert link.inner_text().startswith(tab)
    link.click()
    panel = kh.page.locator("#cb-network")
    panel.wait_for(state="visible")
    kh.shot(f"network-01-{language}")
    text = panel.inner_text()
    assert "Golden Fortune Compound" in text and "Chen Wei" in text
    assert "Kim Minji" not in kh.page.content()
    kh.close()


def test_an_outsider_gets_no_network(browser, live_server, world):
    un = Session(browser, live_server, world["unodc"], "unodc-network")
    response = un.goto(f"/admin/cases/case/{world['case'].pk}/change/")
    un.shot("network-02-outsider")
    content = un.page.content()
    assert "Golden Fortune" not in content and "Chen Wei" not in content
    assert response is not None and response.status == 404
    un.close()
