"""Consent to pooled statistics: the platform administrator or the agency's own administrators."""

from __future__ import annotations

import pytest

from agencies import services
from audit.models import AuditEvent
from gate.errors import PermissionDenied, ValidationFailed
from gate.roles import Role
from tests.factories import make_user


def test_an_agency_administrator_switches_the_agencys_consent_and_it_is_audited(knp):
    admin = make_user(knp, Role.AGENCY_ADMIN)
    services.set_statistics_contribution(actor=admin, agency=knp, contributes=True)
    knp.refresh_from_db()
    assert knp.contributes_statistics is True
    event = AuditEvent.objects.filter(object_type="agencies.agency").latest("seq")
    assert event.actor_id == admin.pk
    assert event.changes == {"contributes_statistics": {"before": False, "after": True}}


def test_the_platform_administrator_switches_it(knp, django_user_model):
    root = django_user_model.objects.create(username="root", is_superuser=True)
    services.set_statistics_contribution(actor=root, agency=knp, contributes=True)
    knp.refresh_from_db()
    assert knp.contributes_statistics is True


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.VIEWER])
def test_other_roles_of_the_agency_are_refused(knp, role):
    with pytest.raises(PermissionDenied):
        services.set_statistics_contribution(
            actor=make_user(knp, role), agency=knp, contributes=True
        )
    knp.refresh_from_db()
    assert knp.contributes_statistics is False


def test_another_agencys_administrator_is_refused(knp, ccos):
    with pytest.raises(PermissionDenied):
        services.set_statistics_contribution(
            actor=make_user(ccos, Role.AGENCY_ADMIN), agency=knp, contributes=True
        )
    knp.refresh_from_db()
    assert knp.contributes_statistics is False


def test_update_agency_does_not_change_the_consent(knp):
    with pytest.raises(ValidationFailed):
        services.update_agency(agency=knp, contributes_statistics=True)
