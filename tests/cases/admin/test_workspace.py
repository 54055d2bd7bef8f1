"""The case workspace: one page per case, in tabs, every action starting from it."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import deconfliction, services
from cases.choices import AccessLevel, CaseStatus, HandlingCode
from cases.models import Case, CaseParticipation, Note, Task, TaskLogEntry
from gate.roles import Role
from tests.admin_client import login
from tests.browser import Session
from tests.cases.mla.helpers import draft
from tests.factories import make_agency, make_case, make_document, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.AUDIT_HMAC_KEY = "test-audit-key"


def change_url(case):
    return reverse("admin:cases_case_change", args=[case.pk])


def page_url(case, name):
    return reverse(f"admin:cases_case_{name}", args=[case.pk])


@pytest.fixture
def moj(db):
    return make_agency("KR-MOJ", name="Ministry of Justice", country="KR", timezone="Asia/Seoul")


@pytest.fixture
def kh_moj(db):
    return make_agency("KH-MOJ", name="Ministry of Justice of Cambodia", country="KH")


# --- the page and its tabs ----------------------------------------------------------


def test_the_workspace_has_a_tab_per_section(as_kh, shared_case):
    body = as_kh.get(change_url(shared_case)).content.decode()
    for tab in (
        "overview",
        "tasks",
        "journal",
        "evidence",
        "identifiers",
        "network",
        "mla",
        "timeline",
    ):
        assert f'data-cb-tab="{tab}"' in body
        assert f'data-cb-panel="{tab}' in body
    assert "casebridge/workspace.css" in body and "casebridge/workspace.js" in body


def test_log_forms_are_outside_the_change_form(as_kh, task, shared_case):
    body = as_kh.get(change_url(shared_case)).content.decode()
    change_form_end = body.index("</form>", body.index('id="case_form"'))
    assert body.index('class="cb-log-form"') > change_form_end


def test_share_and_status_are_offered_to_the_lead_coordinator_only(as_knp, as_kh, shared_case):
    lead = as_knp.get(change_url(shared_case)).content.decode()
    assert page_url(shared_case, "share") in lead and page_url(shared_case, "status") in lead
    partner = as_kh.get(change_url(shared_case)).content.decode()
    assert page_url(shared_case, "share") not in partner
    assert page_url(shared_case, "status") not in partner


def test_an_investigator_may_not_open_the_share_or_status_page(as_kh, shared_case):
    assert as_kh.get(page_url(shared_case, "share")).status_code == 403
    assert as_kh.get(page_url(shared_case, "status")).status_code == 403


WORKSPACE_PAGES = [
    "change", "share", "status", "task_log", "note", "new_task", "history", "summary", "timeline"
]  # fmt: skip


def _rows() -> tuple[int, int, int]:
    return TaskLogEntry.objects.count(), Note.objects.count(), Task.objects.count()


@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_an_outsider_gets_404_on_every_workspace_page(as_outsider, shared_case, task, name):
    url = page_url(shared_case, name)
    before = _rows()
    form = {"task": task.pk, "body": "x", "agency": 1, "level": "view"}
    form |= {"note-body": "x", "task-title": "x", "task-assigned_agency": 1}
    for response in (as_outsider.get(url, {"task": task.pk}), as_outsider.post(url, form)):
        assert response.status_code == 404, url
        body = response.content.decode()
        assert shared_case.reference not in body and task.title not in body
    assert _rows() == before


@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_a_malformed_case_id_is_404_on_every_workspace_page(as_knp, name):
    url = page_url(Case(pk=1), name).replace("/1/", "/not-a-case/", 1)
    assert "/not-a-case/" in url
    assert as_knp.get(url).status_code == 404


# --- overview actions ----------------------------------------------------------------


def test_the_share_page_shares_the_case(as_knp, shared_case, moj):
    response = as_knp.post(
        page_url(shared_case, "share"), {"agency": moj.pk, "level": AccessLevel.VIEW}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(change_url(shared_case) + "#overview")
    assert CaseParticipation.objects.filter(case=shared_case, agency=moj, level="view").exists()


def test_a_refused_share_is_a_form_error_and_changes_nothing(as_knp, shared_case, knp):
    before = CaseParticipation.objects.count()
    response = as_knp.post(
        page_url(shared_case, "share"), {"agency": knp.pk, "level": AccessLevel.VIEW}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert CaseParticipation.objects.count() == before


def test_the_status_page_offers_allowed_statuses_and_moves_the_case(as_knp, shared_case):
    page = as_knp.get(page_url(shared_case, "status"))
    offered = [value for value, _label in page.context["form"].fields["status"].choices]
    assert offered == [CaseStatus.ACTIVE, CaseStatus.CLOSED]
    response = as_knp.post(page_url(shared_case, "status"), {"status": CaseStatus.ACTIVE})
    assert response.status_code == 302
    shared_case.refresh_from_db()
    assert shared_case.status == CaseStatus.ACTIVE


def test_a_status_not_offered_is_refused_on_the_form(as_knp, shared_case):
    response = as_knp.post(page_url(shared_case, "status"), {"status": CaseStatus.ARCHIVED})
    assert response.status_code == 200 and response.context["form"].errors
    shared_case.refresh_from_db()
    assert shared_case.status == CaseStatus.OPEN


# --- tasks and their progress logs --------------------------------------------------


def test_the_assigned_agency_logs_progress_from_the_workspace(as_kh, shared_case, task):
    response = as_kh.post(
        page_url(shared_case, "task_log"), {"task": task.pk, "body": "Wallet traced to OKX."}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(change_url(shared_case) + "#tasks")
    entry = TaskLogEntry.objects.get(task=task)
    assert entry.body == "Wallet traced to OKX." and entry.agency.code == "KH-CCOS"
    body = as_kh.get(change_url(shared_case)).content.decode()
    assert "Wallet traced to OKX." in body


def test_an_empty_progress_line_is_a_form_error(as_kh, shared_case, task):
    response = as_kh.post(page_url(shared_case, "task_log"), {"task": task.pk, "body": "  "})
    assert response.status_code == 200 and response.context["form"].errors
    assert not TaskLogEntry.objects.exists()


def test_a_viewer_gets_no_log_form_and_may_not_post(shared_case, task, ccos):
    viewer = login(make_user(ccos, Role.VIEWER))
    assert "cb-log-form" not in viewer.get(change_url(shared_case)).content.decode()
    response = viewer.post(page_url(shared_case, "task_log"), {"task": task.pk, "body": "x"})
    assert response.status_code == 403
    assert not TaskLogEntry.objects.exists()


def test_a_task_of_another_case_is_404_on_the_log_page(as_knp, shared_case, knp_coordinator):
    other = make_case(knp_coordinator)
    foreign = services.create_task(
        actor=knp_coordinator, case=other, title="Other", assigned_agency=other.lead_agency
    )
    response = as_knp.post(page_url(shared_case, "task_log"), {"task": foreign.pk, "body": "x"})
    assert response.status_code == 404
    assert as_knp.get(page_url(shared_case, "task_log"), {"task": "abc"}).status_code == 404


# --- evidence, identifiers, MLA requests ---------------------------------------------


def test_evidence_lists_visible_documents_with_their_links(as_knp, shared_case, kh_investigator):
    doc = make_document(kh_investigator, shared_case, title="Compound ledger")
    hidden = make_document(
        kh_investigator, shared_case, title="Informant list", handling_code="RED"
    )
    body = as_knp.get(change_url(shared_case)).content.decode()
    assert "Compound ledger" in body and "Informant list" not in body
    assert reverse("cases:document-download", args=[doc.public_id]) in body
    assert reverse("cases:document-custody", args=[doc.public_id]) in body
    assert reverse("admin:cases_document_change", args=[doc.pk]) in body
    assert reverse("cases:document-download", args=[hidden.public_id]) not in body
    assert f"{reverse('admin:cases_document_add')}?case={shared_case.pk}" in body


def test_identifiers_are_listed_with_an_add_link(as_kh, shared_case, kh_investigator):
    deconfliction.add_identifier(
        actor=kh_investigator, case=shared_case, kind="phone", value="+855 12 345 678"
    )
    body = as_kh.get(change_url(shared_case)).content.decode()
    assert "+855 12 345 678" in body
    assert f"{reverse('admin:cases_identifier_add')}?case={shared_case.pk}" in body


def test_mla_requests_of_the_case_are_listed_for_the_requesting_side(
    as_knp, shared_case, knp_coordinator, kh_moj
):
    request = draft(knp_coordinator, shared_case, kh_moj)
    response = as_knp.get(change_url(shared_case))
    assert list(response.context["mla_requests"]) == [request]
    body = response.content.decode()
    assert reverse("admin:cases_mlarequest_change", args=[request.pk]) in body
    assert f"{reverse('admin:cases_mlarequest_add')}?case={shared_case.pk}" in body


def test_a_participant_that_is_no_party_does_not_see_the_mla_request(
    as_knp, shared_case, knp_coordinator, ccos, kh_moj
):
    """DESIGN: an MLA request is the requesting and the requested agency's only."""
    services.change_access(
        actor=knp_coordinator,
        participation=CaseParticipation.objects.get(case=shared_case, agency=ccos),
        level=AccessLevel.MANAGE,
    )
    kh_coordinator = make_user(ccos, Role.COORDINATOR)
    draft(kh_coordinator, shared_case, kh_moj)
    assert list(as_knp.get(change_url(shared_case)).context["mla_requests"]) == []


