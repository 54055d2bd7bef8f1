"""`GET /cases/{id}/?expand=participants,tasks,notes`: a case with its children
in one request (issue 19).

Each list is exactly the first page of its own endpoint in the documented
order, read through the same rules, and `<name>_next` is that page's `next`
link; the number of queries does not depend on what the case holds; an
agency the case is not shared with gets the 404 of an unknown id.

KR-KNP leads the case; KH-CCOS takes part at `contribute` (`shared_case`),
or manages it with PH-PNP in it confidentially (`co_managed`); UNODC is the
outsider.
"""

from __future__ import annotations

import uuid

import pytest

from agencies.tokens import issue_api_token
from cases import selectors, services
from cases.api.serializers import CaseDetailSerializer
from cases.choices import AccessLevel
from gate.roles import Role
from tests.factories import make_agency, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]

ALL = "participants,tasks,notes"
#: Each child list as its own endpoint serves it, in the expansion's order.
CHILD_URLS = {
    "participants": "/api/v1/cases/{id}/participants/?ordering=granted_at&page_size=100",
    "tasks": "/api/v1/tasks/?case={id}&ordering=created_at&page_size=100",
    "notes": "/api/v1/notes/?case={id}&ordering=-created_at&page_size=20",
}


def _get(client, url, status=200, **headers):
    response = client.get(url, **headers)
    assert response.status_code == status, response.content
    return response


def _expanded(client, case, expand=ALL, **headers):
    return _get(client, f"/api/v1/cases/{case.public_id}/?expand={expand}", **headers)


def _separately(client, case) -> dict:
    """The case and its children as four requests give them."""
    body = _get(client, f"/api/v1/cases/{case.public_id}/").json()
    for name, url in CHILD_URLS.items():
        page = _get(client, url.format(id=case.public_id)).json()
        body[name], body[f"{name}_next"] = page["results"], page["next"]
    return body


def _note(actor, case, body="Victim statements collected in Seoul.", **kwargs):
    return services.add_note(actor=actor, case=case, body=body, **kwargs)


@pytest.fixture
def busy_case(shared_case, knp_coordinator, kh_investigator, ccos):
    """`shared_case` with tasks for both agencies and notes from both."""
    knp = knp_coordinator.membership.agency
    for title, agency in (("Trace USDT wallets", ccos), ("Subpoena the exchange", knp)):
        services.create_task(
            actor=knp_coordinator, case=shared_case, title=title, assigned_agency=agency
        )
    _note(knp_coordinator, shared_case)
    _note(kh_investigator, shared_case, body="Compound raided; ledgers seized.")
    return shared_case


# --- what it holds ----------------------------------------------------------------


@pytest.mark.parametrize("reader", ["knp_coordinator", "kh_investigator"])
def test_expanded_case_is_the_case_and_its_child_endpoints_first_pages(
    api, busy_case, reader, request
):
    client = api(request.getfixturevalue(reader))
    expanded = _expanded(client, busy_case).json()
    assert expanded == _separately(client, busy_case)
    assert len(expanded["participants"]) == 2
    assert len(expanded["tasks"]) == 2
    assert len(expanded["notes"]) == 2


def test_expanded_lists_hold_the_rows_of_the_default_child_endpoints(
    api, busy_case, kh_investigator
):
    client = api(kh_investigator)
    expanded = _expanded(client, busy_case).json()
    pid = busy_case.public_id
    for name, url in (
        ("participants", f"/api/v1/cases/{pid}/participants/"),
        ("tasks", f"/api/v1/tasks/?case={pid}"),
        ("notes", f"/api/v1/notes/?case={pid}"),
    ):
        default = _get(client, url).json()["results"]
        assert sorted(expanded[name], key=lambda row: row["id"]) == sorted(
            default, key=lambda row: row["id"]
        ), name


def test_only_the_lists_asked_for_come_with_the_case(api, busy_case, knp_coordinator):
    client = api(knp_coordinator)
    plain = _get(client, f"/api/v1/cases/{busy_case.public_id}/").json()
    expanded = _expanded(client, busy_case, "notes").json()
    assert set(expanded) - set(plain) == {"notes", "notes_next"}
    assert {k: v for k, v in expanded.items() if k in plain} == plain


