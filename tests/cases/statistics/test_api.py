"""`GET /api/v1/statistics/`: the figures as JSON, for coordinators only."""

from __future__ import annotations

import pytest

from gate.roles import Role
from tests.factories import make_user

from .conftest import open_cases, record_victims

URL = "/api/v1/statistics/"


def test_a_coordinator_reads_the_agencys_figures(api, case, knp_coordinator):
    open_cases(knp_coordinator, 5)
    response = api(knp_coordinator).get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "agency" and body["agency"] == "KR-KNP"
    assert body["cases"]["total"] == 6
    assert body["cases"]["by_crime_type_and_country"] == [
        {"crime_type": "investment_fraud", "country": "KR", "count": 6}
    ]
    assert body["victims"]["repatriated"] is None


def test_small_counts_reach_the_client_as_less_than_five(api, case, knp_coordinator):
    response = api(knp_coordinator).get(URL, {"since": "2000-01-01", "until": "2999-12-31"})
    assert response.json()["cases"]["total"] == "<5"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"scope": "everyone"}, "scope"),
        ({"since": "last week"}, "since"),
        ({"until": "2025-02-30"}, "until"),
        ({"since": "2025-05-01", "until": "2025-04-01"}, "until"),
        ({"agency": "KH-CCOS"}, "agency"),
        ({"scope": ""}, "scope"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(api, knp_coordinator, params, field):
    response = api(knp_coordinator).get(URL, params)
    assert response.status_code == 400, response.content
    assert field in {error["field"] for error in response.json()["errors"]}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INVESTIGATOR, Role.AGENCY_ADMIN])
def test_other_roles_are_refused(api, knp, role):
    response = api(make_user(knp, role)).get(URL)
    assert response.status_code == 403


def test_anonymous_is_refused(api):
    assert api().get(URL).status_code in (401, 403)


def test_an_outsider_gets_its_own_empty_figures_and_no_name(
    api, shared_case, knp_coordinator, outsider
):
    open_cases(knp_coordinator, 5)
    record_victims(knp_coordinator, shared_case, ["김민지", "Park Ji-ho", "A", "B", "C"])
    response = api(outsider).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["agency"] == "UNODC"
    assert body["cases"]["total"] == 0 and body["victims"]["identified"] == 0
    assert "김민지" not in response.content.decode()


def test_the_pooled_scope_names_its_contributors(
    api, knp_coordinator, kh_coordinator, thcc, contributing
):
    contributing(knp_coordinator.membership.agency, kh_coordinator.membership.agency, thcc)
    body = api(kh_coordinator).get(URL, {"scope": "contributors"}).json()
    assert body["contributors"] == ["KH-CCOS", "KR-KNP", "TH-CCIB"]
    assert body["withheld"] is False
