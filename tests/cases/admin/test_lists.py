"""The admin's lists of cases, tasks, notes, identifiers, documents and MLA
requests (`cases.admin.lists`): the API lists' order and filters, a count
that stops at a cap, and nothing an outsider may not see."""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agencies.choices import AgencyKind
from cases import access, mla, services
from cases.admin.cases import CaseAdmin
from cases.choices import AccessLevel, CaseStatus, HandlingCode, TaskStatus
from cases.deconfliction import add_identifier
from cases.documents import upload_document
from cases.models import Case
from tests.admin_client import login
from tests.cases.mla.helpers import draft
from tests.factories import make_agency, make_case, make_document, make_user

pytestmark = pytest.mark.django_db

LISTS = ("case", "task", "note", "identifier", "document", "mlarequest")
#: The table each list reads its rows from.
TABLES = {name: f"cases_{name}" for name in LISTS}


@pytest.fixture
def world(
    shared_case,
    task,
    note,
    knp_coordinator,
    kh_coordinator,
    kh_investigator,
    ccos,
    settings,
    tmp_path,
):
    """KR-KNP's case shared with KH-CCOS, and one KH-CCOS leads shared back;
    of each child kind some rows by each agency, with different statuses,
    handling codes and kinds, so that each filter keeps some rows and drops
    others. Nothing of it is UNODC's (the outsider's)."""
    settings.MEDIA_ROOT = str(tmp_path)
    red = make_case(
        knp_coordinator,
        title="Red ledger Sable-Wren",
        handling_code=HandlingCode.RED,
        crime_types=["money_laundering"],
    )
    services.change_case_status(actor=knp_coordinator, case=red, status=CaseStatus.ACTIVE)
    theirs = make_case(kh_coordinator, title="KH-CCOS compound raid Teal-Otter")
    services.share_case(
        actor=kh_coordinator,
        case=theirs,
        agency=knp_coordinator.membership.agency,
        level=AccessLevel.MANAGE,
    )
    ours = services.create_task(
        actor=knp_coordinator,
        case=shared_case,
        title="Freeze accounts",
        assigned_agency=knp_coordinator.membership.agency,
        priority="high",
    )
    services.update_task(actor=knp_coordinator, task=ours, status=TaskStatus.DONE)
    services.add_note(
        actor=kh_investigator,
        case=shared_case,
        body="Raid planned.",
        handling_code=HandlingCode.GREEN,
    )
    add_identifier(actor=knp_coordinator, case=shared_case, kind="email", value="boss@x.example")
    add_identifier(
        actor=kh_investigator,
        case=shared_case,
        kind="phone",
        value="+85512345678",
        handling_code=HandlingCode.GREEN,
    )
    make_document(knp_coordinator, shared_case)
    make_document(kh_investigator, shared_case, title="Raid photos", handling_code="AMBER")
    kh_moj = make_agency("KH-MOJ", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY)
    mla.submit_mla_request(
        actor=knp_coordinator, request=draft(knp_coordinator, shared_case, kh_moj)
    )
    draft(knp_coordinator, shared_case, kh_moj)
    return shared_case


@pytest.fixture
def one_row_pages(monkeypatch):
    """Every list a page per row, "Show all" for one row: a count cap of a
    few rows then applies (it is never below a page nor "Show all"'s
    limit, the rows Django reads unpaged)."""
    for name in LISTS:
        model_admin = type(admin.site.get_model_admin(apps.get_model("cases", name)))
        monkeypatch.setattr(model_admin, "list_per_page", 1)
        monkeypatch.setattr(model_admin, "list_max_show_all", 1)


def changelist(client, name: str, **params):
    return client.get(reverse(f"admin:cases_{name}_changelist"), params)


def listed(response) -> set[int]:
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def gated(model_admin_name: str, user):
    selectors = {
        "case": access.visible_cases,
        "task": access.visible_tasks,
        "note": access.visible_notes,
        "identifier": access.visible_identifiers,
        "document": access.visible_documents,
        "mlarequest": access.visible_mla_requests,
    }
    return selectors[model_admin_name](user)