def test_an_investigator_is_not_offered_to_draft_an_mla_request(as_kh, shared_case):
    body = as_kh.get(change_url(shared_case)).content.decode()
    assert reverse("admin:cases_mlarequest_add") not in body


# --- timeline and history ---------------------------------------------------------------


def timeline_text(client, case) -> str:
    response = client.get(page_url(case, "timeline"))
    return " ".join(f"{e.agency} {e.actor} {e.text}" for e in response.context["timeline"])


def test_the_lead_sees_a_partners_note_and_the_share_in_the_timeline(
    as_knp, shared_case, kh_investigator
):
    services.add_note(actor=kh_investigator, case=shared_case, body="Raid planned.")
    text = timeline_text(as_knp, shared_case)
    assert "shared the case with KH-CCOS" in text
    assert f"KH-CCOS {kh_investigator.username} added a journal entry." in text
    assert "Raid planned." not in text  # the log names the entry, not its content


def test_the_timeline_hides_a_red_note_and_a_confidential_participant(
    as_kh, shared_case, knp_coordinator, moj, kh_investigator
):
    services.add_note(
        actor=knp_coordinator, case=shared_case, body="Source X", handling_code=HandlingCode.RED
    )
    services.share_case(
        actor=knp_coordinator,
        case=shared_case,
        agency=moj,
        level=AccessLevel.CONTRIBUTE,
        confidential=True,
    )
    moj_user = make_user(moj, Role.INVESTIGATOR)
    services.add_note(actor=moj_user, case=shared_case, body="MOJ note")
    text = timeline_text(as_kh, shared_case)
    assert "opened the case" in text and "shared the case with KH-CCOS" in text
    assert "KR-MOJ" not in text and moj_user.username not in text
    assert "added a journal entry" not in text  # neither the RED note nor the MOJ note


