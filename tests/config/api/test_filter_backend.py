"""List filters still apply and validate when the backend skips the FilterSet
for requests that name no filter (`config.api.filters.FilterBackend`)."""

from __future__ import annotations

import pytest

from cases import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def open_and_closed(knp_coordinator):
    kept = services.create_case(actor=knp_coordinator, title="Compound A")
    closed = services.create_case(actor=knp_coordinator, title="Compound B")
    services.change_case_status(actor=knp_coordinator, case=closed, status="closed")
    return kept, closed


def test_a_named_filter_is_applied(api, knp_coordinator, open_and_closed):
    kept, _ = open_and_closed
    response = api(knp_coordinator).get("/api/v1/cases/", {"status": "open"})
    assert _ids(response) == {str(kept.public_id)}


def test_a_bad_filter_value_is_a_400_on_its_field(api, knp_coordinator, open_and_closed):
    response = api(knp_coordinator).get("/api/v1/cases/", {"status": "bogus"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"


def test_a_parameter_that_names_no_filter_is_a_400_naming_it(api, knp_coordinator, open_and_closed):
    """A misspelt filter must not silently return everything."""
    response = api(knp_coordinator).get("/api/v1/cases/", {"colour": "red", "status": "open"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "colour", "code": "unknown", "detail": "Unknown query parameter."}
    ]
