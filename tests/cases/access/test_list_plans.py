"""Every list x filter line reads the reader's visible set through an index.

The lines are `bench.list_lines`, the table `bench.lists` times at 1M: each
list endpoint serving case data, each documented filter alone, the
combinations investigators use. Here each is requested through the API at
small size as a viewer of one agency, and every statement it ran is
explained as the planner would plan it at scale (issue 19).

On a few hundred rows PostgreSQL rightly reads tables whole, hashes and
sorts: `enable_seqscan = off` alone is not enough, as it swaps each Seq Scan
for a walk of the whole primary key or another index, which no Seq Scan
check sees. So the planner is left only index scans, nested loops and (for a
list of more than one object's rows) the page in index order (`PLANNER_OFF`):
the plan it picks for 51 rows out of millions. Then, on the tables of case
data and grants (`WATCHED`), a line walks if its plan has

* a Seq Scan: the table is read whole;
* an index scan bounded by no equality on a key (an agency, a group, a row,
  a named object; a time range or a permission alone spans every agency):
  every agency's rows are walked, each asked the rule;
* a Sort of the page (outside a per-row subquery), unless the line names one
  object (a case, a task, a request, a hash): every match is read to be sorted;
* on the case list, a case row filtered as it is fetched for each grant
  entry walked: the list's filters read the grant's copies
  (`access.LIST_FILTER_COLUMNS`), a filter that does not walks the agency's
  list until it has a page.

What a plan's shape cannot tell is how far a walk along the reader's own
index goes before the page is full (`status=closed` walks it when few cases
are closed): `bench.lists` measures the rows read at 1M.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import resolve
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.choices import AgencyKind
from bench.list_lines import ENDPOINTS, LINES, Line, Values
from cases import access, deconfliction, services
from cases.choices import AccessLevel, CaseStatus, HandlingCode, TaskPriority, TaskStatus
from cases.documents import upload_document
from cases.models import Case, MLARequest
from gate.roles import Role
from tests.cases.mla.helpers import draft, drive, path_to
from tests.factories import make_agency, make_case, make_user

#: Case data and the grants deciding who sees it: the tables that grow with
#: the cases. (Documents and MLA requests are read through the same gate,
#: but their own tables are not judged: the 1M data set holds no documents
#: and 10k requests.)
WATCHED = frozenset(
    {
        "cases_case",
        "cases_casegroupobjectpermission",
        "cases_caseparticipation",
        "cases_task",
        "cases_note",
        "cases_identifier",
    }
)

READER = "KH-CCOS"
SIZE = 240  # cases
CRIMES = (
    ["investment_fraud"],
    ["romance_fraud"],
    ["human_trafficking", "forced_labour"],
    ["money_laundering"],
)
CODES = (HandlingCode.AMBER, HandlingCode.GREEN, HandlingCode.RED, HandlingCode.AMBER)
LEVELS = (AccessLevel.VIEW, AccessLevel.CONTRIBUTE, AccessLevel.MANAGE)
IDENTIFIERS = (
    {"kind": "phone", "value": "+855 12 345 {:03d}"},
    {"kind": "crypto_wallet", "value": "0x{:040x}", "chain": "ethereum"},
    {"kind": "bank_account", "value": "00{:08d}", "bank_code": "0012", "country": "KH"},
    {"kind": "email", "value": "broker{}@example.com"},
)

# --- the world -------------------------------------------------------------------------


@dataclass
class World:
    reader: Any  # a viewer of READER
    values: Values  # what the lines' placeholders stand for, for the reader
    group_id: int  # READER's group, which holds its grants


def _build_world(size: int) -> World:
    """Five agencies and `size` cases led by four of them. KH-CCOS, the
    reader, sees about a third of them: its own, and shares at each level
    (some confidential, some expiring, some revoked); the others share among
    themselves. Tasks with each status, priority and due date, notes of each
    handling code, identifiers of four kinds, documents (on tasks, on an MLA
    request) and MLA requests each way."""
    knp = make_agency("KR-KNP", country="KR", timezone="Asia/Seoul")
    ccos = make_agency(READER, country="KH")
    unodc = make_agency("UNODC", country="INT", kind=AgencyKind.INTERNATIONAL)
    thcc = make_agency("TH-CCIB", country="TH", timezone="Asia/Bangkok")
    moj = make_agency("KH-MOJ", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY)
    boss = {a.pk: make_user(a, Role.COORDINATOR) for a in (knp, ccos, unodc, thcc, moj)}
    leads = (knp, knp, knp, unodc, thcc, knp, unodc, thcc, ccos, knp)
    cases = []
    for i in range(size):
        lead = leads[i % len(leads)]
        case = make_case(
            boss[lead.pk],
            title=f"Operation {i}: " + ("investment fraud" if i % 3 == 0 else "compound raid"),
            crime_types=CRIMES[i % len(CRIMES)],
            handling_code=CODES[i % len(CODES)],
        )
        if i % 5 in (1, 2):
            status = CaseStatus.ACTIVE if i % 5 == 1 else CaseStatus.CLOSED
            services.change_case_status(actor=boss[lead.pk], case=case, status=status)
        cases.append(case)
    _share(cases, boss, partners=(ccos, unodc, thcc, knp), revoked_from=ccos)
    today = timezone.localdate()
    for i, case in enumerate(cases):
        if i % 2 or i % 5 == 2:  # closed cases (above) take no new work
            continue
        actor = boss[case.lead_agency_id]
        others = case.participations.filter(revoked_at=None).exclude(agency=case.lead_agency_id)
        for n, assignee in enumerate([case.lead_agency, *(p.agency for p in others)][:2]):
            task = services.create_task(
                actor=actor,
                case=case,
                title=f"Trace wallets {i}.{n}" + (" (fraud desk)" if i % 4 == 0 else ""),
                assigned_agency=assignee,
                priority=TaskPriority.values[(i // 2 + n) % len(TaskPriority.values)],
                due_date=today + dt.timedelta(days=(i * 7 + n) % 60) if i % 3 else None,
            )
            if i % 4 == 0:
                status = TaskStatus.values[1 + (i // 4 + n) % (len(TaskStatus.values) - 1)]
                services.update_task(actor=actor, task=task, status=status)
        services.add_note(
            actor=actor, case=case, body=f"Victims interviewed ({i}).", handling_code=CODES[i % 4]
        )
        if i % 3 == 0:
            item = IDENTIFIERS[i // 3 % len(IDENTIFIERS)]
            deconfliction.add_identifier(
                actor=actor, case=case, **{**item, "value": item["value"].format(i)}
            )
    _add_evidence_and_requests(ccos, knp, moj, boss)
    _as_if_grown_over(days=720)
    reader = make_user(ccos, Role.VIEWER)
    return World(reader=reader, values=_values_for(reader), group_id=ccos.group_id)


def _share(cases, boss, partners, revoked_from) -> None:
    """Each case shared with about one other agency, at a level, confidential
    or expiring as its number says (in bulk: one call per kind of share);
    then some of `revoked_from`'s shares revoked."""
    soon = timezone.now() + dt.timedelta(days=90)
    batches: dict[tuple, list[Case]] = defaultdict(list)
    for i, case in enumerate(cases):
        for n, partner in enumerate(p for p in partners if p.pk != case.lead_agency_id):
            if (i + n) % 4 == 0:
                terms = (LEVELS[(i // 4 + n) % 3], i % 11 == 0, soon if i % 6 == 0 else None)
                batches[(case.lead_agency_id, partner, *terms)].append(case)
    for (lead, partner, level, confidential, expires_at), batch in batches.items():
        services.share_cases_with_agency(
            actor=boss[lead],
            cases=batch,
            agency=partner,
            level=level,
            confidential=confidential,
            expires_at=expires_at,
        )
    shared = Case.objects.filter(
        participations__agency=revoked_from, participations__revoked_at=None
    )
    for lead in shared.order_by().values_list("lead_agency_id", flat=True).distinct():
        mine = list(
            shared.filter(lead_agency_id=lead).exclude(lead_agency=revoked_from).order_by("id")
        )
        if mine[::5]:
            services.revoke_agency_from_cases(
                actor=boss[lead], agency=revoked_from, cases=mine[::5]
            )


def _add_evidence_and_requests(ccos, knp, moj, boss) -> None:
    """MLA requests both ways (KH-CCOS asking KR-KNP, KR-KNP asking KH-MOJ
    and KH-CCOS), some submitted; documents on KH-CCOS's shared cases, some
    RED, some on a task, one returned on a request."""
    requests = []
    open_cases = Case.objects.exclude(status=CaseStatus.CLOSED).order_by("id")
    for n, case in enumerate(open_cases.filter(lead_agency=ccos)[:6]):
        requests.append(draft(boss[ccos.pk], case, knp if n % 2 else moj))
    for n, case in enumerate(open_cases.filter(lead_agency=knp)[:6]):
        requests.append(draft(boss[knp.pk], case, ccos if n % 2 else moj))
    for n, request in enumerate(requests):
        if n % 2:
            requested = boss[request.requested_agency_id]
            drive(
                request,
                path_to("acknowledged"),
                requesting=boss[request.requesting_agency_id],
                requested=requested,
            )
    contributing = Case.objects.filter(
        participations__agency=ccos,
        participations__revoked_at=None,
        participations__level__in=[AccessLevel.CONTRIBUTE, AccessLevel.MANAGE],
    ).exclude(status=CaseStatus.CLOSED)
    for n, case in enumerate(contributing.order_by("id")[:16]):
        task = case.tasks.order_by("id").first() if n % 2 else None
        _document(boss[ccos.pk], n, case=case, handling_code=CODES[n % 4], task=task)
    answered = MLARequest.objects.filter(requested_agency=ccos).exclude(status="draft").first()
    _document(boss[ccos.pk], 99, mla_request=answered)


def _document(actor, n: int, **where):
    """A small PDF of its own (its own hash), through the evidence service."""
    return upload_document(
        actor=actor,
        file=io.BytesIO(b"%PDF-1.7\n" + str(n).encode() * 100),
        name=f"ledger-{n}.pdf",
        title=f"Seized ledger {n}",
        **where,
    )


#: Each row's times moved back by up to `days`, by a number its id decides
#: (a change after the creation, half as far); shares and grants date from
#: their case's creation (the grant's list position follows by trigger).
_MOVE_BACK = (
    "UPDATE cases_case SET created_at = created_at - (id * 7919 %% %(days)s) * interval '1 day',"
    " updated_at = updated_at - (id * 7919 %% %(days)s) * interval '12 hours'",
    "UPDATE cases_task SET created_at = created_at - (id * 7919 %% %(days)s) * interval '1 day',"
    " updated_at = updated_at - (id * 7919 %% %(days)s) * interval '12 hours'",
    "UPDATE cases_mlarequest SET"
    " created_at = created_at - (id * 7919 %% %(days)s) * interval '1 day',"
    " updated_at = updated_at - (id * 7919 %% %(days)s) * interval '12 hours'",
    "UPDATE cases_note SET created_at = created_at - (id * 7919 %% %(days)s) * interval '1 day'",
    "UPDATE cases_identifier SET"
    " created_at = created_at - (id * 7919 %% %(days)s) * interval '1 day'",
    "UPDATE cases_document SET"
    " created_at = created_at - (id * 7919 %% %(days)s) * interval '1 day'",
    "UPDATE cases_caseparticipation p SET granted_at = c.created_at, updated_at = c.created_at"
    " FROM cases_case c WHERE c.id = p.case_id",
    "UPDATE cases_casegroupobjectpermission g SET granted_at = c.created_at"
    " FROM cases_case c WHERE c.id = g.content_object_id",
)


def _as_if_grown_over(days: int) -> None:
    """Spread the world's times over `days` (it was all written just now), so
    that a date filter selects a part of it, as in use; then gather the
    planner's statistics."""
    with connection.cursor() as cursor:
        for statement in _MOVE_BACK:
            cursor.execute(statement, {"days": days})
        cursor.execute("ANALYZE")


def _values_for(reader) -> Values:
    """The reader's placeholders: the case it sees with the most tasks, a
    task, an MLA request and a document of its that evidence is filed on."""
    documents = access.visible_documents(reader).order_by("id")
    case = (
        access.visible_cases(reader)
        .annotate(n=Count("tasks"))
        .order_by("-n", "id")
        .values_list("public_id", flat=True)
        .first()
    )
    return Values(
        own=READER,
        lead="KR-KNP",
        partner="TH-CCIB",
        case=str(case),
        task=str(documents.filter(task__isnull=False).values_list("task__public_id", flat=True)[0]),
        mla_request=str(
            documents.filter(mla_request__isnull=False).values_list(
                "mla_request__public_id", flat=True
            )[0]
        ),
        sha256=documents.values_list("sha256", flat=True)[0],
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module in a transaction rolled back after it (each
    test's own is a savepoint inside it): nothing is committed, so nothing is
    published; the statistics are gathered inside it."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            DECONFLICTION_HMAC_KEY="test-deconfliction-key",
        ),
    ):
        # Rows that earlier tests inserted and rolled back still fill the
        # tables' pages, which the planner reads as size: cleared first, so
        # the plans do not depend on what ran before.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world(SIZE)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# --- what a page costs at scale ----------------------------------------------------

#: Off while a statement is explained: the planner may then only read tables
#: through indexes and join by nested loops, the plan it picks for a page of
#: 51 rows out of millions. Sorting is off too unless the line names one
#: object (`_names_one`): a list of an agency's rows must come in index order.
PLANNER_OFF = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin", "enable_material")

#: An index condition narrowing a scan to an agency, a group, one row or one
#: named object: an equality on such a key. A permission id or a time range
#: alone spans every agency.
_KEY_EQUALITY = re.compile(
    r"\b(?!permission_id\b|content_type_id\b)(\w+_id|id|public_id|sha256|value_hash) = "
)
#: A filter naming one object: its list is that object's rows, and may be sorted.
_ONE_OBJECT = {"case", "task", "mla_request", "sha256"}
_BITMAP = ("Bitmap Heap Scan", "BitmapAnd", "BitmapOr")
_INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")


def _names_one(line: Line) -> bool:
    return line.endpoint == "participants" or bool(_ONE_OBJECT & set(dict(line.params)))


@dataclass
class Node:
    plan: dict[str, Any]
    relation: str | None  # the table read (a bitmap index scan's: its heap scan's)
    per_row: bool  # inside a SubPlan or InitPlan: run for one outer row


def _nodes(plan: dict[str, Any], relation: str | None = None, per_row: bool = False) -> list[Node]:
    per_row = per_row or plan.get("Parent Relationship") in ("SubPlan", "InitPlan")
    relation = plan.get("Relation Name") or relation
    out = [Node(plan, relation, per_row)]
    for child in plan.get("Plans", []):
        out += _nodes(child, relation if plan["Node Type"] in _BITMAP else None, per_row)
    return out


#: A child list narrowed to the ids of the reader's few cases (`access.in_few_cases`).
_BY_CASE_IDS = re.compile(r'"case_id" IN \(\d')


def _few_cases(sql: str) -> bool:
    return bool(_BY_CASE_IDS.search(sql))


def walks(plan: dict[str, Any], line: Line, few_cases: bool = False) -> list[str]:
    """What in `plan` reads more than the page, each in a sentence (see the
    module's docstring for the four shapes). `few_cases`: the statement is
    narrowed to the ids of the reader's few cases (`access.in_few_cases`), so
    whatever the plan it reads no more than their rows: only a Seq Scan is a
    walk then. (Whether PostgreSQL reads them case by case or walks the
    child's order filtering by the ids depends on the tables' sizes, which
    are small here: at 1M a 300-case agency's are read case by case, 40 ms;
    bench/README.md.)"""
    found = []
    # A walk of the agency's grant index from a date on (the list position,
    # `updated_since`, `created_after`...) reads the cases listed since then.
    since = any("list_updated_at >=" in node.plan.get("Index Cond", "") for node in _nodes(plan))
    for node in _nodes(plan):
        kind, relation, plan_of = node.plan["Node Type"], node.relation, node.plan
        watched = relation in WATCHED
        if watched and kind == "Seq Scan":
            found.append(f"Seq Scan on {relation}: the table is read whole")
        if few_cases:
            continue
        if (
            watched
            and kind in _INDEX_SCANS
            and not _KEY_EQUALITY.search(plan_of.get("Index Cond", ""))
        ):
            found.append(
                f"{kind} on {relation} using {plan_of['Index Name']} bounded by no key"
                f" ({plan_of.get('Index Cond', 'no condition')}): every agency's rows are walked"
            )
        if kind == "Sort" and not node.per_row and not _names_one(line):
            under = sorted({n.relation for n in _nodes(plan_of) if n.relation in WATCHED})
            if under:
                found.append(
                    f"Sort by {', '.join(plan_of['Sort Key'])} of {', '.join(under)}: the page"
                    " is not read in index order, every match is read to be sorted"
                )
        if (
            line.endpoint == "cases"
            and not since
            and relation == "cases_case"
            and kind.endswith("Scan")
            and not node.per_row
            and "Filter" in plan_of
        ):
            found.append(
                f"{kind} on cases_case filtered by {plan_of['Filter']}: each case walked past"
                " is fetched to be filtered, not read from the grant's copies"
            )
    return found


def explain(sql: str, line: Line, params: Any = None, *, fmt: str = "JSON") -> Any:
    """EXPLAIN `sql` as planned at scale, in a savepoint rolled back after
    (which ends the SET LOCALs)."""
    sorted_page = _names_one(line) or _few_cases(sql)
    settings = PLANNER_OFF if sorted_page else (*PLANNER_OFF, "enable_sort")
    savepoint = transaction.savepoint()
    try:
        with connection.cursor() as cursor:
            for setting in settings:
                cursor.execute(f"SET LOCAL {setting} = off")
            cursor.execute(f"EXPLAIN (FORMAT {fmt}) {sql}", params)
            rows = cursor.fetchall()
    finally:
        transaction.savepoint_rollback(savepoint)
    if fmt == "TEXT":
        return "\n".join(row[0] for row in rows)
    raw = rows[0][0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def _statements(world: World, line: Line) -> list[str]:
    """The SELECTs the line's request ran, as the reader."""
    client = APIClient()
    client.force_authenticate(world.reader)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(line.url(world.values, 50))
    assert response.status_code == 200, (line.name, response.content[:500])
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]


def _walks_of(world: World, line: Line) -> list[str]:
    """Each walk found in the line's statements, with the statement and its plan."""
    found = []
    for n, sql in enumerate(_statements(world, line), start=1):
        for walk in walks(explain(sql, line), line, few_cases=_few_cases(sql)):
            found.append(
                f"statement {n}: {walk}\n  {sql[:300]}...\n"
                + explain(sql, line, fmt="TEXT").replace("\n", "\n  | ")
            )
    return found


# --- the lines -------------------------------------------------------------------------

#: The lines that walk, each with why. (The reader here sees fewer than
#: `access.FEW_CASES` cases, so its child lists are narrowed to its cases'
#: ids; an agency that sees more walks the child's sync order, dense for it.)
#: Strict: a line that stops walking fails until it is taken off this list.
WALKS_TODAY = {
    "cases q=fraud": (
        "a substring of the title or summary is in the case row alone (no copy on the grant"
        " can hold text): PostgreSQL either walks the agency's list fetching each case to"
        " match it (this plan: a common word fills the page at once, a rare one walks far),"
        " or reads every agency's matches from the trigram index (`search.matching`) and"
        " sorts the reader's (a rare word's few, a common word's many), the plan it picks"
        " at 1M for a rare word; either reads past the page"
    ),
}


def _line_params() -> list:
    return [
        pytest.param(
            line,
            id=line.name,
            marks=[pytest.mark.xfail(strict=True, reason=WALKS_TODAY[line.name])]
            if line.name in WALKS_TODAY
            else [],
        )
        for line in LINES
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("line", _line_params())
def test_a_list_reads_the_readers_visible_set_through_an_index(world, line):
    assert line.applies_to(world.values), f"the world gives {line.name} no value"
    found = _walks_of(world, line)
    assert not found, f"{line.name} walks:\n" + "\n".join(found)


def test_every_line_known_to_walk_is_a_line():
    assert set(WALKS_TODAY) <= {line.name for line in LINES}


def _view_of(endpoint: str) -> Any:
    if endpoint == "participants":
        path = f"/api/v1/cases/{uuid.UUID(int=0)}/participants/"
    else:
        path = f"/api/v1/{endpoint}/"
    return resolve(path).func.cls


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_each_documented_filter_and_ordering_of_a_list_has_a_line(endpoint):
    """A filter or an ordering added to a list without a line here would go
    unchecked (and untimed by `bench.lists`)."""
    view = _view_of(endpoint)
    filterset = getattr(view, "filterset_class", None)
    filters = set(filterset.base_filters) if filterset else set()
    orderings = {view.sync_field, *view.extra_ordering_fields}
    mine = [line for line in LINES if line.endpoint == endpoint]
    named = {key for line in mine for key, _ in line.params}
    ordered = {view.sync_field} | {
        value.lstrip("-") for line in mine for key, value in line.params if key == "ordering"
    }
    assert filters - named == set()
    assert orderings - ordered == set()


# --- the check itself --------------------------------------------------------------

#: The reader's view grants, the page of its case list as the list reads it.
_GRANTS = (
    "SELECT c.id FROM cases_case c JOIN cases_casegroupobjectpermission g"
    " ON g.content_object_id = c.id WHERE g.group_id = %s AND g.permission_id ="
    " (SELECT id FROM auth_permission WHERE codename = 'view_case')"
)
_PAGE = " ORDER BY g.list_updated_at, g.list_public_id LIMIT 51"

#: A statement of each shape the check must see.
SHAPES = {
    "a table read whole": (
        "notes (no filter)",
        "SELECT id FROM cases_note WHERE body LIKE '%%compound%%'",
        "Seq Scan on cases_note",
    ),
    "every agency's rows walked in index order": (
        "tasks (no filter)",
        "SELECT id FROM cases_task ORDER BY updated_at, public_id LIMIT 51",
        "Index Scan on cases_task using cases_task_updated_at",
    ),
    "the agency's rows sorted": (
        "cases (no filter)",
        _GRANTS + " ORDER BY c.title DESC, c.id LIMIT 51",
        "Sort by c.title DESC",
    ),
    "a case row filtered per grant entry": (
        "cases (no filter)",
        _GRANTS + " AND c.title ILIKE '%%raid%%'" + _PAGE,
        "Scan on cases_case filtered by",
    ),
}


def _line(name: str) -> Line:
    return next(line for line in LINES if line.name == name)


@pytest.mark.django_db
@pytest.mark.parametrize("shape", SHAPES)
def test_the_check_sees_a_walk(world, shape):
    name, sql, expected = SHAPES[shape]
    params = [world.group_id] if "%s" in sql else []
    found = walks(explain(sql, _line(name), params), _line(name))
    assert any(expected in walk for walk in found), found


@pytest.mark.django_db
def test_the_check_passes_a_page_read_from_the_agencys_index(world):
    line = _line("cases (no filter)")
    assert walks(explain(_GRANTS + _PAGE, line, [world.group_id]), line) == []
