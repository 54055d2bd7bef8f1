"""Agencies and memberships: an agency always has its Group, a person belongs
to one agency, and only that agency's administrators manage its people."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from agencies import services
from agencies.models import Agency, Membership
from cases import access
from gate.errors import NotFound, PermissionDenied, ValidationFailed
from gate.roles import Role
from tests.cases.access.helpers import unchanged
from tests.factories import make_user

User = get_user_model()


def _fresh(user):
    return User.objects.get(pk=user.pk)


def test_create_agency_makes_its_own_group(db):
    agency = services.create_agency(
        code="KR-MOJ", name="Ministry of Justice", country="KR", kind="central_authority"
    )
    assert agency.group.name == "agency:KR-MOJ"
    assert Group.objects.filter(pk=agency.group_id).exists()
    assert Agency.objects.get(code="KR-MOJ").group_id == agency.group_id


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("code", {"code": "kr moj"}),
        ("country", {"country": "Korea"}),
        ("kind", {"kind": "militia"}),
        ("timezone", {"timezone": "Mars/Olympus"}),
        ("name", {"name": ""}),
    ],
)
def test_create_agency_with_bad_field_is_refused_without_orphan_group(db, field, kwargs):
    data = {"code": "KR-MOJ", "name": "MOJ", "country": "KR", "kind": "central_authority"}
    data.update(kwargs)
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_agency(**data)
    assert field in exc.value.errors


def test_duplicate_agency_code_is_refused(knp):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_agency(code="KR-KNP", name="Again", country="KR", kind="police")
    assert "code" in exc.value.errors


def test_agency_code_whose_group_name_is_taken_is_refused(db):
    """Reusing a stray Group would hand its members the new agency's grants."""
    Group.objects.create(name="agency:KR-MOJ")
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_agency(code="KR-MOJ", name="MOJ", country="KR", kind="central_authority")
    assert "code" in exc.value.errors


def test_add_member_puts_the_user_in_the_agency_group(knp):
    user = make_user(knp, Role.INVESTIGATOR)
    assert user.membership.agency == knp
    assert user.groups.filter(pk=knp.group_id).exists()


def test_user_can_be_in_only_one_agency(knp, ccos):
    user = make_user(knp, Role.INVESTIGATOR)
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.add_member(user=user, agency=ccos, role=Role.VIEWER)
    assert "user" in exc.value.errors


def test_add_member_with_unknown_role_is_refused(knp):
    user = User.objects.create_user("loose", password="pw-loose-1")
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.add_member(user=user, agency=knp, role="boss")
    assert "role" in exc.value.errors


def test_create_member_with_taken_username_is_refused(knp):
    make_user(knp, Role.VIEWER, username="kr-knp.viewer")
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.create_member(username="kr-knp.viewer", agency=knp, role=Role.VIEWER)
    assert "username" in exc.value.errors


@pytest.fixture
def knp_admin(knp):
    return make_user(knp, Role.AGENCY_ADMIN)


@pytest.fixture
def member(knp):
    return make_user(knp, Role.VIEWER).membership


def test_agency_admin_changes_a_members_role(knp_admin, member):
    services.change_role(actor=knp_admin, membership=member, role=Role.INVESTIGATOR)
    assert Membership.objects.get(pk=member.pk).role == Role.INVESTIGATOR


def test_agency_admin_deactivates_a_member_who_then_sees_nothing(
    knp_admin, member, knp_coordinator, case
):
    assert access.visible_cases(_fresh(member.user)).exists()
    services.deactivate_member(actor=knp_admin, membership=member)
    assert not _fresh(member.user).is_active
    assert not access.visible_cases(_fresh(member.user)).exists()


def test_agency_admin_cannot_deactivate_itself(knp_admin):
    with unchanged(), pytest.raises(ValidationFailed):
        services.deactivate_member(actor=knp_admin, membership=knp_admin.membership)


def test_unknown_role_is_refused(knp_admin, member):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.change_role(actor=knp_admin, membership=member, role="boss")
    assert "role" in exc.value.errors


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.VIEWER])
def test_non_admin_of_the_same_agency_is_refused(knp, member, role):
    actor = make_user(knp, role)
    with unchanged(), pytest.raises(PermissionDenied):
        services.change_role(actor=actor, membership=member, role=Role.COORDINATOR)
    with unchanged(), pytest.raises(PermissionDenied):
        services.deactivate_member(actor=actor, membership=member)


def test_admin_of_another_agency_gets_not_found(ccos, member):
    """Another agency's staff list is invisible, so its members are 404, not 403."""
    foreign_admin = make_user(ccos, Role.AGENCY_ADMIN)
    with unchanged(), pytest.raises(NotFound):
        services.change_role(actor=foreign_admin, membership=member, role=Role.COORDINATOR)
    with unchanged(), pytest.raises(NotFound):
        services.deactivate_member(actor=foreign_admin, membership=member)


def test_superuser_without_membership_cannot_manage_members(member):
    root = User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    with unchanged(), pytest.raises(NotFound):
        services.change_role(actor=root, membership=member, role=Role.COORDINATOR)


def test_deactivated_admin_cannot_manage_members(knp_admin, member):
    User.objects.filter(pk=knp_admin.pk).update(is_active=False)
    with unchanged(), pytest.raises(NotFound):
        services.change_role(actor=_fresh(knp_admin), membership=member, role=Role.COORDINATOR)
