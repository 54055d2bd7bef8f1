"""Bad input in admin forms shows a form error and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import AccessLevel, HandlingCode
from cases.models import Case, CaseGroupObjectPermission, CaseParticipation, Note, Task
from tests.admin_client import form_post
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Case, CaseParticipation, CaseGroupObjectPermission, Task, Note)
    }


def change_url(case):
    return reverse("admin:cases_case_change", args=[case.pk])


def errors_of(response) -> str:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    text = " ".join(str(e) for e in form.non_field_errors())
    text += " ".join(str(e) for errs in form.errors.values() for e in errs)
    return text


def test_sharing_an_amber_strict_case_through_the_action_is_refused(as_knp, knp_coordinator, ccos):
    strict = make_case(knp_coordinator, handling_code=HandlingCode.AMBER_STRICT)
    before = counts()
    response = as_knp.post(
        reverse("admin:cases_case_changelist"),
        {
            "action": "share_with_agency",
            "_selected_action": [strict.pk],
            "apply": "1",
            "agency": ccos.pk,
            "level": AccessLevel.CONTRIBUTE,
        },
    )
    assert response.status_code == 200
    assert "AMBER+STRICT" in str(response.context["form"].errors)
    assert counts() == before


def test_sharing_an_amber_strict_case_on_the_share_page_is_refused(as_knp, knp_coordinator, ccos):
    strict = make_case(knp_coordinator, handling_code=HandlingCode.AMBER_STRICT)
    before = counts()
    response = as_knp.post(
        reverse("admin:cases_case_share", args=[strict.pk]),
        {"agency": ccos.pk, "level": AccessLevel.VIEW},
    )
    assert response.status_code == 200
    assert "AMBER+STRICT" in str(response.context["form"].errors)
    assert counts() == before


def test_a_task_due_in_the_past_is_refused_on_the_workspace_form(as_knp, shared_case, ccos):
    yesterday = timezone.localdate() - dt.timedelta(days=3)
    form = as_knp.get(change_url(shared_case)).context["task_form"]
    before = counts()
    response = as_knp.post(
        reverse("admin:cases_case_new_task", args=[shared_case.pk]),
        form_post(
            form, title="Freeze exchange account", assigned_agency=ccos.pk, due_date=yesterday
        ),
    )
    assert response.status_code == 200
    assert "past" in str(response.context["form"].errors)
    assert counts() == before


def test_a_task_due_in_the_past_is_refused_on_the_task_page(as_knp, shared_case, ccos):
    before = counts()
    response = as_knp.post(
        reverse("admin:cases_task_add"),
        {
            "case": shared_case.pk,
            "title": "Freeze exchange account",
            "assigned_agency": ccos.pk,
            "priority": "normal",
            "due_date": (timezone.localdate() - dt.timedelta(days=3)).isoformat(),
        },
    )
    assert "past" in errors_of(response)
    assert counts() == before


def test_a_task_for_a_non_participating_agency_is_refused(as_knp, shared_case, unodc):
    before = counts()
    response = as_knp.post(
        reverse("admin:cases_task_add"),
        {
            "case": shared_case.pk,
            "title": "Interview UNODC analyst",
            "assigned_agency": unodc.pk,
            "priority": "normal",
        },
    )
    assert "participating" in errors_of(response)
    assert counts() == before


def test_the_workspace_task_form_offers_only_the_cases_participants(
    as_knp, shared_case, ccos, unodc
):
    form = as_knp.get(change_url(shared_case)).context["task_form"]
    offered = form.fields["assigned_agency"].queryset
    assert ccos in offered and unodc not in offered
    before = counts()
    response = as_knp.post(
        reverse("admin:cases_case_new_task", args=[shared_case.pk]),
        form_post(form, title="Refused", assigned_agency=unodc.pk),
    )
    assert "assigned_agency" in response.context["form"].errors
    assert counts() == before


def test_an_invalid_h3_case_shows_a_field_error(as_knp):
    before = counts()
    response = as_knp.post(
        reverse("admin:cases_case_add"),
        {
            "title": "No restriction written",
            "handling_code": HandlingCode.AMBER,
            "handling_instruction": "H3",
            "handling_restriction": "",
        },
    )
    assert "H3" in " ".join(response.context["adminform"].form.errors["handling_restriction"])
    assert counts() == before


def test_a_viewer_cannot_share_through_the_action(knp_viewer, shared_case, unodc):
    from tests.admin_client import login

    before = counts()
    response = login(knp_viewer).post(
        reverse("admin:cases_case_changelist"),
        {
            "action": "share_with_agency",
            "_selected_action": [shared_case.pk],
            "apply": "1",
            "agency": unodc.pk,
            "level": AccessLevel.VIEW,
        },
    )
    assert response.status_code == 302
    assert counts() == before
