"""Benchmark: full-text search (issue 19), through Django's test client.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench SECRET_KEY=x \\
        DECONFLICTION_HMAC_KEY=bench .venv/bin/python -m bench.search
    (after `python -m bench.generate …`; `--generate-cases N` generates first
    if the database holds no generated data set)

`GET /api/v1/search/?q=…&page_size=20` (all kinds: cases, notes, tasks,
documents, identifiers), for a few queries: a common word, the generator's
rare word, two-character Korean and Chinese names, a Khmer name, and a word
that matches nothing. Measured as a user of the agency that sees the most
cases, and as random users (viewers and investigators) of random generated
agencies; warm (each request once before timing), `--runs` timed requests
per user and query: p50/p95 in ms, the query count (the same for every
query and user, else the command fails), and how many results came back.

Then, as the busiest agency's user, each search statement of each query
`EXPLAIN ANALYZE`d: its time and the plan's node types (with the index or
table each reads), so that a walk over a big table shows (`Seq Scan on
cases_note` is flagged when the table holds more than SEQ_SCAN_MIN_ROWS).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The test client speaks plain HTTP to `testserver`, logs in without a phone,
# and must not be throttled while it hammers one endpoint.
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("REQUIRE_2FA_FOR_PRIVILEGED", "0")
os.environ.setdefault("API_THROTTLE_RATE", "")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from agencies.models import Agency, Membership  # noqa: E402
from cases import search  # noqa: E402
from cases.models import CaseGroupObjectPermission  # noqa: E402

URL = "/api/v1/search/"
PAGE_SIZE = 20
TARGET_P95_MS = 150
# (label, query): the generator's words (bench/generate.py).
QUERIES = [
    ("common word", "wallet"),
    ("rare word", "nightjar"),
    ("2-char Korean", "김민"),
    ("2-char Chinese", "王伟"),
    ("Khmer name", "សុខ ដារ៉ា"),
    ("no match", "zyxwvut"),
]
SEARCHED_TABLES = ("cases_case", "cases_note", "cases_task", "cases_document", "cases_identifier")
# Below this many rows PostgreSQL rightly reads a table sequentially.
SEQ_SCAN_MIN_ROWS = 50_000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def pick_users(count: int, rng: random.Random) -> tuple[object, list]:
    """The busiest agency's user, and random users of other generated agencies."""
    agencies = list(Agency.objects.filter(code__startswith="BG").values_list("id", "group_id"))
    if not agencies:
        sys.exit("No generated data set: run `python -m bench.generate` first.")
    busiest_group = (
        CaseGroupObjectPermission.objects.filter(permission__codename="view_case")
        .values("group_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("group_id", flat=True)
        .first()
    )
    busiest = next(a for a, g in agencies if g == busiest_group)
    others = rng.sample([a for a, _g in agencies if a != busiest], min(count, len(agencies) - 1))
    User = get_user_model()

    def member(agency_id: int):
        ids = list(
            Membership.objects.filter(
                agency_id=agency_id, role__in=["viewer", "investigator"]
            ).values_list("user_id", flat=True)
        )
        return User.objects.get(pk=rng.choice(ids))

    return member(busiest), [member(a) for a in others]


def visible_cases(user) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM cases_casegroupobjectpermission g "
            "JOIN auth_permission p ON p.id = g.permission_id "
            "WHERE p.codename = 'view_case' AND g.group_id = "
            "(SELECT group_id FROM agencies_agency a JOIN agencies_membership m "
            "ON m.agency_id = a.id WHERE m.user_id = %s)",
            [user.pk],
        )
        return cursor.fetchone()[0]


def table_rows() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)",
            [list(SEARCHED_TABLES)],
        )
        return dict(cursor.fetchall())


#: Queries of a search request besides the search's: the session and the user.
SESSION_QUERIES = 2


def request(client: Client, query: str) -> tuple[float, int, int]:
    """One search: (ms, queries, results)."""
    url = f"{URL}?{urlencode({'q': query, 'page_size': PAGE_SIZE})}"
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.content[:300]
    return elapsed, len(captured), len(response.json()["results"])


def measure(users: list, query: str, runs: int) -> tuple[list[float], set[int], list[int]]:
    times: list[float] = []
    counts: set[int] = set()
    found: list[int] = []
    for user in users:
        client = Client()
        client.force_login(user)
        request(client, query)  # warm: the session, the plan cache, the rows
        for _ in range(runs):
            ms, queries, results = request(client, query)
            times.append(ms)
            counts.add(queries)
        found.append(results)
    return times, counts, found


# --- plans ------------------------------------------------------------------------------


