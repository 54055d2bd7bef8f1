"""The case page does the investigators' work through the services."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import AccessLevel, CaseStatus, HandlingCode, TaskStatus
from cases.models import Case, CaseParticipation, Note
from gate.roles import Role
from tests.admin_client import change_form_data, form_post, login
from tests.factories import make_case, make_user

pytestmark = pytest.mark.django_db


def change_url(case):
    return reverse("admin:cases_case_change", args=[case.pk])


def test_a_coordinator_creates_a_case_led_by_their_agency(as_knp, knp):
    response = as_knp.post(
        reverse("admin:cases_case_add"),
        {
            "title": "Romance scam ring",
            "summary": "Victims in Busan.",
            "crime_types": ["romance_fraud"],
            "handling_code": HandlingCode.AMBER,
            "handling_instruction": "H0",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(title="Romance scam ring")
    assert case.lead_agency == knp and case.reference.startswith("KR-KNP-")
    assert case.crime_types == ["romance_fraud"]
    assert CaseParticipation.objects.filter(case=case, agency=knp, level="manage").exists()


def test_a_coordinator_shares_on_the_share_page(as_knp, case, ccos):
    """The expiry is typed in the coordinator's agency time zone (KNP: Seoul)."""
    seoul = zoneinfo.ZoneInfo("Asia/Seoul")
    expiry = (timezone.now() + dt.timedelta(days=30)).replace(second=0, microsecond=0)
    response = as_knp.post(
        reverse("admin:cases_case_share", args=[case.pk]),
        {
            "agency": ccos.pk,
            "level": AccessLevel.CONTRIBUTE,
            "expires_at": expiry.astimezone(seoul).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    participation = CaseParticipation.objects.get(case=case, agency=ccos)
    assert participation.level == AccessLevel.CONTRIBUTE
    assert participation.expires_at == expiry


def test_end_access_on_a_participants_access_page_revokes_it(as_knp, shared_case, ccos):
    participation = CaseParticipation.objects.get(case=shared_case, agency=ccos)
    access_url = reverse("admin:cases_case_access", args=[shared_case.pk])
    page = as_knp.get(change_url(shared_case)).content.decode()
    assert f"{access_url}?participation={participation.public_id}" in page
    response = as_knp.post(access_url, {"participation": participation.public_id, "_revoke": "1"})
    assert response.status_code == 302
    participation.refresh_from_db()
    assert participation.revoked_at is not None  # ended, kept as a record
    assert login_sees_case(ccos_member(ccos), shared_case) is False


def ccos_member(ccos):
    from tests.factories import make_user

    return make_user(ccos, "investigator")


def login_sees_case(user, case) -> bool:
    return login(user).get(change_url(case)).status_code == 200


def test_the_share_action_shares_with_an_agency(as_knp, case, ccos):
    response = as_knp.post(
        reverse("admin:cases_case_changelist"),
        {
            "action": "share_with_agency",
            "_selected_action": [case.pk],
            "apply": "1",
            "agency": ccos.pk,
            "level": AccessLevel.VIEW,
            "confidential": "on",
        },
    )
    assert response.status_code == 302
    participation = CaseParticipation.objects.get(case=case, agency=ccos)
    assert participation.confidential and participation.level == AccessLevel.VIEW


def _share_action(client, cases, agency, level):
    return client.post(
        reverse("admin:cases_case_changelist"),
        {
            "action": "share_with_agency",
            "_selected_action": [c.pk for c in cases],
            "apply": "1",
            "agency": agency.pk,
            "level": level,
        },
    )


def test_the_share_action_shares_several_cases_at_once(as_knp, case, knp_coordinator, ccos):
    other = make_case(knp_coordinator)
    response = _share_action(as_knp, [case, other], ccos, AccessLevel.CONTRIBUTE)
    assert response.status_code == 302
    shared = CaseParticipation.objects.filter(agency=ccos, level=AccessLevel.CONTRIBUTE)
    assert set(shared.values_list("case_id", flat=True)) == {case.pk, other.pk}


def test_the_share_action_names_a_refused_case_and_shares_none(as_knp, case, knp_coordinator, ccos):
    strict = make_case(knp_coordinator, handling_code=HandlingCode.AMBER_STRICT)
    response = _share_action(as_knp, [case, strict], ccos, AccessLevel.VIEW)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["agency"])
    assert strict.reference in errors and "AMBER+STRICT" in errors
    assert not CaseParticipation.objects.filter(agency=ccos).exists()


def test_the_share_action_first_asks_for_the_agency(as_knp, case):
    response = as_knp.post(
        reverse("admin:cases_case_changelist"),
        {"action": "share_with_agency", "_selected_action": [case.pk]},
    )
    assert response.status_code == 200
    assert "agency" in response.context["form"].fields


def test_an_investigator_adds_a_journal_entry(as_kh, shared_case):
    note_url = reverse("admin:cases_case_note", args=[shared_case.pk])
    page = as_kh.get(change_url(shared_case))
    assert f'action="{note_url}"' in page.content.decode()
    response = as_kh.post(
        note_url, form_post(page.context["note_form"], body="Compound raided; 40 phones seized.")
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#journal")
    note = Note.objects.get(body="Compound raided; 40 phones seized.")
    assert note.agency.code == "KH-CCOS" and note.handling_code == HandlingCode.AMBER


def test_an_empty_journal_entry_is_a_form_error(as_kh, shared_case):
    response = as_kh.post(reverse("admin:cases_case_note", args=[shared_case.pk]), {})
    assert response.status_code == 200
    assert "body" in response.context["form"].errors
    assert not Note.objects.filter(case=shared_case).exists()


def test_a_viewer_gets_no_journal_form_and_403_on_its_page(shared_case, ccos):
    client = login(make_user(ccos, Role.VIEWER))
    assert client.get(change_url(shared_case)).context["note_form"] is None
    note_url = reverse("admin:cases_case_note", args=[shared_case.pk])
    assert client.post(note_url, {"note-body": "x"}).status_code == 403
    assert not Note.objects.filter(case=shared_case).exists()


def test_a_coordinator_creates_a_task_from_the_workspace(as_knp, shared_case, ccos):
    page = as_knp.get(change_url(shared_case))
    response = as_knp.post(
        reverse("admin:cases_case_new_task", args=[shared_case.pk]),
        form_post(
            page.context["task_form"],
            title="Trace wallets",
            assigned_agency=ccos.pk,
            priority="high",
        ),
    )
    assert response.status_code == 302 and response["Location"].endswith("#tasks")
    task = shared_case.tasks.get(title="Trace wallets")
    assert task.assigned_agency == ccos and task.priority == "high"


def test_an_investigator_moves_their_agencys_task_on_its_page(as_kh, shared_case, task):
    task_url = reverse("admin:cases_task_change", args=[task.pk])
    assert f'href="{task_url}"' in as_kh.get(change_url(shared_case)).content.decode()
    data = change_form_data(as_kh.get(task_url))
    data["status"] = TaskStatus.IN_PROGRESS
    response = as_kh.post(task_url, data)
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS


def test_saved_tasks_are_not_editable_on_the_case_page(as_knp, shared_case, task):
    page = as_knp.get(change_url(shared_case))
    body = page.content.decode()
    assert task.title in body  # listed, linking to its own page
    assert 'name="task-status"' not in body and not page.context["inline_admin_formsets"]


def test_an_investigator_sees_the_case_fields_read_only(as_kh, shared_case):
    page = as_kh.get(change_url(shared_case))
    assert "title" not in page.context["adminform"].form.fields
    assert shared_case.title in page.content.decode()


def test_journal_entries_cannot_be_edited(as_knp, note, shared_case):
    """A forged post naming the saved entry only ever adds a new one."""
    page = as_knp.get(change_url(shared_case))
    assert note.body in page.content.decode()  # listed read-only
    data = form_post(page.context["note_form"], body="Rewritten history")
    as_knp.post(
        reverse("admin:cases_case_note", args=[shared_case.pk]),
        {**data, "note-id": note.pk, "id": note.pk},
    )
    note.refresh_from_db()
    assert note.body == "Victim statements collected in Seoul."
    assert Note.objects.filter(body="Rewritten history").exclude(pk=note.pk).count() == 1


def test_the_handling_code_is_shown_in_its_tlp_colour(as_kh, shared_case):
    body = as_kh.get(change_url(shared_case)).content.decode()
    assert 'id="handling-banner"' in body and "tlp-amber" in body and "TLP:AMBER" in body


def test_the_change_status_action_moves_the_case(as_knp, case):
    response = as_knp.post(
        reverse("admin:cases_case_changelist"),
        {
            "action": "change_status",
            "_selected_action": [case.pk],
            "apply": "1",
            "status": CaseStatus.ACTIVE,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE


def test_an_illegal_status_change_is_reported_and_changes_nothing(as_knp, case):
    response = as_knp.post(
        reverse("admin:cases_case_changelist"),
        {
            "action": "change_status",
            "_selected_action": [case.pk],
            "apply": "1",
            "status": CaseStatus.ARCHIVED,
        },
        follow=True,
    )
    assert any(case.reference in str(m) for m in response.context["messages"])
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_the_export_action_renders_a_printable_summary(as_kh, shared_case, note, task):
    response = as_kh.post(
        reverse("admin:cases_case_changelist"),
        {"action": "export_summary", "_selected_action": [shared_case.pk]},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert shared_case.reference in body and note.body in body and task.title in body
    # The print button is wired by casebridge/workspace.js (the CSP refuses inline handlers).
    assert "data-cb-print" in body and "casebridge/workspace.js" in body


def test_my_work_lists_open_tasks_recent_shares_and_overdue(as_kh, shared_case, task):
    type(task).objects.filter(pk=task.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=2)
    )
    response = as_kh.get(reverse("admin:index"))
    assert list(response.context["open_tasks"]) == [task]
    assert list(response.context["overdue_tasks"]) == [task]
    assert [p.case for p in response.context["recent_shares"]] == [shared_case]


def test_history_lists_only_entries_by_my_agency(as_knp, as_kh, shared_case):
    data = change_form_data(as_knp.get(change_url(shared_case)))
    data["title"] = "Renamed by the lead"
    assert as_knp.post(change_url(shared_case), data).status_code == 302
    history = reverse("admin:cases_case_history", args=[shared_case.pk])
    assert len(as_knp.get(history).context["action_list"]) == 1
    assert len(as_kh.get(history).context["action_list"]) == 0


def test_a_stale_form_does_not_overwrite_a_newer_case(as_knp, knp_coordinator):
    case = make_case(knp_coordinator)
    page = as_knp.get(change_url(case))
    data = change_form_data(page)
    Case.objects.filter(pk=case.pk).update(summary="Changed meanwhile", version=case.version + 1)
    data["title"] = "New title"
    response = as_knp.post(change_url(case), data)
    assert response.status_code == 200
    assert "someone else" in str(response.context["adminform"].form.non_field_errors())
    case.refresh_from_db()
    assert case.title != "New title" and case.summary == "Changed meanwhile"


def test_the_python_written_select_matches_djangos(ccos, unodc):
    from django import forms

    from cases.admin.cases import OptionsInPythonSelect

    choices = [("", "---------"), (ccos.pk, str(ccos)), (unodc.pk, 'A <b>"quoted"</b> & co')]
    attrs = {"id": "id_tasks-0-assigned_agency", "required": True}
    expected = forms.Select(choices=choices).render("tasks-0-assigned_agency", unodc.pk, attrs)
    ours = OptionsInPythonSelect(choices=choices).render("tasks-0-assigned_agency", unodc.pk, attrs)
    assert _html(ours) == _html(expected)


def _html(rendered) -> str:
    """Markup without the whitespace between tags that Django's templates add."""
    text = " ".join(str(rendered).replace('selected=""', "selected").split())
    return text.replace("> <", "><")


def test_the_workspace_timeline_shows_the_latest_steps_and_links_the_history(
    as_knp, shared_case, monkeypatch
):
    from cases.admin import cases as case_admin

    monkeypatch.setattr(case_admin, "WORKSPACE_TIMELINE_LIMIT", 1)
    response = as_knp.get(reverse("admin:cases_case_timeline", args=[shared_case.pk]))
    assert len(response.context["timeline"]) == 1  # opened + shared: the latest only
    history = reverse("admin:cases_case_history", args=[shared_case.pk])
    body = as_knp.get(change_url(shared_case)).content.decode()
    assert f'href="{history}" id="cb-timeline-all"' in body
