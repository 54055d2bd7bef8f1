"""A participation's "Change access" page (`CaseAdmin.access_view`): the
workspace's way to change or end one agency's access, through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import AccessLevel
from cases.models import CaseParticipation

pytestmark = pytest.mark.django_db


def access_url(case) -> str:
    return reverse("admin:cases_case_access", args=[case.pk])


def change_url(case) -> str:
    return reverse("admin:cases_case_change", args=[case.pk])


@pytest.fixture
def participation(shared_case, ccos) -> CaseParticipation:
    return CaseParticipation.objects.get(case=shared_case, agency=ccos, revoked_at__isnull=True)


def unchanged(participation: CaseParticipation) -> bool:
    before = (participation.level, participation.expires_at, participation.revoked_at)
    participation.refresh_from_db()
    return (participation.level, participation.expires_at, participation.revoked_at) == before


def test_the_workspace_offers_change_access_per_participant_to_who_may_share(
    as_knp, shared_case, participation
):
    body = as_knp.get(change_url(shared_case)).content.decode()
    assert f'href="{access_url(shared_case)}?participation={participation.public_id}"' in body
    assert 'class="cb-change-access"' in body


def test_the_lead_is_not_offered_a_change_of_its_own_access(as_knp, shared_case, knp):
    lead = CaseParticipation.objects.get(case=shared_case, agency=knp)
    body = as_knp.get(change_url(shared_case)).content.decode()
    assert str(lead.public_id) not in body


def test_the_page_shows_the_current_access(as_knp, shared_case, participation):
    response = as_knp.get(access_url(shared_case), {"participation": participation.public_id})
    assert response.status_code == 200
    assert response.context["form"]["level"].value() == AccessLevel.CONTRIBUTE
    body = response.content.decode()
    assert 'id="cb-access-form"' in body and 'id="cb-revoke-access"' in body


def test_a_coordinator_changes_an_agencys_level(as_knp, shared_case, participation):
    response = as_knp.post(
        access_url(shared_case),
        {"participation": participation.public_id, "level": AccessLevel.VIEW},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(change_url(shared_case) + "#overview")
    participation.refresh_from_db()
    assert participation.level == AccessLevel.VIEW and participation.revoked_at is None


def test_end_access_revokes_the_participation(as_knp, shared_case, participation):
    response = as_knp.post(
        access_url(shared_case), {"participation": participation.public_id, "_revoke": "1"}
    )
    assert response.status_code == 302
    participation.refresh_from_db()
    assert participation.revoked_at is not None


def test_an_unknown_level_is_a_form_error_and_changes_nothing(as_knp, shared_case, participation):
    response = as_knp.post(
        access_url(shared_case), {"participation": participation.public_id, "level": "owner"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["level"]
    assert unchanged(participation)


def test_an_expiry_in_the_past_is_a_form_error_and_changes_nothing(
    as_knp, shared_case, participation
):
    past = timezone.localtime() - dt.timedelta(days=2)
    response = as_knp.post(
        access_url(shared_case),
        {
            "participation": participation.public_id,
            "level": participation.level,
            "expires_at": past.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert unchanged(participation)


def test_the_leads_own_access_cannot_be_ended(as_knp, shared_case, knp):
    lead = CaseParticipation.objects.get(case=shared_case, agency=knp)
    response = as_knp.post(
        access_url(shared_case), {"participation": lead.public_id, "_revoke": "1"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert unchanged(lead)


def test_an_investigator_may_not_open_the_page_nor_is_offered_it(as_kh, shared_case, participation):
    response = as_kh.get(access_url(shared_case), {"participation": participation.public_id})
    assert response.status_code == 403
    response = as_kh.post(
        access_url(shared_case), {"participation": participation.public_id, "_revoke": "1"}
    )
    assert response.status_code == 403
    assert unchanged(participation)
    assert "cb-change-access" not in as_kh.get(change_url(shared_case)).content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_outsider_gets_404_and_learns_nothing(as_outsider, shared_case, participation, method):
    response = getattr(as_outsider, method)(
        access_url(shared_case),
        {"participation": participation.public_id, "level": "view", "_revoke": "1"},
    )
    assert response.status_code == 404
    body = response.content.decode()
    assert shared_case.reference not in body and "KH-CCOS" not in body
    assert unchanged(participation)


@pytest.mark.parametrize("value", ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_participation_is_404(as_knp, shared_case, value):
    assert as_knp.get(access_url(shared_case), {"participation": value}).status_code == 404


def test_an_ended_participation_is_404(as_knp, shared_case, participation):
    as_knp.post(access_url(shared_case), {"participation": participation.public_id, "_revoke": "1"})
    response = as_knp.get(access_url(shared_case), {"participation": participation.public_id})
    assert response.status_code == 404


def test_a_participation_of_another_case_is_404(as_knp, shared_case, knp_coordinator, ccos):
    from cases import services
    from tests.factories import make_case

    other = make_case(knp_coordinator)
    services.share_case(actor=knp_coordinator, case=other, agency=ccos, level=AccessLevel.VIEW)
    elsewhere = CaseParticipation.objects.get(case=other, agency=ccos)
    response = as_knp.post(
        access_url(shared_case), {"participation": elsewhere.public_id, "_revoke": "1"}
    )
    assert response.status_code == 404
    assert unchanged(elsewhere)