#: (list, query string, the same filter on the gated queryset)
FILTERS = [
    ("case", {"status": "open"}, {"status": "open"}),
    ("case", {"status": "active"}, {"status": "active"}),
    ("case", {"handling_code": "RED"}, {"handling_code": "RED"}),
    ("case", {"lead_agency": "KH-CCOS"}, {"lead_agency__code": "KH-CCOS"}),
    ("case", {"crime_type": "money_laundering"}, {"crime_types__contains": ["money_laundering"]}),
    ("case", {"crime_type": "investment_fraud"}, {"crime_types__contains": ["investment_fraud"]}),
    ("task", {"status__exact": "done"}, {"status": "done"}),
    ("task", {"priority__exact": "high"}, {"priority": "high"}),
    ("task", {"assigned_agency": "KH-CCOS"}, {"assigned_agency__code": "KH-CCOS"}),
    ("note", {"handling_code__exact": "GREEN"}, {"handling_code": "GREEN"}),
    ("note", {"agency": "KH-CCOS"}, {"agency__code": "KH-CCOS"}),
    ("identifier", {"kind__exact": "phone"}, {"kind": "phone"}),
    ("identifier", {"handling_code__exact": "AMBER"}, {"handling_code": "AMBER"}),
    ("identifier", {"agency": "KR-KNP"}, {"agency__code": "KR-KNP"}),
    ("document", {"handling_code__exact": "AMBER"}, {"handling_code": "AMBER"}),
    ("document", {"content_type": "application/pdf"}, {"content_type": "application/pdf"}),
    ("document", {"agency": "KH-CCOS"}, {"agency__code": "KH-CCOS"}),
    ("mlarequest", {"status__exact": "draft"}, {"status": "draft"}),
    ("mlarequest", {"kind__exact": "full"}, {"kind": "full"}),
    ("mlarequest", {"urgency__exact": "normal"}, {"urgency": "normal"}),
]


@pytest.mark.parametrize(("name", "params", "lookup"), FILTERS, ids=lambda v: str(v))
def test_a_filter_lists_what_the_gated_queryset_with_that_filter_holds(
    world, knp_coordinator, name, params, lookup
):
    expected = set(gated(name, knp_coordinator).filter(**lookup).values_list("pk", flat=True))
    assert expected, "the world has rows for this filter"
    assert listed(changelist(login(knp_coordinator), name, **params)) == expected


@pytest.mark.parametrize(("name", "params", "lookup"), FILTERS, ids=lambda v: str(v))
def test_an_outsider_finds_nothing_with_any_filter(world, outsider, name, params, lookup):
    assert listed(changelist(login(outsider), name, **params)) == set()


@pytest.mark.parametrize("name", LISTS)
def test_an_outsider_finds_nothing_unfiltered(world, outsider, name):
    assert listed(changelist(login(outsider), name)) == set()


@pytest.mark.parametrize("name", LISTS)
def test_an_outsiders_hidden_row_page_is_404(world, outsider, knp_coordinator, name):
    pk = next(iter(listed(changelist(login(knp_coordinator), name))))
    url = reverse(f"admin:cases_{name}_change", args=[pk])
    assert login(outsider).get(url).status_code == 404


def test_the_task_filter_keeps_a_confidential_assignee_out(
    co_managed, knp_coordinator, kh_coordinator, php
):
    """Filtering by an agency whose part the reader may not know of lists
    nothing, as if it had no task: the rows stay the gate's."""
    services.create_task(
        actor=knp_coordinator, case=co_managed, title="Confidential lead", assigned_agency=php
    )
    assert listed(changelist(login(kh_coordinator), "task", assigned_agency="PH-PNP")) == set()
    assert listed(changelist(login(knp_coordinator), "task", assigned_agency="PH-PNP"))


def test_an_unknown_agency_code_lists_nothing(world, knp_coordinator):
    assert listed(changelist(login(knp_coordinator), "case", lead_agency="NO-SUCH")) == set()


def test_the_case_status_filter_reads_the_status_after_a_change(world, knp_coordinator):
    case = Case.objects.get(title="KH-CCOS compound raid Teal-Otter")
    client = login(knp_coordinator)
    assert case.pk not in listed(changelist(client, "case", status="active"))
    services.change_case_status(actor=knp_coordinator, case=case, status=CaseStatus.ACTIVE)
    assert case.pk in listed(changelist(client, "case", status="active"))


