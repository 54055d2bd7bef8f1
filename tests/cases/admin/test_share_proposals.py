"""Share proposals in the case workspace (issue 18): a co-managing agency
proposes where it used to share; the lead's coordinators accept or decline
with a button.

KR-KNP leads the case, KH-CCOS co-manages it, PH-PNP takes part confidentially
and TH-CCIB is not on the case.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import proposals
from cases.models import CaseParticipation, ShareProposal
from cases.sharing import PROPOSE_INSTEAD
from tests.admin_client import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_lead(knp_coordinator):
    return login(knp_coordinator)


@pytest.fixture
def as_co_manager(kh_coordinator):
    return login(kh_coordinator)


@pytest.fixture
def proposal(co_managed, kh_coordinator, thcc) -> ShareProposal:
    return proposals.propose_share(
        actor=kh_coordinator, case=co_managed, agency=thcc, level="view", reason="Thai accounts."
    )


def url(case, name: str = "change") -> str:
    return reverse(f"admin:cases_case_{name}", args=[case.pk])


def decision(proposal: ShareProposal, button: str, **fields) -> dict:
    return {"proposal": str(proposal.public_id), button: "1", **fields}


def without_csrf(body: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


# --- the lead decides -----------------------------------------------------------------------


def test_the_lead_sees_a_pending_proposal_with_accept_and_decline_buttons(
    as_lead, co_managed, proposal
):
    body = as_lead.get(url(co_managed)).content.decode()
    row = re.search(
        rf'<tr class="cb-share-proposal" data-proposal="{proposal.public_id}".*?</tr>', body, re.S
    )
    assert row is not None
    assert 'name="_accept"' in row.group(0) and 'name="_decline"' in row.group(0)
    assert "Thai accounts." in row.group(0)


def test_the_lead_accepts_with_the_button_and_the_case_is_shared(
    as_lead, co_managed, proposal, thcc
):
    response = as_lead.post(url(co_managed, "proposal"), decision(proposal, "_accept"))
    assert response.status_code == 302
    assert response["Location"].endswith(url(co_managed) + "#overview")
    proposal.refresh_from_db()
    assert proposal.status == "accepted" and proposal.outcome == "shared"
    assert CaseParticipation.objects.active().filter(case=co_managed, agency=thcc).exists()


def test_the_lead_declines_with_the_button_and_nothing_is_shared(
    as_lead, co_managed, proposal, thcc
):
    response = as_lead.post(url(co_managed, "proposal"), decision(proposal, "_decline"))
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == "declined"
    assert not CaseParticipation.objects.filter(agency=thcc).exists()


def test_the_lead_accepts_confidentially_with_a_note_from_the_proposals_page(
    as_lead, co_managed, proposal, thcc
):
    page = as_lead.get(url(co_managed, "proposal"), {"proposal": proposal.public_id})
    assert page.status_code == 200
    assert 'id="cb-accept-proposal"' in page.content.decode()
    as_lead.post(
        url(co_managed, "proposal"),
        decision(proposal, "_accept", confidential="on", note="Shared quietly."),
    )
    proposal.refresh_from_db()
    assert proposal.decision_note == "Shared quietly."
    assert CaseParticipation.objects.get(case=co_managed, agency=thcc).confidential


def test_a_refused_decision_is_shown_on_the_page_and_changes_nothing(
    as_lead, co_managed, proposal, thcc
):
    ShareProposal.objects.filter(pk=proposal.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    response = as_lead.post(url(co_managed, "proposal"), decision(proposal, "_accept"))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    proposal.refresh_from_db()
    assert proposal.status == "pending"
    assert not CaseParticipation.objects.filter(agency=thcc).exists()


def test_only_the_lead_learns_that_the_agency_already_took_part(
    as_lead, as_co_manager, co_managed, kh_coordinator, knp_coordinator, php
):
    hidden = proposals.propose_share(
        actor=kh_coordinator, case=co_managed, agency=php, level="view", reason="Manila leads."
    )
    proposals.accept_proposal(actor=knp_coordinator, proposal=hidden)
    assert "Already participates" in as_lead.get(url(co_managed)).content.decode()
    body = as_co_manager.get(url(co_managed)).content.decode()
    assert f'data-proposal="{hidden.public_id}" data-status="accepted"' in body
    assert "Already participates" not in body


# --- the co-manager proposes ------------------------------------------------------------------


def test_the_co_manager_is_offered_to_propose_rather_than_share(as_co_manager, co_managed):
    body = as_co_manager.get(url(co_managed)).content.decode()
    assert 'id="cb-propose-link"' in body
    assert 'id="cb-share-link"' not in body


def test_the_co_managers_share_page_is_403_telling_it_to_propose_whoever_it_names(
    as_co_manager, co_managed, php, thcc
):
    participations = CaseParticipation.objects.count()
    answers = [
        as_co_manager.post(url(co_managed, "share"), {"agency": agency.pk, "level": "view"})
        for agency in (php, thcc)
    ]
    assert [a.status_code for a in answers] == [403, 403]
    assert without_csrf(answers[0].content.decode()) == without_csrf(answers[1].content.decode())
    body = answers[0].content.decode()
    assert str(PROPOSE_INSTEAD).replace("'", "&#x27;") in body
    assert f'href="{url(co_managed, "propose")}"' in body
    assert CaseParticipation.objects.count() == participations


def test_the_co_manager_proposes_from_the_admin(as_co_manager, co_managed, thcc, ccos):
    page = as_co_manager.get(url(co_managed, "propose"))
    assert page.status_code == 200 and 'id="cb-propose-form"' in page.content.decode()
    response = as_co_manager.post(
        url(co_managed, "propose"),
        {"agency": thcc.pk, "level": "contribute", "reason": "Thai accounts."},
    )
    assert response.status_code == 302
    proposal = ShareProposal.objects.get()
    assert (proposal.proposing_agency, proposal.agency, proposal.level) == (
        ccos,
        thcc,
        "contribute",
    )
    assert proposal.status == "pending"


def test_a_bad_proposal_is_a_form_error_and_creates_nothing(as_co_manager, co_managed, thcc):
    response = as_co_manager.post(url(co_managed, "propose"), {"agency": thcc.pk, "level": "x"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"level", "reason"}
    assert not ShareProposal.objects.exists()


def test_the_proposer_does_not_decide_in_the_admin(as_co_manager, co_managed, proposal, thcc):
    response = as_co_manager.post(url(co_managed, "proposal"), decision(proposal, "_accept"))
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_an_outsider_gets_404_on_the_proposal_pages(outsider, co_managed, proposal, thcc):
    client = login(outsider)
    for name, data in (
        ("propose", {"agency": thcc.pk, "level": "view", "reason": "x"}),
        ("proposal", decision(proposal, "_accept")),
    ):
        assert client.get(url(co_managed, name)).status_code == 404
        assert client.post(url(co_managed, name), data).status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == "pending" and ShareProposal.objects.count() == 1
