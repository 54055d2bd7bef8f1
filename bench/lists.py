"""Benchmark: every list endpoint x its filters, over HTTP against gunicorn (issue 19).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench SECRET_KEY=x \\
        DECONFLICTION_HMAC_KEY=bench .venv/bin/python -m bench.lists
    ... --runs 2 --agencies 1          # the CI smoke size
    ... --only cases                   # one endpoint's lines

Works on whatever data set `bench.generate` left in DATABASE_URL. Measures,
for the busiest agency (the most `view_case` grants held by its group) and
`--agencies` random generated ones, each with a fresh viewer API token
(revoked at the end):

* every list endpoint of the API that serves case data (cases, tasks, notes,
  identifiers, a case's participants, MLA requests, documents), with
  `page_size=50`, unfiltered, with each documented filter alone and with the
  combinations investigators use (the table: `bench.list_lines`);
* per line: p50/p95 over `--runs` requests after one warm-up, one client
  with keep-alive, through gunicorn (`config.wsgi`, `--workers` x
  `--threads` gthread, DEBUG off, throttling off); the query count of the
  same request run once in-process (Django's test client, same token) at
  page size 50 and at 10; the request's list SQL (captured there) timed as
  raw SQL, and its `EXPLAIN (ANALYZE, FORMAT JSON)`: the distinct node
  types with their relations, the rows its scans read, and a flag on any
  Seq Scan of a table of >= 50,000 rows or Sort of >= 1,000 rows read from
  one;
* the stock approach beside it: the gated queryset (`cases.access`), the
  same filter as a plain ORM filter, Django's `Paginator` (`COUNT(*)` +
  `LIMIT`/`OFFSET`): its two statements, captured, timed as raw SQL.

Prints one table per agency and the targets (bench/README.md) with met /
NOT MET. Exits 1 only if a request fails; the targets are reported, not
enforced.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import Gunicorn
from bench.procs import free_port, http_bench_environment, pct

http_bench_environment()

import django  # noqa: E402

# The static files are not collected for a benchmark: WhiteNoise says so once.
warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.contrib.auth.models import Permission  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, QuerySet  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from agencies.models import Agency, ApiToken  # noqa: E402
from agencies.tokens import issue_api_token, revoke_api_token  # noqa: E402
from bench.list_lines import ENDPOINTS, Line, Values, lines  # noqa: E402
from cases import access  # noqa: E402
from cases.models import Case, Task  # noqa: E402
from gate.roles import Role  # noqa: E402

#: Below this many rows PostgreSQL rightly reads a table sequentially: a plan
#: is judged only on tables this large (as `bench.cases_page` does).
BIG_TABLE_ROWS = 50_000
#: A Sort of this many rows or more, read from a big table, is a walk.
BIG_SORT_ROWS = 1_000
P95_TARGET_MS = 50.0


# --- what is measured ------------------------------------------------------------------


@dataclass
class Measured:
    """The values a line's filters name, for one measured agency."""

    agency: Agency
    role: str  # "busiest" or "random"
    view_grants: int
    lead: str  # the code of the agency leading the most cases
    partner: str  # the most-shared-with agency other than this one
    case: Case | None  # a case of the agency's first page, with the most tasks
    token: str = ""  # the plaintext of its API token
    user: Any = None  # the token's service account
    values: Values | None = None  # what the lines' placeholders stand for


def values_of(ctx: Measured) -> Values:
    assert ctx.values is not None
    return ctx.values


#: Each endpoint's sync field: its default ordering (ascending).
SYNC_FIELD = {
    "cases": "updated_at",
    "tasks": "updated_at",
    "notes": "created_at",
    "identifiers": "created_at",
    "participants": "updated_at",
    "mla-requests": "updated_at",
    "documents": "created_at",
}