def test_names_may_repeat_and_come_in_several_parameters(api, busy_case, knp_coordinator):
    client = api(knp_coordinator)
    response = _get(
        client, f"/api/v1/cases/{busy_case.public_id}/?expand=notes,tasks,notes&expand=tasks"
    )
    assert set(response.json()) >= {"tasks", "tasks_next", "notes", "notes_next"}
    assert "participants" not in response.json()


def test_more_notes_than_given_link_to_the_older_ones(api, shared_case, knp_coordinator):
    limit = selectors.CHILD_ORDERS["notes"].limit
    notes = [_note(knp_coordinator, shared_case, body=f"Note {i}.") for i in range(limit + 1)]
    client = api(knp_coordinator)
    expanded = _expanded(client, shared_case, "notes").json()
    first_page = _get(client, CHILD_URLS["notes"].format(id=shared_case.public_id)).json()
    assert [n["body"] for n in expanded["notes"]] == [f"Note {i}." for i in range(limit, 0, -1)]
    assert expanded["notes_next"] == first_page["next"]
    rest = _get(client, expanded["notes_next"]).json()
    assert [n["id"] for n in rest["results"]] == [str(notes[0].public_id)]
    assert rest["next"] is None


def test_complete_lists_have_no_next_link(api, busy_case, knp_coordinator):
    expanded = _expanded(api(knp_coordinator), busy_case).json()
    assert expanded["participants_next"] is None
    assert expanded["tasks_next"] is None
    assert expanded["notes_next"] is None


def test_schema_help_texts_name_the_bounds_the_selector_applies():
    fields = CaseDetailSerializer().fields
    for name, order in selectors.CHILD_ORDERS.items():
        text = str(fields[name].help_text)
        assert f"ordering={order.ordering}&page_size={order.limit}" in text, name


# --- the gate -----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", f"?expand={ALL}", "?expand=notes"])
def test_outsider_gets_the_404_of_an_unknown_id(api, busy_case, outsider, query):
    client = api(outsider)
    hidden = _get(client, f"/api/v1/cases/{busy_case.public_id}/{query}", status=404)
    unknown = _get(client, f"/api/v1/cases/{uuid.uuid4()}/{query}", status=404)
    malformed = _get(client, f"/api/v1/cases/not-a-case/{query}", status=404)
    assert hidden.json() == unknown.json() == malformed.json()
    assert hidden["Content-Type"] == unknown["Content-Type"] == "application/problem+json"


def test_partner_does_not_see_another_agencys_red_note_nor_a_confidential_participant(
    api, co_managed, knp_coordinator, kh_coordinator, php
):
    services.create_task(
        actor=knp_coordinator, case=co_managed, title="Interview workers", assigned_agency=php
    )
    _note(knp_coordinator, co_managed, body="Informant's name.", handling_code="RED")
    _note(knp_coordinator, co_managed, body="Lead only.", handling_code="AMBER+STRICT")
    _note(knp_coordinator, co_managed, body="For all partners.")
    partner = api(kh_coordinator)
    expanded = _expanded(partner, co_managed).json()
    assert expanded == _separately(partner, co_managed)
    assert {p["agency"] for p in expanded["participants"]} == {"KR-KNP", "KH-CCOS"}
    assert expanded["tasks"] == []
    assert [n["body"] for n in expanded["notes"]] == ["For all partners."]
    assert "PH-PNP" not in str(expanded)
    lead = _expanded(api(knp_coordinator), co_managed).json()
    assert {p["agency"] for p in lead["participants"]} == {"KR-KNP", "KH-CCOS", "PH-PNP"}
    assert len(lead["notes"]) == 3


def test_confidential_participant_sees_only_itself_and_the_lead(api, co_managed, php):
    expanded = _expanded(api(make_user(php, Role.VIEWER)), co_managed).json()
    assert {p["agency"] for p in expanded["participants"]} == {"KR-KNP", "PH-PNP"}


# --- query strings ----------------------------------------------------------------------


