"""A task's progress log: who may add to it, what is kept, who sees it."""

from __future__ import annotations

import pytest

from audit.models import AuditAction, AuditEvent
from cases import access, services
from cases.choices import AccessLevel, CaseStatus
from cases.models import TaskLogEntry
from gate.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gate.roles import Role
from tests.factories import make_agency, make_user

pytestmark = pytest.mark.django_db


def test_an_investigator_of_the_assigned_agency_logs_progress(task, kh_investigator):
    entry = services.log_task_progress(actor=kh_investigator, task=task, body=" Wallet traced. ")
    assert entry.body == "Wallet traced."
    assert entry.agency.code == "KH-CCOS" and entry.user == kh_investigator
    assert entry.case_id == task.case_id


def test_the_log_is_audited_without_its_text(task, kh_investigator):
    entry = services.log_task_progress(actor=kh_investigator, task=task, body="Secret lead")
    event = AuditEvent.objects.get(object_type="cases.tasklogentry")
    assert event.action == AuditAction.CREATE and event.object_id == str(entry.public_id)
    assert event.changes == {"task": str(task.public_id), "case": str(task.case.public_id)}
    assert "Secret lead" not in str(event.changes)


def test_an_investigator_of_a_managing_agency_logs_progress(task, knp):
    investigator = make_user(knp, Role.INVESTIGATOR)
    services.log_task_progress(actor=investigator, task=task, body="Checked our side.")
    assert TaskLogEntry.objects.filter(task=task, agency=knp).exists()


def test_a_contributor_not_assigned_nor_managing_is_refused(task, knp_coordinator):
    third = make_agency("TH-CCIB", country="TH")
    services.share_case(
        actor=knp_coordinator, case=task.case, agency=third, level=AccessLevel.CONTRIBUTE
    )
    with pytest.raises(PermissionDenied):
        services.log_task_progress(
            actor=make_user(third, Role.INVESTIGATOR), task=task, body="Not ours."
        )
    assert not TaskLogEntry.objects.exists()


def test_a_viewer_is_refused(task, kh_viewer):
    with pytest.raises(PermissionDenied):
        services.log_task_progress(actor=kh_viewer, task=task, body="x")


def test_an_outsider_gets_not_found(task, outsider):
    with pytest.raises(NotFound):
        services.log_task_progress(actor=outsider, task=task, body="x")
    assert not TaskLogEntry.objects.exists()


@pytest.mark.parametrize("body", ["", "   ", None, 42, "x" * 4001])
def test_an_empty_or_oversized_line_is_refused(task, kh_investigator, body):
    with pytest.raises(ValidationFailed) as exc:
        services.log_task_progress(actor=kh_investigator, task=task, body=body)
    assert "body" in exc.value.errors
    assert not TaskLogEntry.objects.exists()


def test_a_closed_case_takes_no_progress(task, knp_coordinator, kh_investigator):
    services.change_case_status(actor=knp_coordinator, case=task.case, status=CaseStatus.CLOSED)
    with pytest.raises(Conflict):
        services.log_task_progress(actor=kh_investigator, task=task, body="Late.")


def test_a_confidential_co_managers_lines_are_hidden_from_other_participants(
    shared_case, knp, knp_coordinator, kh_investigator
):
    task = services.create_task(
        actor=knp_coordinator, case=shared_case, title="Lead's task", assigned_agency=knp
    )
    moj = make_agency("KR-MOJ", country="KR")
    services.share_case(
        actor=knp_coordinator,
        case=shared_case,
        agency=moj,
        level=AccessLevel.MANAGE,
        confidential=True,
    )
    services.log_task_progress(actor=make_user(moj, Role.COORDINATOR), task=task, body="MOJ")
    services.log_task_progress(actor=knp_coordinator, task=task, body="KNP")
    seen_by_kh = set(
        access.visible_task_log_entries(kh_investigator).values_list("body", flat=True)
    )
    seen_by_lead = set(
        access.visible_task_log_entries(knp_coordinator).values_list("body", flat=True)
    )
    assert seen_by_kh == {"KNP"} and seen_by_lead == {"MOJ", "KNP"}


def test_tasks_user_may_log_matches_the_gate(task, knp_coordinator, kh_investigator, knp):
    other = services.create_task(
        actor=knp_coordinator, case=task.case, title="KNP side", assigned_agency=knp
    )
    tasks = [task, other]
    for user in (kh_investigator, knp_coordinator, make_user(knp, Role.VIEWER)):
        expected = {t.pk for t in tasks if access.can(user, "log_progress", t)}
        assert access.tasks_user_may_log(user, task.case, tasks) == expected
    assert access.tasks_user_may_log(kh_investigator, task.case, tasks) == {task.pk}
