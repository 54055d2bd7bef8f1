"""Listing what a user may see costs a constant number of queries.

One query finds the user's membership, one lists the objects: the gate's
grant and participation checks are subqueries, never a query per row.
(Building 50 cases through the services is the slow part, so each test
checks several selectors or personas on one world.)
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cases import access, services
from cases.choices import AccessLevel


@pytest.fixture
def fifty_shared_cases(knp_coordinator, ccos):
    cases = [services.create_case(actor=knp_coordinator, title=f"Case {i}") for i in range(50)]
    for case in cases:
        services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.VIEW)
    return cases


def _fresh(user):
    """A user as a request loads it: no membership cached yet."""
    return get_user_model().objects.get(pk=user.pk)


def test_listing_fifty_visible_cases_takes_two_queries(
    fifty_shared_cases, knp_coordinator, kh_viewer, outsider, django_assert_max_num_queries
):
    for persona, expected in [(knp_coordinator, 50), (kh_viewer, 50), (outsider, 0)]:
        user = _fresh(persona)
        with django_assert_max_num_queries(2):
            assert len(list(access.visible_cases(user))) == expected


def test_listing_children_of_fifty_cases_takes_two_queries(
    fifty_shared_cases, knp_coordinator, kh_viewer, ccos, django_assert_max_num_queries
):
    for case in fifty_shared_cases:
        services.create_task(actor=knp_coordinator, case=case, title="t", assigned_agency=ccos)
        services.add_note(actor=knp_coordinator, case=case, body="n", handling_code="GREEN")
    for selector, expected in [
        (access.visible_tasks, 50),
        (access.visible_notes, 50),
        (access.visible_participations, 100),
    ]:
        user = _fresh(kh_viewer)
        with django_assert_max_num_queries(2):
            assert len(list(selector(user))) == expected
