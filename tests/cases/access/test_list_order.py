"""The case list's gate is the gate: `visible_cases_in_list_order` selects
exactly `visible_cases`, in the same order, and its ordering copies follow
the case through every service that changes it.

The generated world (`python -m bench.generate`) has revoked shares, shares
expired but not yet swept (grants still present), confidential and
future-expiring ones, across agencies of very different sizes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from cases import access, services
from cases.choices import AccessLevel
from cases.models import CaseGroupObjectPermission, CaseParticipation
from tests.bench.bench_subprocess import generate
from tests.factories import pass_expiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(transactional_db):
    """Committed by the generator's own process; flushed after the test."""
    generate(agencies=6, cases=400, users=24)


def _ordered(queryset, *columns):
    return list(queryset.order_by(*columns).values_list("id", flat=True))


def _in_position_order(user):
    """`visible_cases(user)` by the rule the list follows: the case's
    `updated_at`, or the agency's view grant if later."""
    granted = CaseGroupObjectPermission.objects.filter(
        content_object=OuterRef("pk"),
        group_id=user.membership.agency.group_id,
        permission__codename="view_case",
    ).values("granted_at")[:1]
    return _ordered(
        access.visible_cases(user).annotate(position=Greatest("updated_at", Subquery(granted))),
        "-position",
        "-public_id",
    )


def test_list_gate_selects_the_visible_cases_in_the_same_order(generated):
    viewers = get_user_model().objects.filter(membership__role="viewer")
    assert viewers.values("membership__agency").distinct().count() == 6
    for user in viewers:
        expected = _in_position_order(user)
        listed = _ordered(
            access.visible_cases_in_list_order(user),
            *(f"-{c}" for c in access.LIST_ORDER_COLUMNS),
        )
        assert listed == expected, user.username


def test_a_grant_missing_behind_an_open_participation_hides_the_case(shared_case, kh_viewer):
    """Guardian is the source of truth: the participation alone shows nothing."""
    CaseGroupObjectPermission.objects.filter(
        content_object=shared_case, group_id=kh_viewer.membership.agency.group_id
    ).delete()
    assert not access.visible_cases_in_list_order(kh_viewer).exists()


def test_an_expired_participation_hides_the_case_before_the_job_runs(shared_case, kh_viewer):
    pass_expiry(shared_case, kh_viewer.membership.agency)
    assert not access.visible_cases_in_list_order(kh_viewer).exists()


def _positions(case) -> set[tuple]:
    return set(
        CaseGroupObjectPermission.objects.filter(content_object=case).values_list(
            "list_updated_at", "list_public_id"
        )
    )


def test_positions_follow_the_case_through_the_services(case, knp_coordinator, ccos):
    services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.VIEW)
    services.update_case(actor=knp_coordinator, case=case, title="Renamed")
    case.refresh_from_db()
    assert CaseGroupObjectPermission.objects.filter(content_object=case).count() == 4
    assert _positions(case) == {(case.updated_at, case.public_id)}


def test_a_share_after_the_last_change_positions_the_case_at_the_share(case, knp_coordinator, ccos):
    services.share_case(actor=knp_coordinator, case=case, agency=ccos, level="view")
    case.refresh_from_db()
    grant = CaseGroupObjectPermission.objects.get(content_object=case, group_id=ccos.group_id)
    assert grant.granted_at > case.updated_at
    assert (grant.list_updated_at, grant.list_public_id) == (grant.granted_at, case.public_id)


def test_a_share_leaves_the_other_agencies_grants_alone(shared_case, knp_coordinator, unodc):
    before = _row_versions(shared_case)
    services.share_case(actor=knp_coordinator, case=shared_case, agency=unodc, level="view")
    after = _row_versions(shared_case)
    assert len(after) == len(before) + 1
    assert set(before) <= set(after)


def test_one_update_of_many_cases_pushes_each_its_own_position(knp_coordinator, ccos):
    cases = [services.create_case(actor=knp_coordinator, title=f"Case {n}") for n in range(3)]
    for case in cases:
        services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.VIEW)
    base = timezone.now() + dt.timedelta(minutes=1)
    for n, case in enumerate(cases):  # distinct values, written below by one statement
        case.updated_at = base + dt.timedelta(seconds=n)
    type(cases[0]).objects.bulk_update(cases, ["updated_at"])
    for case in cases:
        assert _positions(case) == {(case.updated_at, case.public_id)}


def test_a_grant_written_with_a_stale_position_takes_its_case_values(shared_case, ccos):
    grant = CaseGroupObjectPermission.objects.get(
        content_object=shared_case, group_id=ccos.group_id, permission__codename="view_case"
    )
    CaseGroupObjectPermission.objects.filter(pk=grant.pk).update(
        list_updated_at=timezone.now() - dt.timedelta(days=30),
        granted_at=grant.granted_at - dt.timedelta(days=1),
    )
    grant.refresh_from_db()
    shared_case.refresh_from_db()
    assert grant.list_updated_at == max(shared_case.updated_at, grant.granted_at)


def _row_versions(case) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ctid::text FROM cases_casegroupobjectpermission"
            " WHERE content_object_id = %s ORDER BY id",
            [case.pk],
        )
        return [row[0] for row in cursor.fetchall()]


def test_an_update_that_keeps_the_position_does_not_rewrite_the_grants(shared_case):
    before = _row_versions(shared_case)
    type(shared_case).objects.filter(pk=shared_case.pk).update(title="Same position")
    assert _row_versions(shared_case) == before
    assert len(before) == 5


def test_an_update_that_moves_the_position_rewrites_the_grants(shared_case):
    """The other half: `_row_versions` does see a rewrite."""
    before = _row_versions(shared_case)
    later = timezone.now() + dt.timedelta(minutes=1)
    type(shared_case).objects.filter(pk=shared_case.pk).update(updated_at=later)
    assert not set(_row_versions(shared_case)) & set(before)
    assert _positions(shared_case) == {(later, shared_case.public_id)}


def test_a_grant_moved_to_another_case_takes_that_cases_position(
    shared_case, knp_coordinator, ccos
):
    other = services.create_case(actor=knp_coordinator, title="Elsewhere")
    grant = CaseGroupObjectPermission.objects.get(
        content_object=shared_case, group_id=ccos.group_id, permission__codename="view_case"
    )
    CaseGroupObjectPermission.objects.filter(pk=grant.pk).update(content_object=other)
    grant.refresh_from_db()
    other.refresh_from_db()
    assert grant.list_public_id == other.public_id
    assert grant.list_updated_at == max(other.updated_at, grant.granted_at)


def test_a_change_of_level_keeps_the_cases_position(shared_case, knp_coordinator, ccos):
    participation = CaseParticipation.objects.get(case=shared_case, agency=ccos)
    view = CaseGroupObjectPermission.objects.get(
        content_object=shared_case, group_id=ccos.group_id, permission__codename="view_case"
    )
    services.change_access(actor=knp_coordinator, participation=participation, level="view")
    kept = CaseGroupObjectPermission.objects.get(pk=view.pk)
    assert (kept.granted_at, kept.list_public_id) == (view.granted_at, view.list_public_id)
