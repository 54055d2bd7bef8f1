"""Read-only related fields link only to pages the reader may open; case
actions are offered only to roles that may take them."""

import re

import pytest
from django.urls import reverse

from gate.roles import Role
from tests.admin_client import login
from tests.factories import make_document, make_user

HREF = re.compile(r'href="(/admin/[^"#?]*)"')


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _hrefs(html: str) -> set[str]:
    skip = ("/admin/logout/", "/admin/jsi18n/")
    return {h for h in HREF.findall(html) if not h.startswith(skip)}


def _all_open(client, html: str) -> list[str]:
    return [h for h in sorted(_hrefs(html)) if client.get(h).status_code != 200]


def test_lead_agency_is_plain_text_for_a_coordinator(knp_coordinator, case):
    client = login(knp_coordinator)
    html = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert "/admin/agencies/agency/" not in html
    assert "KR-KNP — Korean National Police Agency" in html
    assert _all_open(client, html) == []


def test_uploaded_by_and_agency_are_plain_text_on_the_document_page(
    knp_coordinator, kh_investigator, shared_case
):
    kh_investigator.first_name, kh_investigator.last_name = "Sok", "Dara"
    kh_investigator.save()
    doc = make_document(kh_investigator, shared_case)
    client = login(knp_coordinator)
    html = client.get(reverse("admin:cases_document_change", args=[doc.pk])).content.decode()
    assert "/admin/auth/user/" not in html and "/admin/agencies/agency/" not in html
    assert "Sok Dara (KH-CCOS)" in html
    # The case the reader sees stays a link.
    assert reverse("admin:cases_case_change", args=[shared_case.pk]) in html
    assert _all_open(client, html) == []


def test_task_agency_on_the_case_page_is_plain_text(kh_investigator, task, shared_case):
    client = login(kh_investigator)
    html = client.get(reverse("admin:cases_case_change", args=[shared_case.pk])).content.decode()
    assert "/admin/agencies/agency/" not in html
    assert _all_open(client, html) == []


def _actions(client) -> set[str]:
    response = client.get(reverse("admin:cases_case_changelist"))
    return {name for name, _label in response.context["action_form"].fields["action"].choices}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INVESTIGATOR, Role.AGENCY_ADMIN])
def test_share_and_status_actions_are_not_offered_below_coordinator(knp, case, role):
    actions = _actions(login(make_user(knp, role)))
    assert "share_with_agency" not in actions and "change_status" not in actions
    assert "export_summary" in actions


def test_coordinator_is_offered_share_and_status_actions(knp_coordinator, case):
    actions = _actions(login(knp_coordinator))
    assert {"share_with_agency", "change_status", "export_summary"} <= actions
