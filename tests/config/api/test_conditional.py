"""Conditional requests and caching, on every route that takes them.

Every write to an existing object needs `If-Match` (428 naming the header
without it, nothing changed); the routes come from discovery and the rule
from the view (`GatedViewSet.if_match_required`), which the schema documents
too. Reads answer 304 to a current `If-None-Match`; every API answer is
`Cache-Control: no-store` but the schema's.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from .discovery import api_routes, call, hidden_kwargs, probe_payload

pytestmark = pytest.mark.usefixtures("_no_sync_margin")

ROUTES = api_routes()
CONDITIONAL = [
    (route, method.upper())
    for route in ROUTES
    for method in route.actions
    if hasattr(route.view_class, "if_match_required")
    and route.view(method).if_match_required(method.upper())
]


def _ids(pairs) -> list[str]:
    return [f"{method} {route.name}" for route, method in pairs]


def test_the_conditional_writes_include_edits_deletes_and_transitions():
    """Guard against the rule matching nothing."""
    names = set(_ids(CONDITIONAL))
    for expected in (
        "PATCH api:v1:case-detail",
        "PUT api:v1:task-detail",
        "DELETE api:v1:participant-detail",
        "POST api:v1:case-change-status",
        "POST api:v1:case-hand-over",
        "POST api:v1:mla-request-submit",
        "POST api:v1:mla-request-refuse",
        "POST api:v1:mla-request-file-delay-notice",
    ):
        assert expected in names
    for exempt in (
        "POST api:v1:document-download",
        "POST api:v1:identifier-deconflict",
        "POST api:v1:notification-mark-read",
    ):
        assert exempt not in names


def test_every_write_without_if_match_is_428_naming_the_header_and_changes_nothing(world, api):
    """One world for all the routes (building it is most of the cost); each
    route's answer is checked, and the world must not have moved at all."""
    before = world.state()
    wrong = {}
    for route, method in CONDITIONAL:
        url = reverse(route.name, kwargs=hidden_kwargs(route, world.owners))
        response = call(api(route.seer(world.owners)), method, url, probe_payload(world))
        problem = response.json() if response.status_code == 428 else {}
        answer = (
            response.status_code,
            response["Content-Type"],
            problem.get("type"),
            [e["field"] for e in problem.get("errors", ())],
        )
        expected = (
            428,
            "application/problem+json",
            "urn:casebridge:problem:precondition_required",
            ["If-Match"],
        )
        if answer != expected:
            wrong[f"{method} {url}"] = answer
    assert wrong == {}
    assert world.state() == before


def test_an_invisible_object_is_404_not_428(api, case, outsider):
    response = api(outsider).patch(f"/api/v1/cases/{case.public_id}/", {"title": "x"})
    assert response.status_code == 404


def test_a_transition_with_the_current_etag_goes_through(api, case, knp_coordinator):
    client = api(knp_coordinator)
    etag = client.get(f"/api/v1/cases/{case.public_id}/")["ETag"]
    response = client.post(
        f"/api/v1/cases/{case.public_id}/status/", {"status": "active"}, HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "active"


# --- If-None-Match ------------------------------------------------------------


def test_a_detail_read_with_the_current_etag_is_304_without_a_body(api, case, knp_coordinator):
    client = api(knp_coordinator)
    url = f"/api/v1/cases/{case.public_id}/"
    etag = client.get(url)["ETag"]
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "no-store"


def test_a_detail_read_with_a_stale_etag_is_a_full_200(api, case, knp_coordinator):
    response = api(knp_coordinator).get(
        f"/api/v1/cases/{case.public_id}/", HTTP_IF_NONE_MATCH='"0"'
    )
    assert response.status_code == 200
    assert response.json()["id"] == str(case.public_id)


def test_a_list_carries_an_etag_of_its_body_and_answers_304_to_it(api, task, knp_coordinator):
    client = api(knp_coordinator)
    first = client.get("/api/v1/tasks/")
    assert first.status_code == 200 and first.json()["results"]
    assert client.get("/api/v1/tasks/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    other = client.get("/api/v1/tasks/", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200
    assert other["ETag"] == first["ETag"]


# --- Cache-Control -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/cases/", 200),
        ("/api/v1/cases/00000000-0000-0000-0000-000000000000/", 404),
        ("/api/v1/cases/?colour=red", 400),
        ("/api/nowhere/", 404),
    ],
)
def test_every_api_answer_is_no_store(api, knp_coordinator, path, status):
    response = api(knp_coordinator).get(path)
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"


def test_an_unauthenticated_answer_is_no_store(api):
    response = api().get("/api/v1/cases/")
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


def test_the_schema_may_be_kept_and_revalidated(client, knp_coordinator):
    client.force_login(knp_coordinator)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"
    again = client.get("/api/schema/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