def test_cases_are_listed_newest_first_in_the_agencys_order(world, knp_coordinator, kh_coordinator):
    """A case shared with the reader today is new to it: it comes first, as
    the latest change does."""
    client = login(kh_coordinator)
    fresh = make_case(knp_coordinator, title="Shared just now")
    rows = list(changelist(client, "case").context["cl"].result_list)
    assert fresh not in rows
    services.share_case(
        actor=knp_coordinator,
        case=fresh,
        agency=kh_coordinator.membership.agency,
        level=AccessLevel.VIEW,
    )
    rows = list(changelist(client, "case").context["cl"].result_list)
    assert rows[0] == fresh
    positions = [row.list_updated_at for row in rows]
    assert positions == sorted(positions, reverse=True)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("task", "updated_at"),
        ("note", "created_at"),
        ("identifier", "created_at"),
        ("document", "created_at"),
        ("mlarequest", "updated_at"),
    ],
)
def test_a_child_list_is_newest_first_in_its_sync_order(world, knp_coordinator, name, field):
    rows = list(changelist(login(knp_coordinator), name).context["cl"].result_list)
    assert len(rows) > 1
    keys = [(getattr(row, field), row.public_id) for row in rows]
    assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("case", "listed"),
        ("task", "updated_at"),
        ("note", "created_at"),
        ("identifier", "created_at"),
        ("document", "created_at"),
        ("mlarequest", "updated_at"),
    ],
)
def test_only_the_indexed_order_is_offered_as_a_sortable_column(
    world, knp_coordinator, name, column
):
    body = changelist(login(knp_coordinator), name).content.decode()
    sortable = re.findall(r'<th scope="col" class="sortable column-([\w-]+)', body)
    assert sortable == [column]


def test_the_case_list_sorts_oldest_first_on_its_column(world, knp_coordinator):
    client = login(knp_coordinator)
    newest_first = list(changelist(client, "case").context["cl"].result_list)
    # Columns count from the action checkbox (0): the list position is 6.
    oldest_first = list(changelist(client, "case", o="6").context["cl"].result_list)
    assert oldest_first == newest_first[::-1]


# --- the count ----------------------------------------------------------------------


def test_a_list_longer_than_the_cap_says_more_than_the_cap(
    world, knp_coordinator, settings, one_row_pages
):
    settings.ADMIN_COUNT_CAP = 2
    response = changelist(login(knp_coordinator), "case")
    assert response.context["cl"].paginator.capped
    assert "more than 2 cases" in response.content.decode()


def test_a_list_within_the_cap_gives_its_count(world, knp_coordinator, settings, one_row_pages):
    settings.ADMIN_COUNT_CAP = 3
    response = changelist(login(knp_coordinator), "case")
    assert not response.context["cl"].paginator.capped
    assert "3 cases" in response.content.decode()
    assert "more than" not in response.content.decode()


def test_the_search_count_says_more_than_the_cap(world, knp_coordinator, settings, one_row_pages):
    settings.ADMIN_COUNT_CAP = 1
    response = changelist(login(knp_coordinator), "case", q="a")
    assert "more than 1 results" in response.content.decode()


def test_a_capped_list_offers_no_select_all_across_pages(
    world, knp_coordinator, settings, one_row_pages
):
    client = login(knp_coordinator)
    settings.ADMIN_COUNT_CAP = 3
    assert 'class="question' in changelist(client, "case").content.decode()
    settings.ADMIN_COUNT_CAP = 2
    assert 'class="question' not in changelist(client, "case").content.decode()


def test_the_count_cap_of_a_page_overrides_the_setting(
    world, knp_coordinator, monkeypatch, one_row_pages
):
    monkeypatch.setattr(CaseAdmin, "count_cap", 1)
    assert "more than 1 cases" in changelist(login(knp_coordinator), "case").content.decode()


def test_the_cap_is_never_below_a_page(world, knp_coordinator, settings):
    """A list of one page is read whole: its count is exact."""
    settings.ADMIN_COUNT_CAP = 1
    response = changelist(login(knp_coordinator), "case")
    assert not response.context["cl"].paginator.capped
    assert "3 cases" in response.content.decode()


def test_a_child_list_counts_one_page_past_the_page_shown(world, knp_coordinator, one_row_pages):
    services.create_task(
        actor=knp_coordinator,
        case=world,
        title="Third task",
        assigned_agency=knp_coordinator.membership.agency,
    )
    client = login(knp_coordinator)
    first = changelist(client, "task")
    assert first.context["cl"].paginator.capped
    assert "more than 2 tasks" in first.content.decode()
    second = changelist(client, "task", p="2")
    assert not second.context["cl"].paginator.capped
    assert "3 tasks" in second.content.decode()


def test_the_pages_of_a_capped_list_open(world, knp_coordinator, settings, one_row_pages):
    settings.ADMIN_COUNT_CAP = 2
    client = login(knp_coordinator)
    first = listed(changelist(client, "case", p="1"))
    second = listed(changelist(client, "case", p="2"))
    assert len(first) == len(second) == 1 and first != second


