"""A closed or archived case is a record: no new work goes into it until the
lead reopens it; sharing it (say, with a prosecutor) stays possible."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import services
from cases.choices import AccessLevel, CaseStatus
from cases.models import Note, Task
from gate.errors import Conflict


@pytest.fixture
def closed_case(shared_case, knp_coordinator):
    return services.change_case_status(
        actor=knp_coordinator, case=shared_case, status=CaseStatus.CLOSED
    )


def test_note_on_a_closed_case_is_refused_and_nothing_is_added(closed_case, knp_coordinator):
    with pytest.raises(Conflict):
        services.add_note(actor=knp_coordinator, case=closed_case, body="After the fact")
    assert not Note.objects.filter(case=closed_case).exists()


def test_task_on_a_closed_case_is_refused(closed_case, knp_coordinator, ccos):
    with pytest.raises(Conflict):
        services.create_task(
            actor=knp_coordinator, case=closed_case, title="Late", assigned_agency=ccos
        )
    assert not Task.objects.filter(case=closed_case).exists()


def test_existing_task_of_a_closed_case_cannot_be_moved(task, knp_coordinator, kh_investigator):
    services.change_case_status(actor=knp_coordinator, case=task.case, status=CaseStatus.CLOSED)
    with pytest.raises(Conflict):
        services.update_task(actor=kh_investigator, task=task, status="done")
    task.refresh_from_db()
    assert task.status == "todo"


def test_closed_case_can_still_be_shared(closed_case, knp_coordinator, unodc):
    participation = services.share_case(
        actor=knp_coordinator, case=closed_case, agency=unodc, level=AccessLevel.VIEW
    )
    assert participation.is_active


def test_reopened_case_accepts_notes_again(closed_case, knp_coordinator):
    services.change_case_status(actor=knp_coordinator, case=closed_case, status=CaseStatus.ACTIVE)
    note = services.add_note(actor=knp_coordinator, case=closed_case, body="New lead")
    assert note.case_id == closed_case.pk


def test_api_note_on_a_closed_case_is_a_409_problem(client, closed_case, knp_coordinator):
    client.force_login(knp_coordinator)
    response = client.post(
        reverse("api:v1:note-list"),
        {"case": str(closed_case.public_id), "body": "After the fact"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert "reopen" in response.json()["detail"]
    assert not Note.objects.filter(case=closed_case).exists()