def stock_queryset(line: Line, ctx: Measured, user) -> QuerySet:
    """The gated queryset (`cases.access`) with the relations the API's view
    joins, the line's filter as a plain ORM filter, ordered as the line."""
    bases: dict[str, Callable[[], QuerySet]] = {
        "cases": lambda: access.visible_cases(user).select_related("lead_agency"),
        "tasks": lambda: access.visible_tasks(user).select_related(
            "case", "assigned_agency", "assigned_user__membership"
        ),
        "notes": lambda: access.visible_notes(user).select_related("case", "agency", "author"),
        "identifiers": lambda: access.visible_identifiers(user).select_related("case", "agency"),
        "participants": lambda: access.visible_participations(user).select_related(
            "agency", "granted_by_agency", "case"
        ),
        "mla-requests": lambda: access.visible_mla_requests(user).select_related(
            "requesting_agency", "requested_agency", "case", "follow_up"
        ),
        "documents": lambda: access.visible_documents(user).select_related(
            "case", "task", "mla_request", "supersedes", "agency", "uploaded_by"
        ),
    }
    ordering = dict(line.query(values_of(ctx))).get("ordering", SYNC_FIELD[line.endpoint])
    prefix = "-" if ordering.startswith("-") else ""
    queryset = bases[line.endpoint]().filter(line.stock(values_of(ctx)))
    if line.endpoint == "participants":
        queryset = queryset.filter(case=ctx.case)  # the nested route's case
    return queryset.order_by(ordering, f"{prefix}id")


# --- the agencies -------------------------------------------------------------------


def view_grants_by_agency() -> list[tuple[int, int]]:
    """(agency id, view grants of its group), most first."""
    view = Permission.objects.get(content_type__app_label="cases", codename="view_case")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, g.n FROM (SELECT group_id, COUNT(*) AS n"
            " FROM cases_casegroupobjectpermission WHERE permission_id = %s"
            " GROUP BY group_id) g JOIN agencies_agency a ON a.group_id = g.group_id"
            " ORDER BY g.n DESC, a.id",
            [view.pk],
        )
        return cursor.fetchall()


def pick_agencies(count: int, rng: random.Random) -> list[Measured]:
    ranked = view_grants_by_agency()
    generated = set(Agency.objects.filter(code__startswith="BG").values_list("id", flat=True))
    ranked = [(a, n) for a, n in ranked if a in generated]
    if not ranked:
        sys.exit("No generated data set: run `python -m bench.generate` first.")
    lead_id = (
        Case.objects.values("lead_agency_id")
        .annotate(n=Count("id"))
        .order_by("-n", "lead_agency_id")
        .values_list("lead_agency_id", flat=True)
        .first()
    )
    codes = dict(Agency.objects.values_list("id", "code"))
    busiest = ranked[0]
    others = ranked[1:]
    sample = rng.sample(others, min(count, len(others)))
    chosen = [(busiest, "busiest"), *((x, "random") for x in sample)]
    out = []
    for (agency_id, grants), role in chosen:
        partner = next((a for a, _ in ranked if a != agency_id), agency_id)
        out.append(
            Measured(
                agency=Agency.objects.get(pk=agency_id),
                role=role,
                view_grants=grants,
                lead=codes[lead_id],
                partner=codes[partner],
                case=None,
            )
        )
    return out


def busy_case(user) -> Case | None:
    """Of the agency's first 200 cases in list order (newest first), the one
    with the most tasks: the per-case lines' case."""
    ids = list(
        access.visible_cases_in_list_order(user)
        .order_by(f"-{access.LIST_ORDER_COLUMNS[0]}")
        .values_list("pk", flat=True)[:200]
    )
    if not ids:
        return None
    best = (
        Task.objects.filter(case_id__in=ids)
        .values("case_id")
        .annotate(n=Count("id"))
        .order_by("-n", "case_id")
        .values_list("case_id", flat=True)
        .first()
    )
    return Case.objects.get(pk=best if best is not None else ids[0])


def absent(values: Values) -> str:
    """Which of the task, MLA request and document the reader has none of
    (their lines are left out)."""
    names = {"<task>": values.task, "<mla>": values.mla_request, "<sha256>": values.sha256}
    missing = [name for name, value in names.items() if not value]
    return f"none for {', '.join(missing)}" if missing else "found"


