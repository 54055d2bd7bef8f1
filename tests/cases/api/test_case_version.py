"""A case's `version`, `updated_at` and ETag follow the case's own fields only.

Work on a case's children a participant may not see (a RED note, an
AMBER+STRICT identifier, a confidential agency's task, note or access) must
not change the case as that participant reads it: a new version with nothing
new in it would tell them that something they may not see happened.

KR-KNP leads the case; KH-CCOS takes part openly at `contribute`; UNODC, in
the tests that need it, confidentially.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cases import services
from cases.choices import AccessLevel
from cases.models import CaseParticipation
from gate.roles import Role
from tests.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]


def _seen(client, case) -> tuple[dict, str]:
    """The case as `client`'s agency reads it: its body and its ETag."""
    response = client.get(f"/api/v1/cases/{case.public_id}/")
    assert response.status_code == 200, response.content
    return response.json(), response["ETag"]


@pytest.fixture
def confidential(shared_case, knp_coordinator, unodc):
    """UNODC takes part in `shared_case` confidentially: KH-CCOS does not see it."""
    return services.share_case(
        actor=knp_coordinator,
        case=shared_case,
        agency=unodc,
        level=AccessLevel.CONTRIBUTE,
        confidential=True,
    )


@pytest.fixture
def unodc_investigator(unodc):
    return make_user(unodc, Role.INVESTIGATOR)


def test_a_partners_red_note_leaves_the_case_unchanged_for_the_lead(
    api, shared_case, knp_coordinator, kh_investigator
):
    lead = api(knp_coordinator)
    before = _seen(lead, shared_case)
    response = api(kh_investigator).post(
        "/api/v1/notes/",
        {"case": str(shared_case.public_id), "body": "Source inside.", "handling_code": "RED"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert lead.get(f"/api/v1/notes/{response.json()['id']}/").status_code == 404
    assert _seen(lead, shared_case) == before


def test_a_partners_amber_strict_identifier_leaves_the_case_unchanged_for_the_lead(
    api, shared_case, knp_coordinator, kh_investigator
):
    lead = api(knp_coordinator)
    before = _seen(lead, shared_case)
    response = api(kh_investigator).post(
        "/api/v1/identifiers/",
        {
            "case": str(shared_case.public_id),
            "kind": "email",
            "value": "broker@example.com",
            "handling_code": "AMBER+STRICT",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert lead.get(f"/api/v1/identifiers/{response.json()['id']}/").status_code == 404
    assert _seen(lead, shared_case) == before


def test_a_task_for_a_confidential_agency_leaves_the_case_unchanged_for_a_partner(
    api, shared_case, confidential, unodc, knp_coordinator, kh_investigator
):
    partner = api(kh_investigator)
    before = _seen(partner, shared_case)
    response = api(knp_coordinator).post(
        "/api/v1/tasks/",
        {"case": str(shared_case.public_id), "title": "Covert check", "assigned_agency": "UNODC"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert partner.get(f"/api/v1/tasks/{response.json()['id']}/").status_code == 404
    assert _seen(partner, shared_case) == before


CONFIDENTIAL_WORK = {
    "a note": lambda user, task: services.add_note(
        actor=user, case=task.case, body="Informant met.", handling_code="GREEN"
    ),
    "progress on its task": lambda user, task: services.log_task_progress(
        actor=user, task=task, body="Wallet traced."
    ),
    "its task's status": lambda user, task: services.update_task(
        actor=user, task=task, status="in_progress"
    ),
}


@pytest.mark.parametrize("work", CONFIDENTIAL_WORK.values(), ids=CONFIDENTIAL_WORK.keys())
def test_a_confidential_agencys_work_leaves_the_case_unchanged_for_a_partner(
    api,
    shared_case,
    confidential,
    unodc,
    knp_coordinator,
    kh_investigator,
    unodc_investigator,
    work,
):
    task = services.create_task(
        actor=knp_coordinator, case=shared_case, title="Covert check", assigned_agency=unodc
    )
    partner = api(kh_investigator)
    before = _seen(partner, shared_case)
    work(unodc_investigator, task)
    assert _seen(partner, shared_case) == before


def test_changing_a_confidential_agencys_access_leaves_the_case_unchanged_for_a_partner(
    api, shared_case, confidential, knp_coordinator, kh_investigator
):
    partner = api(kh_investigator)
    before = _seen(partner, shared_case)
    response = api(knp_coordinator).patch(
        f"/api/v1/cases/{shared_case.public_id}/participants/{confidential.public_id}/",
        {"level": AccessLevel.VIEW},
        format="json",
        HTTP_IF_MATCH=f'"{confidential.version}"',
    )
    assert response.status_code == 200, response.content
    assert CaseParticipation.objects.get(pk=confidential.pk).level == AccessLevel.VIEW
    assert _seen(partner, shared_case) == before


def test_a_change_to_the_cases_own_fields_is_a_new_version_for_every_participant(
    api, shared_case, knp_coordinator, kh_investigator
):
    partner = api(kh_investigator)
    (body, etag) = _seen(partner, shared_case)
    response = api(knp_coordinator).patch(
        f"/api/v1/cases/{shared_case.public_id}/",
        {"title": "Renamed"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content
    (after, new_etag) = _seen(partner, shared_case)
    assert after["title"] == "Renamed"
    assert after["version"] == body["version"] + 1
    assert dt.datetime.fromisoformat(after["updated_at"]) > dt.datetime.fromisoformat(
        body["updated_at"]
    )
    assert new_etag == f'"{body["version"] + 1}"' != etag