def _nodes(plan: dict, out: list[str]) -> None:
    name = plan["Node Type"]
    where = plan.get("Index Name") or plan.get("Relation Name")
    out.append(f"{name}[{where}]" if where else name)
    for child in plan.get("Plans", ()):
        _nodes(child, out)


def _seq_scans(plan: dict, big: set[str], out: list[str]) -> None:
    if plan["Node Type"] == "Seq Scan" and plan.get("Relation Name") in big:
        out.append(plan["Relation Name"])
    for child in plan.get("Plans", ()):
        _seq_scans(child, big, out)


def plans(user, query: str, big: set[str]) -> list[tuple[str, float, str, list[str]]]:
    """Each search statement of one request: (table, ms, node types, big tables walked)."""
    client = Client()
    client.force_login(user)
    url = f"{URL}?{urlencode({'q': query, 'page_size': PAGE_SIZE})}"
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    out = []
    for statement in captured.captured_queries:
        sql = statement["sql"]
        # The outer query's table: its first column's (subqueries read others).
        first = re.match(r'SELECT "(\w+)"\.', sql)
        table = first.group(1) if first else None
        if table not in SEARCHED_TABLES or not ("LIKE" in sql or "cb_search_bigrams" in sql):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            (document,) = cursor.fetchone()
        root = (document if isinstance(document, list) else json.loads(document))[0]
        nodes: list[str] = []
        _nodes(root["Plan"], nodes)
        walked: list[str] = []
        _seq_scans(root["Plan"], big, walked)
        out.append((table, root["Execution Time"], " ".join(nodes), walked))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10, help="random users besides the busiest")
    parser.add_argument("--runs", type=int, default=10, help="timed requests per user and query")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--no-plans", action="store_true", help="skip the EXPLAIN section")
    parser.add_argument(
        "--generate-cases",
        type=int,
        default=0,
        help="generate this many cases first if no data set is there",
    )
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        sys.exit("bench.search measures PostgreSQL (the SQLite demo has no search index).")
    if args.generate_cases:
        from bench import generate

        generate.generate(
            agencies=max(5, args.generate_cases // 5000),
            cases=args.generate_cases,
            users=max(40, args.generate_cases // 50),
            quiet=True,
        )
    rng = random.Random(args.seed)
    busiest, others = pick_users(args.users, rng)
    rows = table_rows()
    print(
        ", ".join(f"{n:,} {t.removeprefix('cases_')}s" for t, n in rows.items())
        + f"; busiest agency sees {visible_cases(busiest):,} cases; "
        f"PostgreSQL {connection.pg_version // 10000}; {os.cpu_count()} CPUs; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"\n{'query':30} {'as':8} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} "
        f"{'results':>8}  target p95 ≤ {TARGET_P95_MS} ms"
    )
    all_counts: set[int] = set()
    met = True
    for label, query in QUERIES:
        for who, users in (("busiest", [busiest]), ("random", others)):
            if not users:
                continue
            times, counts, found = measure(users, query, args.runs)
            all_counts |= counts
            p95 = pct(times, 95)
            met &= p95 <= TARGET_P95_MS
            results = str(found[0]) if len(found) == 1 else f"{min(found)}-{max(found)}"
            print(
                f"{label + ' ' + repr(query):30} {who:8} {pct(times, 50):8.1f} {p95:8.1f} "
                f"{'/'.join(map(str, sorted(counts))):>8} {results:>8}  "
                f"{'met' if p95 <= TARGET_P95_MS else 'NOT MET'}"
            )
    # Two queries per kind at most (the count of a term's matches, then its
    # candidates where it has any), and the session's: never more with the data.
    bound = 2 * len(search.KINDS) + SESSION_QUERIES
    fixed = max(all_counts) <= bound
    print(
        f"\nQuery count per request: {sorted(all_counts)} "
        f"({f'bounded: at most {bound}' if fixed else f'NOT BOUNDED: over {bound}'})"
    )
    if not args.no_plans:
        big = {t for t, n in rows.items() if n >= SEQ_SCAN_MIN_ROWS}
        print(f"\nPlans, as the busiest agency's user (Seq Scan flagged on: {sorted(big)}):")
        for label, query in QUERIES:
            print(f"\n{label} {query!r}")
            for table, ms, nodes, walked in plans(busiest, query, big):
                flag = f"  SEQ SCAN ON {', '.join(walked)}" if walked else ""
                print(f"  {table:18} {ms:8.1f} ms  {nodes}{flag}")
    print(f"\np95 target {'met' if met else 'NOT MET'} for every query.")
    return 0 if fixed else 1


if __name__ == "__main__":
    sys.exit(main())
