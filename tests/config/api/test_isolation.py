"""Isolation matrix: every `/api/v1/` route and every method, as a non-participating agency.

Routes are discovered from the URL resolver (see `discovery.py`), so a new
endpoint is covered without touching this file, as long as the `world`
fixture (`conftest.py`) holds an object of its kind (the test fails loudly
otherwise).
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from .discovery import ALL_METHODS, api_routes, call, hidden_kwargs, probe_payload, random_kwargs

pytestmark = pytest.mark.usefixtures("_no_sync_margin")

ROUTES = api_routes()
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _normalise(body: str, *ids: str) -> str:
    for value in ids:
        body = body.replace(value, "<id>")
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", body)


def test_discovery_finds_the_known_endpoints():
    names = {route.name for route in ROUTES}
    for expected in ("case-list", "case-detail", "participant-detail", "task-list", "note-list"):
        assert f"api:v1:{expected}" in names
    assert "api:v1:me" in names


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_outsider_learns_and_changes_nothing(route, method, world, outsider, api):
    kwargs = hidden_kwargs(route, world.owners)
    url = reverse(route.name, kwargs=kwargs)
    before = world.state()
    response = call(api(outsider), method, url, probe_payload(world))
    assert world.state() == before, f"{method} {url} changed the hidden case"
    body = response.content.decode()
    for marker in world.markers:
        assert marker not in body, f"{method} {url} leaked {marker!r}"
    assert response.status_code < 500

    hidden_ids = [v for k, v in kwargs.items()]
    names_hidden_object = bool(hidden_ids) and not _outsider_sees(route, outsider, kwargs)
    if names_hidden_object and method != "OPTIONS":
        assert response.status_code in (404, 405), f"{method} {url}: {response.status_code}"
    if not kwargs and method in WRITE_METHODS and route.name.endswith("-list"):
        # Creation on a list: a body naming the hidden case is refused like an unknown id.
        assert response.status_code in (201, 400, 403, 404, 405), response.status_code
    if names_hidden_object:
        # Indistinguishable from an object that does not exist at all.
        other = call(
            api(outsider),
            method,
            reverse(route.name, kwargs=random_kwargs(route, kwargs)),
            probe_payload(world),
        )
        assert other.status_code == response.status_code
        assert _normalise(other.content.decode()) == _normalise(body)


def _outsider_sees(route, outsider, kwargs) -> bool:
    """Whether the named object is visible to the outsider anyway (the agency directory)."""
    from .discovery import _gated_view

    view_class = route.view_class
    if getattr(view_class, "parent_url_kwarg", "") in kwargs:
        return False  # nested under the hidden case
    lookup = getattr(view_class, "lookup_url_kwarg", None)
    view = _gated_view(route, outsider, dict(kwargs))
    return view.get_queryset().filter(**{view_class.lookup_field: kwargs[lookup]}).exists()


def test_most_routes_name_hidden_objects(world, outsider):
    """Guard against the matrix passing vacuously (everything visible to the outsider)."""
    hidden = [
        r
        for r in ROUTES
        if r.kwargs and not _outsider_sees(r, outsider, hidden_kwargs(r, world.owners))
    ]
    assert len(hidden) >= 5


def test_creating_on_a_hidden_case_is_refused_like_on_a_missing_one(world, outsider, api):
    """Tasks and notes name their case in the body: a hidden case is an unknown case."""
    import uuid

    client = api(outsider)
    for path, extra in (
        ("/api/v1/tasks/", {"title": "T", "assigned_agency": "UNODC"}),
        ("/api/v1/notes/", {"body": "probe"}),
    ):
        hidden = client.post(path, {"case": str(world.case.public_id), **extra}, format="json")
        missing = client.post(path, {"case": str(uuid.uuid4()), **extra}, format="json")
        assert hidden.status_code == missing.status_code == 400
        assert hidden.json() == missing.json()
        assert hidden.json()["errors"][0] == {
            "field": "case",
            "code": "unknown",
            "detail": "Unknown case.",
        }
