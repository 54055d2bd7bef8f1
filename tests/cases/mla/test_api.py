"""`/api/v1/mla-requests/`: drafts, transitions by verb, history; isolation."""

import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from cases import mla
from cases.choices import MLAStatus
from cases.models import MLARequest, MLAStatusChange

from .helpers import COMPLETE_FULL

BASE = "/api/v1/mla-requests/"


@pytest.fixture(autouse=True)
def _api_settings(settings):
    settings.API_SYNC_CLOCK_MARGIN = 0
    cache.clear()
    yield
    cache.clear()


def api(user=None, *, any_version: bool = True) -> APIClient:
    """A client as `user`. Its writes send `If-Match: *` unless `any_version`
    is off: these tests are about the MLA rules, not about versions
    (tests/config/api/test_conditional.py requires If-Match on every one of them)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if any_version:
        client.credentials(HTTP_IF_MATCH="*")
    return client


def url(request, verb: str | None = None) -> str:
    return f"{BASE}{request.public_id}/" + (f"{verb}/" if verb else "")


def test_coordinator_drafts_a_request(knp_coordinator, case, kh_moj):
    payload = {
        **COMPLETE_FULL,
        "case": str(case.public_id),
        "requested_agency": "KH-MOJ",
        "legal_basis": "untoc",
    }

    response = api(knp_coordinator).post(BASE, payload, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["requested_agency"], body["case"]) == (
        "draft",
        "KH-MOJ",
        str(case.public_id),
    )
    assert body["allowed_transitions"] == ["submit", "withdraw"]
    assert response["ETag"] == '"1"'


def test_draft_with_unknown_case_is_refused_without_leaking(outsider, case, kh_moj):
    response = api(outsider).post(
        BASE,
        {"case": str(case.public_id), "requested_agency": "KH-MOJ", "legal_basis": "untoc"},
        format="json",
    )

    assert response.status_code == 400
    assert MLARequest.objects.count() == 0


def test_requesting_side_lists_its_draft(mla_draft, knp_coordinator):
    response = api(knp_coordinator).get(BASE)

    assert [r["id"] for r in response.json()["results"]] == [str(mla_draft.public_id)]


@pytest.mark.parametrize("who", ["moj_coordinator", "outsider"])
def test_draft_is_404_to_everyone_but_the_requesting_side(request, mla_draft, who):
    client = api(request.getfixturevalue(who))

    assert client.get(BASE).json()["results"] == []
    assert client.get(url(mla_draft)).status_code == 404
    assert client.get(url(mla_draft, "history")).status_code == 404


def test_edit_draft_with_stale_if_match_is_412(mla_draft, knp_coordinator):
    client = api(knp_coordinator, any_version=False)
    client.patch(url(mla_draft), {"facts": "First."}, format="json", HTTP_IF_MATCH='"1"')

    response = client.patch(
        url(mla_draft), {"facts": "Second."}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 412
    mla_draft.refresh_from_db()
    assert mla_draft.facts == "First."


def test_delete_is_not_offered(mla_draft, knp_coordinator):
    response = api(knp_coordinator).delete(url(mla_draft))

    assert response.status_code == 405
    assert MLARequest.objects.filter(pk=mla_draft.pk).exists()


def test_the_whole_happy_path_by_verbs(mla_draft, knp_coordinator, moj_coordinator):
    requesting, requested = api(knp_coordinator), api(moj_coordinator)
    steps = [
        (requesting, "submit", {}),
        (requested, "acknowledge", {}),
        (requested, "request-more-info", {"comment": "Which branch holds the account?"}),
        (requesting, "provide-info", {"comment": "Phnom Penh main branch."}),
        (requested, "start-execution", {}),
        (requested, "execute-partially", {"comment": "One account was already closed."}),
    ]
    for client, verb, body in steps:
        response = client.post(url(mla_draft, verb), body, format="json")
        assert response.status_code == 200, (verb, response.content)

    history = requested.get(url(mla_draft, "history")).json()
    assert [h["event"] for h in history] == [verb for _c, verb, _b in steps]
    assert history[2]["comment"] == "Which branch holds the account?"
    assert history[0]["agency"] == "KR-KNP"


def test_requested_side_never_gets_the_case_id(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    body = api(moj_coordinator).get(url(submitted)).json()

    assert body["case"] is None
    assert body["allowed_transitions"] == ["acknowledge", "refuse"]


def test_requested_agency_gets_404_on_the_case(in_state, moj_coordinator, case):
    in_state(MLAStatus.IN_EXECUTION)

    response = api(moj_coordinator).get(f"/api/v1/cases/{case.public_id}/")

    assert response.status_code == 404


@pytest.mark.parametrize("verb", [*mla.TRANSITIONS, "file-delay-notice", "history"])
def test_non_party_gets_404_on_every_endpoint(in_state, outsider, verb):
    submitted = in_state(MLAStatus.SUBMITTED)
    client = api(outsider)
    before = MLAStatusChange.objects.count()

    if verb == "history":
        response = client.get(url(submitted, verb))
    else:
        response = client.post(url(submitted, verb), {"comment": "x"}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    # Indistinguishable from a request that does not exist (the path is echoed).
    missing = str(uuid.uuid4())
    if verb == "history":
        other = client.get(f"{BASE}{missing}/{verb}/")
    else:
        other = client.post(f"{BASE}{missing}/{verb}/", {"comment": "x"}, format="json")
    assert response.content.decode().replace(str(submitted.public_id), missing) == (
        other.content.decode()
    )
    assert MLAStatusChange.objects.count() == before


def test_non_party_gets_404_on_detail_and_edit(in_state, outsider):
    submitted = in_state(MLAStatus.SUBMITTED)
    client = api(outsider)

    assert client.get(url(submitted)).status_code == 404
    assert client.patch(url(submitted), {"facts": "x"}, format="json").status_code == 404
    assert client.get(BASE).json()["results"] == []


def test_illegal_transition_is_409_and_changes_nothing(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    response = api(moj_coordinator).post(url(submitted, "execute"), {}, format="json")

    assert response.status_code == 409
    row = MLARequest.objects.get(pk=submitted.pk)
    assert (row.status, row.version) == (MLAStatus.SUBMITTED, submitted.version)


def test_wrong_side_is_403(in_state, knp_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    response = api(knp_coordinator).post(url(submitted, "acknowledge"), {}, format="json")

    assert response.status_code == 403


def test_refusal_without_grounds_is_400_on_the_comment(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    response = api(moj_coordinator).post(url(submitted, "refuse"), {}, format="json")

    assert response.status_code == 400
    assert "comment" in response.content.decode()
    assert MLARequest.objects.get(pk=submitted.pk).status == MLAStatus.SUBMITTED


def test_incomplete_submission_lists_what_is_missing(mla_draft, knp_coordinator):
    client = api(knp_coordinator)
    client.patch(url(mla_draft), {"details": {}}, format="json")

    response = client.post(url(mla_draft, "submit"), {}, format="json")

    assert response.status_code == 400
    body = response.content.decode()
    assert "details.bank_records.account_identifiers" in body
    assert "details.witness_statement.questions" in body


def test_delay_notice_by_the_requested_side(in_state, moj_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)
    new_due = (acknowledged.decision_due.replace(microsecond=0)).isoformat()

    response = api(moj_coordinator).post(
        url(acknowledged, "file-delay-notice"),
        {"reason": "Bank needs a court order.", "new_due": new_due.replace("+00:00", "Z")},
        format="json",
    )

    assert response.status_code == 400  # not later than the current deadline
    later = acknowledged.decision_due.replace(microsecond=0).replace(
        year=acknowledged.decision_due.year + 1
    )
    response = api(moj_coordinator).post(
        url(acknowledged, "file-delay-notice"),
        {"reason": "Bank needs a court order.", "new_due": later.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["delay_notice_reason"] == "Bank needs a court order."
