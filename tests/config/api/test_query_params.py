"""Query strings are strict: an unknown or empty parameter is a 400 naming it.

A partner that misspells a filter (`?stauts=open`) or sends an empty one
(`?case=`) would otherwise get everything, silently. The parameters each
operation takes are those the OpenAPI document declares, checked here for
every discovered route.
"""

from __future__ import annotations

import uuid
from urllib.parse import unquote

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from gate.roles import Role
from tests.factories import make_user

from .discovery import api_routes, hidden_kwargs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]

ROUTES = api_routes()
GET_ROUTES = [route for route in ROUTES if "get" in route.actions or not route.actions]


def _problem_fields(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/tasks/?case=", "case"),
        ("/api/v1/cases/?updated_before=", "updated_before"),
        ("/api/v1/notes/?created_since=", "created_since"),
        ("/api/v1/cases/?status=open&status=", "status"),
        ("/api/v1/cases/?q=", "q"),
    ],
)
def test_an_empty_value_is_a_400_naming_the_parameter(api, knp_coordinator, path, parameter):
    response = api(knp_coordinator).get(path)
    assert _problem_fields(response) == [(parameter, "blank")]


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/audit-events/"])
def test_page_size_null_is_a_400_everywhere(api, ccos, path):
    admin = make_user(ccos, Role.AGENCY_ADMIN)  # the audit trail's reader
    response = api(admin).get(path, {"page_size": "null"})
    assert _problem_fields(response) == [("page_size", "invalid")]


def test_a_detail_read_takes_no_filter(api, case, knp_coordinator):
    response = api(knp_coordinator).get(f"/api/v1/cases/{case.public_id}/", {"status": "open"})
    assert _problem_fields(response) == [("status", "unknown")]


def test_me_takes_no_parameter(api, knp_coordinator):
    assert _problem_fields(api(knp_coordinator).get("/api/v1/me/", {"verbose": "1"})) == [
        ("verbose", "unknown")
    ]


def test_every_unknown_parameter_is_named(api, knp_coordinator):
    response = api(knp_coordinator).get("/api/v1/cases/", {"stauts": "open", "colour": "red"})
    assert sorted(_problem_fields(response)) == [("colour", "unknown"), ("stauts", "unknown")]


def test_known_parameters_still_work(api, case, knp_coordinator):
    client = api(knp_coordinator)
    first = client.get("/api/v1/cases/", {"page_size": 1, "ordering": "-created_at"})
    assert first.status_code == 200
    assert client.get(first.json()["resume"]).status_code == 200
    assert client.get("/api/v1/cases/", {"format": "json", "status": "open"}).status_code == 200
    assert client.get(f"/api/v1/cases/{case.public_id}/", {"format": "json"}).status_code == 200


def test_an_unknown_parameter_is_refused_alike_on_hidden_and_missing_objects(api, case, outsider):
    """Checked before the object is looked up: the answer cannot tell them apart."""
    client = api(outsider)
    hidden = client.get(f"/api/v1/cases/{case.public_id}/", {"colour": "red"})
    missing = client.get(f"/api/v1/cases/{uuid.uuid4()}/", {"colour": "red"})
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()


def test_every_read_refuses_an_unknown_parameter(world, api):
    """Every GET route, on one world (building it is most of the cost)."""
    client = api(world.owner)
    wrong = {}
    for route in GET_ROUTES:
        url = reverse(route.name, kwargs=hidden_kwargs(route, world.owners))
        response = client.get(url, {"no_such_parameter": "1"})
        if response.status_code != 400 or response.json()["errors"] != [
            {"field": "no_such_parameter", "code": "unknown", "detail": "Unknown query parameter."}
        ]:
            wrong[url] = response.status_code
    assert wrong == {}
    assert len(GET_ROUTES) > 20


def _schema_path(route) -> str:
    return unquote(reverse(route.name, kwargs={k: "{" + k + "}" for k in route.kwargs}))


def test_the_schema_declares_exactly_the_parameters_each_operation_takes():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    checked = 0
    for route in ROUTES:
        operations = schema["paths"].get(_schema_path(route), {})
        for method in route.actions:
            if method not in operations:
                continue
            parameters = operations[method].get("parameters", ())
            declared = {p["name"] for p in parameters if p["in"] == "query"}
            accepted = route.view(method).accepted_query_params() - {"format"}
            assert declared == accepted, (method, route.name)
            checked += 1
    assert checked > 40


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/documents/?created_after=3547-10-14T19:58:08%2B20:06",
        "/api/v1/audit-events/?occurred_before=3547-10-14T19:58:08%2B20:06",
    ],
)
def test_a_date_offset_postgresql_cannot_take_is_read_in_utc_not_a_500(api, ccos, path):
    """PostgreSQL refuses offsets beyond ±15:59; every date filter normalises
    to UTC first (`config.api.filters.DateTimeFilter`; schemathesis found these two)."""
    admin = make_user(ccos, Role.AGENCY_ADMIN)
    response = api(admin).get(path)
    assert response.status_code == 200, response.content
