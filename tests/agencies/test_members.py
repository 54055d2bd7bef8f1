"""Agency administrators run their own agency's members; the superuser runs agencies."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from agencies.models import Agency, Membership
from gate.roles import Role
from tests.admin_client import login
from tests.factories import make_user

pytestmark = pytest.mark.django_db
User = get_user_model()
STRONG = "Tonle-Sap-river-2026"


@pytest.fixture
def kh_admin(ccos):
    return make_user(ccos, Role.AGENCY_ADMIN)


def invite(client, **extra):
    data = {"username": "sokha", "password": STRONG, "role": Role.INVESTIGATOR, "language": "km"}
    data.update(extra)
    return client.post(reverse("admin:agencies_membership_add"), data)


def test_an_agency_admin_invites_a_member_of_their_own_agency(kh_admin, ccos):
    response = invite(login(kh_admin))
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="sokha")
    assert membership.agency == ccos and membership.language == "km"
    assert membership.user.check_password(STRONG)


def test_an_agency_admin_cannot_invite_into_another_agency(kh_admin, ccos, knp):
    invite(login(kh_admin), agency=knp.pk)
    assert Membership.objects.get(user__username="sokha").agency == ccos


def test_a_weak_initial_password_is_a_form_error(kh_admin):
    before = User.objects.count()
    response = invite(login(kh_admin), password="123")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["password"]
    assert User.objects.count() == before


def test_a_taken_username_is_a_form_error(kh_admin, kh_investigator):
    before = User.objects.count()
    response = invite(login(kh_admin), username=kh_investigator.username)
    assert "taken" in str(response.context["adminform"].form.errors)
    assert User.objects.count() == before


def test_an_agency_admin_changes_a_members_role(kh_admin, kh_investigator):
    membership = kh_investigator.membership
    url = reverse("admin:agencies_membership_change", args=[membership.pk])
    response = login(kh_admin).post(url, {"role": Role.COORDINATOR})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.COORDINATOR


def test_an_agency_admin_deactivates_a_member(kh_admin, kh_investigator):
    response = login(kh_admin).post(
        reverse("admin:agencies_membership_changelist"),
        {"action": "deactivate", "_selected_action": [kh_investigator.membership.pk]},
    )
    assert response.status_code == 302
    kh_investigator.refresh_from_db()
    assert not kh_investigator.is_active


def test_another_agencys_member_is_404_for_an_agency_admin(kh_admin, knp_coordinator):
    membership = knp_coordinator.membership
    client = login(kh_admin)
    for name in ("change", "history", "delete"):
        url = reverse(f"admin:agencies_membership_{name}", args=[membership.pk])
        assert client.get(url).status_code == 404
    body = client.get(reverse("admin:agencies_membership_changelist")).content.decode()
    assert knp_coordinator.username not in body


def test_a_coordinator_does_not_manage_members(kh_coordinator, kh_investigator):
    client = login(kh_coordinator)
    assert client.get(reverse("admin:agencies_membership_changelist")).status_code == 403
    url = reverse("admin:agencies_membership_change", args=[kh_investigator.membership.pk])
    assert client.get(url).status_code == 404


def test_the_agency_admin_sees_no_case_it_was_not_given(kh_admin, case):
    body = login(kh_admin).get(reverse("admin:cases_case_changelist")).content.decode()
    assert case.reference not in body


def test_the_superuser_creates_an_agency_with_its_group(django_user_model):
    root = django_user_model.objects.create_superuser("root", password=STRONG)
    response = login(root).post(
        reverse("admin:agencies_agency_add"),
        {
            "code": "INTERPOL",
            "name": "INTERPOL",
            "country": "INT",
            "kind": "international",
            "timezone": "Europe/Paris",
            "active": "on",
        },
    )
    assert response.status_code == 302
    agency = Agency.objects.get(code="INTERPOL")
    assert agency.group.name == "agency:INTERPOL"


def test_the_superuser_invites_an_agencys_first_admin(django_user_model, unodc):
    root = django_user_model.objects.create_superuser("root", password=STRONG)
    response = invite(login(root), agency=unodc.pk, role=Role.AGENCY_ADMIN)
    assert response.status_code == 302
    assert Membership.objects.get(user__username="sokha").agency == unodc


def test_a_member_choosing_korean_gets_korean_screens(kh_investigator):
    client = login(kh_investigator)
    client.post(reverse("admin:preferences"), {"language": "ko"})
    kh_investigator.membership.refresh_from_db()
    assert kh_investigator.membership.language == "ko"
    response = client.get(reverse("admin:index"))
    assert response.headers["Content-Language"] == "ko"