def _field_errors(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


@pytest.mark.parametrize(
    "expand", ["documents", "participants,documents", "tasks,", "Tasks", "tasks, notes"]
)
def test_an_unknown_name_is_a_400_naming_expand(api, case, knp_coordinator, expand):
    response = api(knp_coordinator).get(f"/api/v1/cases/{case.public_id}/", {"expand": expand})
    assert _field_errors(response) == [("expand", "invalid")]


def test_an_empty_expand_is_a_400_naming_it(api, case, knp_coordinator):
    response = api(knp_coordinator).get(f"/api/v1/cases/{case.public_id}/?expand=")
    assert _field_errors(response) == [("expand", "blank")]


def test_an_unknown_name_is_refused_alike_on_hidden_and_missing_cases(api, case, outsider):
    client = api(outsider)
    hidden = client.get(f"/api/v1/cases/{case.public_id}/", {"expand": "documents"})
    missing = client.get(f"/api/v1/cases/{uuid.uuid4()}/", {"expand": "documents"})
    assert _field_errors(hidden) == _field_errors(missing) == [("expand", "invalid")]
    assert hidden.json() == missing.json()


@pytest.mark.parametrize(
    "path", ["/api/v1/cases/", "/api/v1/tasks/", "/api/v1/notes/", "/api/v1/tasks/{task}/"]
)
def test_expand_is_taken_by_the_case_detail_only(api, task, knp_coordinator, path):
    url = path.format(task=task.public_id)
    response = api(knp_coordinator).get(url, {"expand": "notes"})
    assert _field_errors(response) == [("expand", "unknown")]


# --- versions and ETags ---------------------------------------------------------------


def test_the_plain_reads_etag_stays_the_cases_version(api, busy_case, knp_coordinator):
    client = api(knp_coordinator)
    plain = _get(client, f"/api/v1/cases/{busy_case.public_id}/")
    expanded = _expanded(client, busy_case)
    assert plain["ETag"] == f'"{busy_case.version}"'
    assert expanded["ETag"].startswith('W/"')
    assert expanded["ETag"] != plain["ETag"]
    assert expanded.json()["version"] == busy_case.version


def test_the_expanded_etag_answers_304_until_a_visible_child_changes(
    api, busy_case, knp_coordinator
):
    client = api(knp_coordinator)
    etag = _expanded(client, busy_case)["ETag"]
    url = f"/api/v1/cases/{busy_case.public_id}/?expand={ALL}"
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    _note(knp_coordinator, busy_case, body="A new lead.")
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_another_agencys_red_note_leaves_the_partners_expanded_answer_unchanged(
    api, busy_case, knp_coordinator, kh_investigator
):
    partner = api(kh_investigator)
    before = _expanded(partner, busy_case)
    _note(knp_coordinator, busy_case, body="Informant's name.", handling_code="RED")
    after = _expanded(partner, busy_case)
    assert after.json() == before.json()
    assert after["ETag"] == before["ETag"]


def test_the_expanded_etag_is_refused_as_if_match(api, busy_case, knp_coordinator):
    client = api(knp_coordinator)
    etag = _expanded(client, busy_case)["ETag"]
    response = client.patch(
        f"/api/v1/cases/{busy_case.public_id}/",
        {"title": "Renamed"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 412, response.content


# --- cost ----------------------------------------------------------------------------------


def _case_with(count: int, lead, investigator) -> object:
    """A case of `lead`'s agency with `count` participants besides the lead,
    `count` tasks and `count` notes."""
    case = services.create_case(
        actor=lead, title="Compound", summary="Scam compound.", crime_types=["investment_fraud"]
    )
    agencies = [make_agency(f"XP-{count:02d}{i:02d}") for i in range(count - 1)]
    for agency in [investigator.membership.agency, *agencies]:
        services.share_case(actor=lead, case=case, agency=agency, level=AccessLevel.CONTRIBUTE)
    assignees = [investigator.membership.agency, *agencies]
    for i in range(count):
        services.create_task(
            actor=lead, case=case, title=f"Task {i}", assigned_agency=assignees[i % len(assignees)]
        )
        _note(lead if i % 2 else investigator, case, body=f"Note {i}.")
    return case


#: A bearer-token request: the token with its member and agency, the case
#: through the gate, then one query per child list.
EXPANDED_QUERIES = 5


@pytest.mark.parametrize("count", [1, 20])
def test_the_expanded_case_costs_the_same_queries_whatever_it_holds(
    client, knp_coordinator, kh_investigator, django_assert_num_queries, count
):
    case = _case_with(count, knp_coordinator, kh_investigator)
    _, token = issue_api_token(
        agency=kh_investigator.membership.agency, role=Role.INVESTIGATOR, name="partner"
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    _expanded(client, case, **headers)  # the first use stamps the token's last use
    with django_assert_num_queries(EXPANDED_QUERIES):
        body = _expanded(client, case, **headers).json()
    assert len(body["participants"]) == count + 1
    assert len(body["tasks"]) == count
    assert len(body["notes"]) == count