def reader_values(ctx: Measured, user) -> Values:
    """The lines' placeholders for this reader: its <id> case, that case's
    latest task, its latest MLA request and document (empty if none)."""

    def latest(queryset: QuerySet, field: str, order: str) -> str:
        value = queryset.order_by(f"-{order}", "-id").values_list(field, flat=True).first()
        return str(value) if value is not None else ""

    case = ctx.case
    return Values(
        own=ctx.agency.code,
        lead=ctx.lead,
        partner=ctx.partner,
        case=str(case.public_id) if case else "",
        task=latest(access.visible_tasks(user).filter(case=case), "public_id", "updated_at")
        if case
        else "",
        mla_request=latest(access.visible_mla_requests(user), "public_id", "updated_at"),
        sha256=latest(access.visible_documents(user), "sha256", "created_at"),
    )


# --- plans --------------------------------------------------------------------------


def big_tables() -> dict[str, int]:
    """Tables holding at least BIG_TABLE_ROWS rows (planner statistics)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class"
            " WHERE relkind IN ('r', 'p') AND reltuples >= %s",
            [BIG_TABLE_ROWS],
        )
        return dict(cursor.fetchall())


def _walk(node: dict) -> list[dict]:
    out = [node]
    for child in node.get("Plans", []):
        out += _walk(child)
    return out


def _node_name(node: dict) -> str:
    kind = node["Node Type"]
    if node.get("Scan Direction") == "Backward":
        kind += " Backward"
    target = node.get("Relation Name") or node.get("Index Name")
    return f"{kind}({target})" if target else kind


def _rows_in(node: dict) -> int:
    return int(node.get("Actual Rows", 0) * node.get("Actual Loops", 1))


@dataclass
class Plan:
    nodes: list[str]
    rows_read: int  # rows the scans returned or filtered out
    flags: list[str]
    ms: float  # EXPLAIN ANALYZE's execution time


def explain(sql: str, big: dict[str, int]) -> Plan:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
    doc = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    nodes = _walk(doc["Plan"])
    names, flags, rows_read = [], [], 0
    for node in nodes:
        name = _node_name(node)
        if name not in names:
            names.append(name)
        if "Scan" in node["Node Type"] and "Bitmap Index" not in node["Node Type"]:
            loops = node.get("Actual Loops", 1)
            removed = node.get("Rows Removed by Filter", 0) + node.get(
                "Rows Removed by Index Recheck", 0
            )
            rows_read += int((node.get("Actual Rows", 0) + removed) * loops)
        relation = node.get("Relation Name")
        if node["Node Type"] == "Seq Scan" and relation in big:
            flags.append(f"SEQ SCAN {relation}")
        if node["Node Type"] in ("Sort", "Incremental Sort") and node.get("Plans"):
            child = node["Plans"][0]
            under = {n.get("Relation Name") for n in _walk(child)} & set(big)
            if under and _rows_in(child) >= BIG_SORT_ROWS:
                flags.append(f"SORT {_rows_in(child):,} rows of {','.join(sorted(under))}")
    return Plan(names, rows_read, sorted(set(flags)), doc.get("Execution Time", 0.0))


def sql_ms(statements: list[str], runs: int) -> float:
    """Median time of running `statements` in turn (after one warm-up)."""
    timings = []
    with connection.cursor() as cursor:
        for n in range(runs + 1):
            started = time.perf_counter()
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
            if n:
                timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


# --- one line -----------------------------------------------------------------------


@dataclass
class Result:
    line: Line
    p50: float = float("nan")
    p95: float = float("nan")
    sql: float = float("nan")
    queries: int = 0
    queries_small: int = 0
    stock: float = float("nan")
    plan: Plan | None = None
    errors: list[str] = field(default_factory=list)


def _not_token_stamp(sql: str) -> bool:
    """The token's last-used stamp (at most once a minute per token) is no part of the list."""
    return not sql.startswith('UPDATE "agencies_apitoken"')