@pytest.mark.parametrize("page", ["3", "999", "0", "-1", "x"])
def test_a_page_past_the_cap_is_djangos_invalid_page_not_an_error(
    world, knp_coordinator, settings, one_row_pages, page
):
    settings.ADMIN_COUNT_CAP = 2
    response = changelist(login(knp_coordinator), "case", p=page)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    ("name", "params"),
    [(name, {}) for name in LISTS] + [(name, params) for name, params, _ in FILTERS],
    ids=lambda v: str(v),
)
def test_a_list_page_counts_with_a_limit_inside_the_count(
    world, knp_coordinator, name, params, one_row_pages
):
    """The count is of the list's first rows (`COUNT(*) FROM (… LIMIT n)`),
    once; and no query of a page of a longer list reads the list's table
    without a LIMIT: the rows are a page, the filters' choices are not
    looked up in the rows. (A list of one page is read whole, as Django
    does: its count was exact.)"""
    client = login(knp_coordinator)
    changelist(client, name)  # the session's own queries
    with CaptureQueriesContext(connection) as queries:
        response = changelist(client, name, **params)
    assert response.status_code == 200
    table = f'FROM "{TABLES[name]}"'
    reading = [q["sql"] for q in queries.captured_queries if table in q["sql"]]
    counts = [sql for sql in reading if "COUNT(" in sql]
    assert len(counts) == 1, counts
    limit = re.search(r"COUNT\(\*\) FROM \(SELECT .* LIMIT (\d+)\) subquery", counts[0])
    assert limit, counts[0]
    # To the cap (cases, MLA requests); a child list to the end of the next
    # page (pages of one row here: 2, and one more row to know).
    assert int(limit.group(1)) == (10_001 if name in ("case", "mlarequest") else 3)
    if response.context["cl"].multi_page:
        assert all("LIMIT" in sql for sql in reading), reading


# --- the case choices elsewhere take the list's shape and order ------------------


def test_the_case_autocomplete_finds_the_readers_cases_newest_first(world, kh_investigator):
    response = login(kh_investigator).get(
        reverse("admin:autocomplete"),
        {"app_label": "cases", "model_name": "note", "field_name": "case", "term": ""},
    )
    assert response.status_code == 200
    found = [int(row["id"]) for row in response.json()["results"]]
    assert found == list(
        access.visible_cases_in_list_order(kh_investigator)
        .order_by("-list_updated_at")
        .values_list("pk", flat=True)
    )
    assert len(found) == 2


def test_the_upload_form_offers_the_readers_cases(world, kh_investigator):
    response = login(kh_investigator).get(reverse("admin:cases_document_add"))
    offered = {
        choice.value
        for choice, _ in response.context["adminform"].form.fields["case"].choices
        if choice
    }
    assert offered == set(access.visible_cases(kh_investigator).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "params",
    [{"status": "open\x00"}, {"lead_agency": "KR\x00"}, {"status__exact": "\x00"}, {"q": "a\x00"}],
    ids=lambda v: next(iter(v)),
)
def test_a_nul_character_in_the_query_string_is_bad_input(world, knp_coordinator, params):
    """PostgreSQL cannot compare text with a NUL: refused before the list is read."""
    assert changelist(login(knp_coordinator), "case", **params).status_code == 400


@pytest.mark.parametrize("name", ["task", "note", "identifier"])
def test_a_child_list_of_an_agency_seeing_few_cases_is_read_case_by_case(
    world, knp_coordinator, name
):
    """As the API's list (`access.in_few_cases`): the rows of the agency's
    few cases by their case ids, not a walk of every agency's rows."""
    client = login(knp_coordinator)
    changelist(client, name)
    with CaptureQueriesContext(connection) as queries:
        changelist(client, name)
    page = [q["sql"] for q in queries.captured_queries if f'FROM "{TABLES[name]}"' in q["sql"]]
    assert page and all(f'"{TABLES[name]}"."case_id" IN (' in sql for sql in page)


def test_the_requested_side_lists_request_evidence_without_the_case_behind_it(
    shared_case, knp_coordinator, settings, tmp_path
):
    """Evidence filed on an MLA request carries the requesting side's case;
    the requested agency, which does not see that case, lists the document
    without learning the case's reference or title."""
    settings.MEDIA_ROOT = str(tmp_path)
    moj = make_agency("KH-MOJ", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY)
    request = mla.submit_mla_request(
        actor=knp_coordinator, request=draft(knp_coordinator, shared_case, moj)
    )
    upload_document(
        actor=knp_coordinator,
        mla_request=request,
        file=io.BytesIO(b"%PDF-1.7\n" + b"1" * 300),
        name="annex.pdf",
        title="Letter annex Cobalt-Lynx",
    )
    requested = login(make_user(moj)).get(reverse("admin:cases_document_changelist"))
    body = requested.content.decode()
    assert "Letter annex Cobalt-Lynx" in body
    assert shared_case.reference not in body and shared_case.title not in body
    own = login(knp_coordinator).get(reverse("admin:cases_document_changelist"))
    assert shared_case.reference in own.content.decode()
