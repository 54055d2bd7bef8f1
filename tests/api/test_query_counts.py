"""A case list request costs the same few queries whatever the page size.

The gate's grant and participation checks are subqueries and the lead
agency is joined, so 200 rows cost what 10 do: the membership lookup, the
page, and (in the ascending sync order) the sync horizon. The 250 cases come
from the benchmark generator, whose rows tests/test_bench.py checks against
the selectors; building them through the services would take minutes.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(settings):
    from bench import generate

    return generate.generate(agencies=3, cases=250, users=12, keep_expected=True, quiet=True)


def _viewer_of(agency_id):
    return get_user_model().objects.get(membership__agency_id=agency_id, membership__role="viewer")


@pytest.mark.parametrize("ordering", ["-updated_at", "updated_at"])
@pytest.mark.parametrize("page_size", [10, 200])
def test_case_list_queries_do_not_grow_with_the_page(
    generated, api, ordering, page_size, django_assert_max_num_queries
):
    agency = max(generated.agencies, key=lambda a: len(generated.expected.get(a["id"], ())))
    assert len(generated.expected[agency["id"]]) >= page_size
    client = api(_viewer_of(agency["id"]))
    with django_assert_max_num_queries(3):
        response = client.get(f"/api/v1/cases/?page_size={page_size}&ordering={ordering}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size


def _list(client, **headers):
    response = client.get("/api/v1/cases/?page_size=50&ordering=-updated_at", **headers)
    assert response.status_code == 200
    return response


def test_bearer_token_request_reads_the_membership_with_the_token(
    generated, client, django_assert_num_queries
):
    from agencies.models import Agency
    from agencies.tokens import issue_api_token

    agency = Agency.objects.get(pk=generated.agencies[0]["id"])
    _, token = issue_api_token(agency=agency, role="viewer", name="partner system")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    _list(client, **headers)  # first use stamps the token's last use
    with django_assert_num_queries(2):  # the token with its member and agency, the page
        _list(client, **headers)


def test_session_request_reads_the_membership_with_the_user(
    generated, client, django_assert_num_queries
):
    agency = max(generated.agencies, key=lambda a: len(generated.expected.get(a["id"], ())))
    client.force_login(_viewer_of(agency["id"]))
    _list(client)  # first request stamps the session's activity
    with django_assert_num_queries(3):  # the session, the user with member and agency, the page
        _list(client)


@pytest.mark.parametrize("ordering", ["-updated_at", "updated_at"])
def test_a_cursor_page_joins_the_grants_once(generated, api, ordering):
    """The cursor and the sync horizon filter on the gate's own join, not on a second one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agency = max(generated.agencies, key=lambda a: len(generated.expected.get(a["id"], ())))
    client = api(_viewer_of(agency["id"]))
    first = client.get(f"/api/v1/cases/?page_size=10&ordering={ordering}").json()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(first["next"])
    assert response.status_code == 200
    [page] = [q["sql"] for q in queries.captured_queries if 'FROM "cases_case"' in q["sql"]]
    assert page.count('JOIN "cases_casegroupobjectpermission"') == 1
