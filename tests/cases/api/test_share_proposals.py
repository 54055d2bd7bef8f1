"""Share proposals (issue 18, the third-party rule): only the lead agency shares
a case onward; a co-managing agency proposes, and the lead accepts or declines.

KR-KNP leads the case, KH-CCOS co-manages it, PH-PNP takes part confidentially
(known to KR-KNP alone) and TH-CCIB is not on the case.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from cases import access, services
from cases.choices import AccessLevel
from cases.models import Case, CaseParticipation, ShareProposal
from cases.sharing import PROPOSE_INSTEAD
from gate.roles import Role
from tests.factories import make_agency, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]

REASON = "The compound's payments run through Thai accounts."
#: What differs between two proposals of the same terms for different agencies.
OWN_VALUES = ("id", "agency", "created_at", "updated_at", "decided_at")


def proposals_url(case) -> str:
    return reverse("api:v1:case-share-proposal-list", kwargs={"case_id": case.public_id})


def proposal_url(public_id, verb: str = "") -> str:
    name = f"api:v1:share-proposal-{verb}" if verb else "api:v1:share-proposal-detail"
    return reverse(name, kwargs={"id": public_id})


def propose(api, user, case, agency: str, **extra):
    body = {"agency": agency, "level": "view", "reason": REASON, **extra}
    return api(user).post(proposals_url(case), body, format="json")


def decide(api, user, proposal: dict, verb: str, **body):
    return api(user).post(
        proposal_url(proposal["id"], verb),
        body,
        format="json",
        HTTP_IF_MATCH=f'"{proposal["version"]}"',
    )


def own_values_removed(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in OWN_VALUES}


def participations_of(agency) -> list[tuple]:
    return list(
        CaseParticipation.objects.filter(agency=agency)
        .order_by("pk")
        .values_list("pk", "level", "confidential", "revoked_at", "version")
    )


# --- proposing ------------------------------------------------------------------------


def test_a_co_managers_proposal_naming_a_confidential_participant_answers_like_any_other(
    api, co_managed, kh_coordinator, thcc
):
    hidden = propose(api, kh_coordinator, co_managed, "PH-PNP")
    unknown = propose(api, kh_coordinator, co_managed, "TH-CCIB")
    assert hidden.status_code == unknown.status_code == 201, hidden.content
    assert hidden.json()["status"] == "pending" and hidden.json()["outcome"] is None
    assert own_values_removed(hidden.json()) == own_values_removed(unknown.json())
    assert hidden.headers.keys() == unknown.headers.keys()


def test_a_proposal_is_answered_with_its_location(api, co_managed, kh_coordinator, thcc):
    response = propose(api, kh_coordinator, co_managed, "TH-CCIB")
    assert response.status_code == 201
    assert response["Location"].endswith(proposal_url(response.json()["id"]))
    assert response["ETag"] == '"1"'


def test_a_proposer_may_not_ask_for_a_confidential_share(api, co_managed, kh_coordinator, thcc):
    response = propose(api, kh_coordinator, co_managed, "TH-CCIB", confidential=True)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["confidential"]
    assert not ShareProposal.objects.exists()


def test_a_proposal_with_bad_input_is_400_naming_each_field_and_creates_nothing(
    api, co_managed, kh_coordinator
):
    response = api(kh_coordinator).post(
        proposals_url(co_managed), {"agency": "XX-NONE", "level": "all"}, format="json"
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"agency", "level", "reason"}
    assert not ShareProposal.objects.exists()


def test_a_proposal_for_an_agency_the_proposer_sees_on_the_case_is_a_conflict(
    api, co_managed, kh_coordinator, thcc, knp_coordinator
):
    services.share_case(actor=knp_coordinator, case=co_managed, agency=thcc, level="view")
    response = propose(api, kh_coordinator, co_managed, "TH-CCIB")
    assert response.status_code == 409
    assert not ShareProposal.objects.exists()


def test_the_lead_shares_directly_rather_than_proposing(api, co_managed, knp_coordinator, thcc):
    response = propose(api, knp_coordinator, co_managed, "TH-CCIB")
    assert response.status_code == 403
    assert not ShareProposal.objects.exists()


# --- deciding ---------------------------------------------------------------------------


def test_the_lead_accepts_and_the_agency_then_sees_the_case(
    api, co_managed, kh_coordinator, knp_coordinator, thcc
):
    proposal = propose(api, kh_coordinator, co_managed, "TH-CCIB", level="contribute").json()
    th_viewer = make_user(thcc, Role.VIEWER)
    assert not access.visible_cases(th_viewer).exists()

    response = decide(api, knp_coordinator, proposal, "accept", note="Agreed.")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.json()["outcome"] == "shared"
    assert list(access.visible_cases(th_viewer)) == [co_managed]
    participation = CaseParticipation.objects.get(case=co_managed, agency=thcc)
    assert participation.level == AccessLevel.CONTRIBUTE
    assert participation.granted_by_agency == co_managed.lead_agency


def test_the_lead_declines_and_nothing_is_shared(
    api, co_managed, kh_coordinator, knp_coordinator, thcc
):
    proposal = propose(api, kh_coordinator, co_managed, "TH-CCIB").json()
    response = decide(api, knp_coordinator, proposal, "decline", note="Not yet.")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined"
    assert response.json()["decision_note"] == "Not yet."
    assert not CaseParticipation.objects.filter(agency=thcc).exists()
    th = api(make_user(thcc, Role.VIEWER))
    assert th.get(f"/api/v1/cases/{co_managed.public_id}/").status_code == 404


def test_accepting_for_a_confidential_participant_shares_nothing_and_only_the_lead_learns_why(
    api, co_managed, kh_coordinator, knp_coordinator, php, thcc
):
    """The proposer sees "accepted" and no new participant, exactly as when
    the lead shares with a new agency confidentially."""
    before = participations_of(php)
    hidden = propose(api, kh_coordinator, co_managed, "PH-PNP").json()
    unknown = propose(api, kh_coordinator, co_managed, "TH-CCIB").json()

    lead_view = decide(api, knp_coordinator, hidden, "accept").json()
    decide(api, knp_coordinator, unknown, "accept", confidential=True)

    assert lead_view["status"] == "accepted"
    assert lead_view["outcome"] == "already_participating"
    assert participations_of(php) == before
    assert CaseParticipation.objects.get(agency=thcc).confidential
    proposer = api(kh_coordinator)
    seen = [proposer.get(proposal_url(p["id"])).json() for p in (hidden, unknown)]
    assert seen[0]["status"] == "accepted" and seen[0]["outcome"] is None
    assert own_values_removed(seen[0]) == own_values_removed(seen[1])
    participants = proposer.get(
        reverse("api:v1:participant-list", kwargs={"case_id": co_managed.public_id})
    ).json()["results"]
    assert {p["agency"] for p in participants} == {"KR-KNP", "KH-CCOS"}


def test_the_proposer_may_not_decide_its_own_proposal(api, co_managed, kh_coordinator, thcc):
    proposal = propose(api, kh_coordinator, co_managed, "TH-CCIB").json()
    for verb in ("accept", "decline"):
        assert decide(api, kh_coordinator, proposal, verb).status_code == 403
    assert ShareProposal.objects.get().status == "pending"
    assert not CaseParticipation.objects.filter(agency=thcc).exists()


def test_a_decided_proposal_is_not_decided_again(
    api, co_managed, kh_coordinator, knp_coordinator, thcc
):
    proposal = propose(api, kh_coordinator, co_managed, "TH-CCIB").json()
    declined = decide(api, knp_coordinator, proposal, "decline").json()
    response = decide(api, knp_coordinator, declined, "accept")
    assert response.status_code == 409
    assert not CaseParticipation.objects.filter(agency=thcc).exists()


def test_a_decision_on_a_stale_copy_is_412_and_changes_nothing(
    api, co_managed, kh_coordinator, knp_coordinator, thcc
):
    proposal = propose(api, kh_coordinator, co_managed, "TH-CCIB").json()
    response = decide(api, knp_coordinator, {**proposal, "version": 7}, "accept")
    assert response.status_code == 412
    assert ShareProposal.objects.get().status == "pending"


# --- who sees a proposal ------------------------------------------------------------------


def test_an_outsider_gets_404_on_every_proposal_endpoint_as_for_nothing_at_all(
    api, co_managed, kh_coordinator, outsider, thcc
):
    proposal = propose(api, kh_coordinator, co_managed, "TH-CCIB").json()
    client = api(outsider)
    missing_case = SimpleNamespace(public_id=uuid.uuid4())
    for url, other in (
        (proposals_url(co_managed), proposals_url(missing_case)),
        (proposal_url(proposal["id"]), proposal_url(uuid.uuid4())),
    ):
        hidden, nothing = client.get(url), client.get(other)
        assert hidden.status_code == nothing.status_code == 404
        assert hidden.json() == nothing.json()
    body = {"agency": "TH-CCIB", "level": "view", "reason": REASON}
    assert client.post(proposals_url(co_managed), body, format="json").status_code == 404
    for verb in ("accept", "decline"):
        response = client.post(proposal_url(proposal["id"], verb), {}, HTTP_IF_MATCH='"1"')
        assert response.status_code == 404
    assert ShareProposal.objects.get().status == "pending"
    assert ShareProposal.objects.count() == 1


def test_a_participant_that_neither_leads_nor_proposed_does_not_see_a_proposal(
    api, co_managed, kh_coordinator, knp_coordinator, thcc
):
    """An open participant sees the case, never proposals it did not make."""
    bystander_agency = make_agency("VN-C50", country="VN")
    services.share_case(
        actor=knp_coordinator, case=co_managed, agency=bystander_agency, level="manage"
    )
    proposal = propose(api, kh_coordinator, co_managed, "TH-CCIB").json()
    bystander = api(make_user(bystander_agency, Role.COORDINATOR))
    assert bystander.get(proposals_url(co_managed)).json()["results"] == []
    assert bystander.get(proposal_url(proposal["id"])).status_code == 404
    assert decide(api, make_user(bystander_agency), proposal, "accept").status_code == 404


def test_the_lead_and_the_proposer_list_the_proposal(
    api, co_managed, kh_coordinator, knp_coordinator, thcc
):
    proposal = propose(api, kh_coordinator, co_managed, "TH-CCIB").json()
    for user in (knp_coordinator, kh_coordinator):
        listed = api(user).get(proposals_url(co_managed), {"status": "pending"}).json()
        assert [p["id"] for p in listed["results"]] == [proposal["id"]]


# --- sharing is the lead's ----------------------------------------------------------------


def _refusals(api, user, case, agency: str) -> list:
    one = api(user).post(
        reverse("api:v1:participant-list", kwargs={"case_id": case.public_id}),
        {"agency": agency, "level": "view"},
        format="json",
    )
    many = api(user).post(
        reverse("api:v1:participant-share-many", kwargs={"case_id": case.public_id}),
        [{"agency": agency, "level": "view"}],
        format="json",
    )
    return [(r.status_code, r.json()) for r in (one, many)]


def test_a_co_managers_share_is_403_telling_it_to_propose_whoever_it_names(
    api, co_managed, kh_coordinator, thcc
):
    participations = CaseParticipation.objects.count()
    shares = AuditEvent.objects.filter(action="share").count()
    hidden = _refusals(api, kh_coordinator, co_managed, "PH-PNP")
    unknown = _refusals(api, kh_coordinator, co_managed, "TH-CCIB")
    assert hidden == unknown
    assert [status for status, _body in hidden] == [403, 403]
    assert hidden[0][1]["detail"] == str(PROPOSE_INSTEAD)
    assert CaseParticipation.objects.count() == participations
    assert AuditEvent.objects.filter(action="share").count() == shares
    assert Case.objects.get(pk=co_managed.pk).version == co_managed.version
