"""A participation shared by a confidential co-manager (on record from before
the third-party rule made sharing the lead's alone, issue 18): whom it shared
with must not learn of it through the participant row's `granted_by_agency`."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import services
from cases.choices import AccessLevel
from cases.models import CaseParticipation
from tests.factories import make_agency, make_user

pytestmark = pytest.mark.usefixtures("_no_sync_margin")


@pytest.fixture
def shared_by_confidential(case, knp_coordinator, thcc):
    """TH-CCIB manages KR-KNP's case confidentially and shared it with PH-PNP.

    Only the lead shares now, so the row is written as the old rule left it:
    shared by the lead, then named as granted by TH-CCIB."""
    services.share_case(
        actor=knp_coordinator, case=case, agency=thcc, level=AccessLevel.MANAGE, confidential=True
    )
    php = make_agency("PH-PNP", country="PH")
    services.share_case(actor=knp_coordinator, case=case, agency=php, level=AccessLevel.VIEW)
    CaseParticipation.objects.filter(case=case, agency=php).update(
        granted_by=make_user(thcc, "coordinator"), granted_by_agency=thcc
    )
    return php


def _participants(api, user, case):
    url = reverse("api:v1:participant-list", kwargs={"case_id": case.public_id})
    response = api(user).get(url)
    assert response.status_code == 200
    return {row["agency"]: row for row in response.json()["results"]}


def test_agency_shared_by_a_confidential_co_manager_does_not_learn_who_shared(
    api, case, shared_by_confidential
):
    rows = _participants(api, make_user(shared_by_confidential, "viewer"), case)
    assert "TH-CCIB" not in rows
    assert rows["PH-PNP"]["granted_by_agency"] is None
    assert "TH-CCIB" not in str(rows)


def test_lead_sees_which_confidential_co_manager_shared(
    api, case, knp_coordinator, shared_by_confidential
):
    rows = _participants(api, knp_coordinator, case)
    assert rows["PH-PNP"]["granted_by_agency"] == "TH-CCIB"


def test_sharer_sees_its_own_agency_as_granter_in_the_share_response(
    api, case, knp_coordinator, ccos
):
    url = reverse("api:v1:participant-list", kwargs={"case_id": case.public_id})
    response = api(knp_coordinator).post(url, {"agency": "KH-CCOS", "level": "view"}, format="json")
    assert response.status_code == 201
    assert response.json()["granted_by_agency"] == "KR-KNP"