def test_the_history_page_shows_the_timeline(as_knp, shared_case, kh_investigator):
    services.add_note(actor=kh_investigator, case=shared_case, body="Raid planned.")
    body = as_knp.get(page_url(shared_case, "history")).content.decode()
    assert "added a journal entry." in body and "KH-CCOS" in body


def test_task_progress_appears_in_the_timeline(as_knp, shared_case, task, kh_investigator):
    services.log_task_progress(actor=kh_investigator, task=task, body="Done half.")
    assert f"logged progress on the task “{task.title}”" in timeline_text(as_knp, shared_case)


# --- printable summary --------------------------------------------------------------------


def test_the_summary_includes_evidence_and_identifiers(as_knp, shared_case, knp_coordinator):
    make_document(knp_coordinator, shared_case, title="Compound ledger")
    deconfliction.add_identifier(
        actor=knp_coordinator,
        case=shared_case,
        kind="phone",
        value="+855 12 999 888",
    )
    body = as_knp.get(page_url(shared_case, "summary")).content.decode()
    assert "Compound ledger" in body and "+855 12 999 888" in body


# --- performance ----------------------------------------------------------------------------


def _fill(case, lead, partner_user, partner, n: int, start: int) -> None:
    for i in range(start, start + n):
        task = services.create_task(
            actor=lead, case=case, title=f"Task {i}", assigned_agency=partner
        )
        services.log_task_progress(actor=partner_user, task=task, body=f"Step {i}")
        services.add_note(actor=partner_user, case=case, body=f"Note {i}")
        make_document(partner_user, case, title=f"Doc {i}")
        deconfliction.add_identifier(
            actor=partner_user, case=case, kind="phone", value=f"+855 12 345 {i:03d}"
        )
        other = make_agency(f"XX-{i:03d}", country="KH")
        services.share_case(actor=lead, case=case, agency=other, level=AccessLevel.VIEW)


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_the_case(
    as_knp, shared_case, knp_coordinator, kh_investigator, ccos
):
    _fill(shared_case, knp_coordinator, kh_investigator, ccos, 1, 0)
    count_queries(as_knp, change_url(shared_case))  # warm caches (content types, sessions)
    one = count_queries(as_knp, change_url(shared_case))
    _fill(shared_case, knp_coordinator, kh_investigator, ccos, 4, 1)
    five = count_queries(as_knp, change_url(shared_case))
    assert five == one, (one, five)


