"""A case list request costs the same few queries whatever the page size.

The gate's grant and participation checks are subqueries and the lead
agency is joined, so 200 rows cost what 10 do: the membership lookup, the
page, and (in the ascending sync order) the sync horizon. The 250 cases come
from the benchmark generator (`python -m bench.generate`, committed once for
the module), whose rows tests/bench/test_bench.py checks against the selectors;
building them through the services would take minutes.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.bench.bench_subprocess import generated_world

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]


@pytest.fixture(scope="module")
def expected(django_db_setup, django_db_blocker):
    """Agency id -> the case ids the generator shared with it."""
    with generated_world(django_db_blocker, agencies=3, cases=250, users=12) as world:
        yield world


@pytest.fixture(scope="module")
def busiest(expected):
    """The generated agency that sees the most cases."""
    return max(expected, key=lambda agency_id: len(expected[agency_id]))


def _viewer_of(agency_id):
    return get_user_model().objects.get(membership__agency_id=agency_id, membership__role="viewer")


@pytest.mark.parametrize("ordering", ["-updated_at", "updated_at", "-created_at"])
@pytest.mark.parametrize("page_size", [10, 200])
def test_case_list_queries_do_not_grow_with_the_page(
    expected, busiest, api, ordering, page_size, django_assert_max_num_queries
):
    assert len(expected[busiest]) >= page_size
    client = api(_viewer_of(busiest))
    with django_assert_max_num_queries(3):
        response = client.get(f"/api/v1/cases/?page_size={page_size}&ordering={ordering}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size


def _list(client, **headers):
    response = client.get("/api/v1/cases/?page_size=50&ordering=-updated_at", **headers)
    assert response.status_code == 200
    return response


def test_bearer_token_request_reads_the_membership_with_the_token(
    busiest, client, django_assert_num_queries
):
    from agencies.models import Agency
    from agencies.tokens import issue_api_token

    agency = Agency.objects.get(pk=busiest)
    _, token = issue_api_token(agency=agency, role="viewer", name="partner system")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    _list(client, **headers)  # first use stamps the token's last use
    with django_assert_num_queries(2):  # the token with its member and agency, the page
        _list(client, **headers)


def test_session_request_reads_the_membership_with_the_user(
    busiest, client, django_assert_num_queries
):
    client.force_login(_viewer_of(busiest))
    _list(client)  # first request stamps the session's activity
    with django_assert_num_queries(3):  # the session, the user with member and agency, the page
        _list(client)


@pytest.mark.parametrize("ordering", ["-updated_at", "updated_at", "-created_at", "created_at"])
def test_a_cursor_page_joins_the_grants_once(busiest, api, ordering):
    """The cursor and the sync horizon filter on the gate's own join, not on a second one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(_viewer_of(busiest))
    first = client.get(f"/api/v1/cases/?page_size=10&ordering={ordering}").json()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(first["next"])
    assert response.status_code == 200
    [page] = [q["sql"] for q in queries.captured_queries if 'FROM "cases_case"' in q["sql"]]
    assert page.count('JOIN "cases_casegroupobjectpermission"') == 1
