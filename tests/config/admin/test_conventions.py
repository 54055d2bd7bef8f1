"""Every admin page follows the conventions of `config.admin_base`."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from config.admin_base import (
    GatedModelAdmin,
    GatedStackedInline,
    GatedTabularInline,
    PlatformModelAdmin,
)
from config.admin_site import CasebridgeAdminSite
from tests.admin_client import login


def test_the_default_admin_site_is_the_casebridge_site():
    assert isinstance(admin.site, CasebridgeAdminSite)


@pytest.mark.parametrize(
    "model_admin", list(admin.site._registry.values()), ids=lambda a: type(a).__name__
)
def test_every_registered_admin_derives_from_a_casebridge_base(model_admin):
    assert isinstance(model_admin, (GatedModelAdmin, PlatformModelAdmin))
    for inline in model_admin.inlines:
        assert issubclass(inline, (GatedTabularInline, GatedStackedInline))
    assert not model_admin.raw_id_fields


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model_admin", list(admin.site._registry.values()), ids=lambda a: type(a).__name__
)
def test_no_admin_offers_bulk_delete(model_admin, knp_coordinator):
    request = RequestFactory().get("/admin/")
    request.user = knp_coordinator
    assert "delete_selected" not in model_admin.get_actions(request)


@pytest.mark.django_db
def test_is_staff_with_model_permissions_opens_nothing(outsider, shared_case):
    """Django's own permission model is not a side door: a staff member holding
    every model permission still sees only what the gate allows."""
    from django.contrib.auth.models import Permission

    outsider.is_staff = True
    outsider.save()
    outsider.user_permissions.set(Permission.objects.all())
    client = login(outsider)
    assert client.get(f"/admin/cases/case/{shared_case.pk}/change/").status_code == 404
    assert shared_case.title not in client.get("/admin/cases/case/").content.decode()
    assert client.get("/admin/auth/user/").status_code == 403


@pytest.mark.django_db
def test_a_user_without_membership_cannot_enter(django_user_model):
    user = django_user_model.objects.create_user("drifter", password="x", is_staff=True)
    response = login(user).get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_superuser_manages_agencies_but_sees_no_case(django_user_model, shared_case):
    root = django_user_model.objects.create_superuser("root", password="x")
    client = login(root)
    assert client.get("/admin/agencies/agency/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200
    assert shared_case.title not in client.get("/admin/cases/case/").content.decode()
    assert client.get(f"/admin/cases/case/{shared_case.pk}/change/").status_code == 404


@pytest.mark.django_db
def test_a_subclass_of_a_registered_admin_keeps_the_gated_rows(kh_investigator, shared_case, case):
    """The selector is read from the class, so subclassing does not turn it into a method."""
    from cases.admin.cases import CaseAdmin

    class SubclassedCaseAdmin(CaseAdmin):
        pass

    request = RequestFactory().get("/admin/")
    request.user = kh_investigator
    rows = SubclassedCaseAdmin(shared_case.__class__, admin.site).get_queryset(request)
    assert list(rows) == [shared_case]