def in_process(client: Client, url: str, page_size: int) -> tuple[int, str, list[str]]:
    """Query count and the list statement of one request (after a warm one)."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        return 0, "", [f"in-process {url} -> {response.status_code} {response.content[:200]!r}"]
    statements = [q["sql"] for q in captured.captured_queries if _not_token_stamp(q["sql"])]
    main = [sql for sql in statements if f"LIMIT {page_size + 1}" in sql]
    return len(statements), main[-1] if main else "", []


def over_http(conn_box: list, port: int, url: str, token: str, runs: int) -> tuple[list, list]:
    """`runs` timed GETs after one warm-up, on a keep-alive connection."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    timings, errors = [], []
    # A fresh connection: gunicorn closes one idle for its keep-alive (2 s),
    # and the in-process and stock measurements before this take longer.
    conn_box[0].close()
    conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for n in range(runs + 1):
        began = time.perf_counter()
        try:
            conn_box[0].request("GET", url, headers=headers)
            response = conn_box[0].getresponse()
            body = response.read()
            status = response.status
            if response.will_close:
                conn_box[0].close()
        except (OSError, http.client.HTTPException) as exc:
            status, body = 0, repr(exc).encode()
            conn_box[0].close()
            conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        elapsed = (time.perf_counter() - began) * 1000
        if status != 200:
            errors.append(f"GET {url} -> {status} {body[:200]!r}")
        elif n:
            timings.append(elapsed)
    return timings, errors


def measure(line: Line, ctx: Measured, user, client: Client, conn_box, port, args, big) -> Result:
    result = Result(line)
    url = line.url(values_of(ctx), args.page_size)
    result.queries, main_sql, errors = in_process(client, url, args.page_size)
    result.errors += errors
    result.queries_small, _, errors = in_process(client, line.url(values_of(ctx), 10), 10)
    result.errors += errors
    if main_sql:
        result.plan = explain(main_sql, big)
        result.sql = sql_ms([main_sql], args.sql_runs)
    timings, errors = over_http(conn_box, port, url, ctx.token, args.runs)
    result.errors += errors
    if timings:
        result.p50, result.p95 = pct(timings, 50), pct(timings, 95)
    queryset = stock_queryset(line, ctx, user)
    with CaptureQueriesContext(connection) as captured:
        page = Paginator(queryset, args.page_size).page(1)
        list(page.object_list)
    result.stock = sql_ms([q["sql"] for q in captured.captured_queries], args.sql_runs)
    return result


# --- output -------------------------------------------------------------------------

LABEL = 75  # the longest line's label


def label_of(line: Line) -> str:
    return line.name


def header() -> str:
    return (
        f"{'request':{LABEL}} {'p50 ms':>7} {'p95 ms':>7} {'sql ms':>7} {'q 10/50':>7} "
        f"{'stock ms':>9} {'stock/sql':>9} {'rows read':>10}  plan: node types (flags first)"
    )


def row(result: Result) -> str:
    """One line of the table; the plan's flags, if any, lead its node list."""
    plan = result.plan
    ratio = result.stock / result.sql if result.sql > 0 else float("nan")
    nodes = ", ".join(plan.nodes) if plan else "-"
    flags = "!! " + "; ".join(plan.flags) + " !! " if plan and plan.flags else ""
    rows_read = f"{plan.rows_read:,}" if plan else "-"
    return (
        f"{label_of(result.line):{LABEL}} {result.p50:7.1f} {result.p95:7.1f} "
        f"{result.sql:7.2f} {f'{result.queries_small}/{result.queries}':>7} "
        f"{result.stock:9.2f} {f'{ratio:.1f}x':>9} {rows_read:>10}  {flags}{nodes}"
    )


def data_set_line() -> str:
    counts = []
    with connection.cursor() as cursor:
        for label, table in (
            ("cases", "cases_case"),
            ("case grants", "cases_casegroupobjectpermission"),
            ("tasks", "cases_task"),
            ("notes", "cases_note"),
            ("identifiers", "cases_identifier"),
            ("MLA requests", "cases_mlarequest"),
        ):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts.append(f"{cursor.fetchone()[0]:,} {label}")
    return ", ".join(counts)