# --- every link of the workspace opens ---------------------------------------------------


def workspace_links(body: str) -> set[str]:
    """The hrefs of the workspace's own parts: tabs' sections, overview actions."""
    parts = [body[body.index('id="cb-overview-actions"') :]]
    links = set()
    for part in parts:
        links |= set(re.findall(r'href="(/[^"#]*)"', part))
    return {html.unescape(link) for link in links}


@pytest.mark.parametrize("who", ["lead", "partner"])
def test_every_workspace_link_opens_for_its_reader(
    who, shared_case, knp_coordinator, kh_investigator, task, kh_moj
):
    user = knp_coordinator if who == "lead" else kh_investigator
    make_document(kh_investigator, shared_case, title="Compound ledger")
    deconfliction.add_identifier(
        actor=kh_investigator, case=shared_case, kind="phone", value="+855 12 345 678"
    )
    draft(knp_coordinator, shared_case, kh_moj)
    services.log_task_progress(actor=kh_investigator, task=task, body="Step one.")
    client = login(user)
    links = workspace_links(client.get(change_url(shared_case)).content.decode())
    assert len(links) >= 6, links
    for link in sorted(links):
        response = client.get(link)
        assert response.status_code == 200, (link, response.status_code)


# --- in a real browser ----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_investigator_opens_the_workspace_switches_tabs_and_logs_progress(
    browser,
    live_server,
):
    knp = make_agency("KR-KNP", country="KR", timezone="Asia/Seoul")
    ccos = make_agency("KH-CCOS", country="KH", timezone="Asia/Phnom_Penh")
    lead = make_user(knp, Role.COORDINATOR, "knp.lead")
    kh_user = make_user(ccos, Role.INVESTIGATOR, "kh.worker")
    case = make_case(lead, title="Golden Fortune compound")
    services.share_case(actor=lead, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    task = services.create_task(
        actor=lead, case=case, title="Trace USDT wallets", assigned_agency=ccos
    )

    kh = Session(browser, live_server, kh_user, "kh-workspace")
    page = kh.page
    page.click(f"#recent-shares a:has-text('{case.reference}')")
    page.wait_for_selector("#cb-tabs")
    assert page.is_visible("#cb-panel-overview") and not page.is_visible("#cb-evidence")

    page.click("#cb-tab-evidence")
    assert page.is_visible("#cb-upload-evidence") and not page.is_visible("#cb-panel-overview")
    assert page.url.endswith("#evidence")

    page.click("#cb-tab-tasks")
    assert page.is_visible("#cb-task-logs") and not page.is_visible("#cb-evidence")
    page.fill(f"#cb-log-body-{task.pk}", "Two wallets traced to an OKX account.")
    kh.shot("workspace-tasks")
    page.click(f"#cb-task-log-{task.pk} .cb-log-submit")
    page.wait_for_selector("ul.messagelist .success")
    assert page.url.endswith("#tasks") and page.is_visible("#cb-task-logs")
    assert "Two wallets traced" in page.inner_text(f"#cb-task-log-{task.pk}")
    assert TaskLogEntry.objects.get(task=task).user == kh_user

    page.click("#cb-tab-timeline")
    page.wait_for_selector("#cb-timeline-body[data-cb-loaded]")
    assert "logged progress on the task" in page.inner_text("#cb-timeline")
    page.reload()
    assert page.is_visible("#cb-timeline") and not page.is_visible("#cb-task-logs")
    page.wait_for_selector("#cb-timeline-body[data-cb-loaded]")  # the tab of the URL loads too
    kh.shot("workspace-timeline")
    kh.close()
