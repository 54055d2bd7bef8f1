"""A co-manager proposes a share and the lead decides it, in Chromium, in
English, Korean and Khmer; an agency outside the case finds nothing.
Each step leaves a screenshot in test-results/."""

from __future__ import annotations

import pytest

from cases import proposals, services
from cases.models import CaseParticipation, ShareProposal
from gate.roles import Role
from tests.browser import Session
from tests.factories import make_agency, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The lead's button and the workspace heading, as each language shows them.
LANGUAGES = [("en", "Share proposals"), ("ko", "공유 제안"), ("km", "សំណើចែករំលែក")]


@pytest.fixture
def world(db):
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR")
    unodc = make_agency("UNODC", name="UNODC", country="INT", kind="international")
    ccos = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    moj = make_agency("KH-MOJ", name="Ministry of Justice", country="KH")
    lead = make_user(knp, Role.COORDINATOR, "knp.coordinator")
    co_manager = make_user(unodc, Role.COORDINATOR, "unodc.coordinator")
    case = services.create_case(actor=lead, title="Golden Fortune compound")
    services.share_case(actor=lead, case=case, agency=unodc, level="manage")
    return {
        "case": case,
        "lead": lead,
        "co_manager": co_manager,
        "outsider": make_user(moj, Role.COORDINATOR, "moj.coordinator"),
        "ccos": ccos,
    }


def _speaks(user, language: str) -> None:
    user.membership.language = language
    user.membership.save(update_fields=["language"])


@pytest.mark.parametrize(("language", "heading"), LANGUAGES)
def test_a_co_manager_proposes_and_the_lead_accepts_in_the_workspace(
    browser, live_server, world, language, heading
):
    case, ccos = world["case"], world["ccos"]
    for user in (world["lead"], world["co_manager"]):
        _speaks(user, language)
    workspace = f"/admin/cases/case/{case.pk}/change/"

    unodc = Session(browser, live_server, world["co_manager"], f"proposal-{language}-unodc")
    unodc.goto(workspace)
    unodc.page.click("#cb-propose-link")
    unodc.page.select_option("#id_agency", str(ccos.pk))
    unodc.page.select_option("#id_level", "view")
    unodc.page.fill("#id_reason", "KH-CCOS holds the compound's payroll ledgers.")
    unodc.shot("01-propose")
    unodc.page.click("#cb-propose-form input[type=submit]")
    unodc.page.wait_for_selector("ul.messagelist .success")
    assert ShareProposal.objects.filter(case=case, agency=ccos, status="pending").exists()
    unodc.close()

    knp = Session(browser, live_server, world["lead"], f"proposal-{language}-knp")
    knp.goto(workspace)
    assert heading in knp.page.inner_text("#cb-share-proposals h2")
    knp.shot("02-pending")
    knp.page.click("#cb-share-proposals .cb-proposal-accept")
    knp.page.wait_for_selector("ul.messagelist .success")
    knp.shot("03-accepted")
    knp.close()
    assert CaseParticipation.objects.filter(case=case, agency=ccos, revoked_at=None).exists()
    assert ShareProposal.objects.get(case=case, agency=ccos).status == "accepted"


def test_the_lead_declines_and_nothing_is_shared(browser, live_server, world):
    case, ccos = world["case"], world["ccos"]
    proposals.propose_share(
        actor=world["co_manager"], case=case, agency=ccos, level="view", reason="Ledgers."
    )
    knp = Session(browser, live_server, world["lead"], "proposal-decline-knp")
    knp.goto(f"/admin/cases/case/{case.pk}/change/")
    knp.page.click("#cb-share-proposals .cb-proposal-decline")
    knp.page.wait_for_selector("ul.messagelist .success")
    knp.shot("04-declined")
    knp.close()
    assert not CaseParticipation.objects.filter(case=case, agency=ccos).exists()
    assert ShareProposal.objects.get(case=case, agency=ccos).status == "declined"


def test_an_outside_agency_gets_404_on_the_proposal_pages(browser, live_server, world):
    case = world["case"]
    moj = Session(browser, live_server, world["outsider"], "proposal-outsider")
    for path in ("change", "propose", "proposal"):
        response = moj.goto(f"/admin/cases/case/{case.pk}/{path}/")
        assert response.status == 404, path
        assert case.title not in moj.page.content()
    moj.shot("05-outsider")
    moj.close()


def test_a_proposal_without_a_reason_is_refused_on_the_form(browser, live_server, world):
    case = world["case"]
    unodc = Session(browser, live_server, world["co_manager"], "proposal-no-reason")
    unodc.goto(f"/admin/cases/case/{case.pk}/propose/")
    unodc.page.select_option("#id_agency", str(world["ccos"].pk))
    unodc.page.click("#cb-propose-form input[type=submit]")
    unodc.page.wait_for_selector("#cb-propose-form .errorlist")
    assert "This field is required." in unodc.page.inner_text("#cb-propose-form")
    unodc.shot("06-no-reason")
    unodc.close()
    assert not ShareProposal.objects.exists()