def targets(results: dict[str, list[Result]], busiest: str, big: dict[str, int]) -> None:
    mine = results[busiest]
    timed = [r for r in mine if r.p95 == r.p95]
    slow = sorted((r for r in timed if r.p95 > P95_TARGET_MS), key=lambda r: -r.p95)
    flagged = [(agency, r) for agency, rs in results.items() for r in rs if r.plan and r.plan.flags]
    growing = [r for r in mine if r.queries != r.queries_small]

    def verdict(label: str, value: str, met: bool | None) -> None:
        result = "" if met is None else "met" if met else "NOT MET"
        print(f"{label:64} {value:>40}  {result}")

    print(f"\n{'target':64} {'value':>40}  result")
    worst = max((r.p95 for r in timed), default=float("nan"))
    value = f"{len(slow)} of {len(timed)} lines over; max {worst:.1f} ms"
    verdict(
        f"every list x filter p95 <= {P95_TARGET_MS:.0f} ms, busiest agency",
        value,
        timed and not slow,
    )
    label = (
        f"no Seq Scan, no Sort of >= {BIG_SORT_ROWS:,} rows, on tables >= {BIG_TABLE_ROWS:,} rows"
    )
    if big:
        verdict(label, f"{len(flagged)} lines flagged" if flagged else "none", not flagged)
    else:
        verdict(label, "not judged (no table that large)", None)
    most = max((r.queries for r in mine), default=0)
    value = f"{len(growing)} lines grow" if growing else f"equal on every line (max {most})"
    verdict("queries per request flat, page_size 10 vs 50, busiest agency", value, not growing)
    for r in slow:
        print(f"  over {P95_TARGET_MS:.0f} ms: {label_of(r.line)}: p95 {r.p95:.1f} ms")
    for agency, r in flagged:
        print(f"  flagged, {agency}: {label_of(r.line)}: {'; '.join(r.plan.flags)}")
    for r in growing:
        print(f"  grows: {label_of(r.line)}: {r.queries_small} -> {r.queries} queries")


# --- main ---------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed requests per line")
    parser.add_argument(
        "--agencies", type=int, default=5, help="random agencies beside the busiest"
    )
    parser.add_argument("--only", choices=ENDPOINTS, help="one endpoint's lines")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument(
        "--sql-runs", type=int, default=3, help="timings of each SQL (production and stock)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rng = random.Random(args.seed)
    measured = pick_agencies(args.agencies, rng)
    big = big_tables()
    tokens: list[ApiToken] = []
    tmp = Path(tempfile.mkdtemp(prefix="cb-lists-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "API_THROTTLE_RATE": "",
        "API_ANON_THROTTLE_RATE": "",
    }
    server = Gunicorn(
        port=port, workers=args.workers, threads=args.threads, env=env, log=tmp / "gunicorn.log"
    )
    results: dict[str, list[Result]] = {}
    errors: list[str] = []
    print(
        f"{data_set_line()}; PostgreSQL {connection.pg_version // 10000}; {os.cpu_count()} CPUs\n"
        f"gunicorn gthread {args.workers} workers x {args.threads} threads, DEBUG off, "
        f"throttling off; viewer API tokens; {args.runs} runs per line after 1 warm-up, "
        f"one client; page_size={args.page_size}",
        flush=True,
    )
    try:
        for ctx in measured:
            token, ctx.token = issue_api_token(
                agency=ctx.agency, role=Role.VIEWER, name=f"bench.lists {time.time_ns()}"
            )
            tokens.append(token)
            ctx.user = token.user
        server.start()
        for ctx in measured:
            user = ctx.user
            ctx.case = busy_case(user)
            ctx.values = reader_values(ctx, user)
            client = Client(headers={"Authorization": f"Bearer {ctx.token}"})
            conn_box = [http.client.HTTPConnection("127.0.0.1", port, timeout=60)]
            name = f"{ctx.agency.code} ({ctx.role})"
            case = ctx.case.reference if ctx.case else "none visible"
            print(
                f"\nagency {name}: {ctx.view_grants:,} view grants; <own> {ctx.agency.code}, "
                f"<lead> {ctx.lead}, <partner> {ctx.partner}, <id> case {case}; "
                f"<task>, <mla>, <sha256>: {absent(ctx.values)}\n{header()}",
                flush=True,
            )
            results[name] = []
            for line in lines(ctx.values, args.only):
                result = measure(line, ctx, user, client, conn_box, port, args, big)
                results[name].append(result)
                errors += result.errors
                print(row(result), flush=True)
            conn_box[0].close()
    finally:
        server.stop()
        for token in tokens:
            revoke_api_token(token=token)
    targets(results, next(iter(results)), big)
    if errors:
        for sample in errors[:5]:
            print("  error:", sample)
        print(f"\nFAILED: {len(errors)} failed requests")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
