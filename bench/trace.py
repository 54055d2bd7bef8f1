"""Benchmark: follow the money, a 4-hop trace from one account, through gunicorn (issue 20).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench SECRET_KEY=x \\
        DECONFLICTION_HMAC_KEY=bench .venv/bin/python -m bench.trace
    ... --generate-money 2000      # first write a money network on 2,000 generated cases
    ... --runs 3 --origins 2       # the CI smoke size

Works on whatever data set is in DATABASE_URL: `bench.generate`'s cases,
with the transactions of a larger generator or of `--generate-money` (which
writes, by COPY, accounts and wallets on that many cases, half of them seen
by the busiest agency, with values drawn from a Zipf-popular pool so that
money crosses cases as it does through exchanges and mules, and 4 to 15
transactions per case; left alone if a money network is already there).

Measures, as an investigator of the agency that sees the most cases (a
fresh API token, revoked at the end), from `--origins` accounts of its
cases that sent money (the ones with the most outgoing transactions first):

* `GET /api/v1/trace/?from=<id>&hops=<hops>` through gunicorn
  (`config.wsgi`, gthread, DEBUG off, throttling and the search rate off):
  p50/p95 over `--runs` requests after one warm-up, one keep-alive client;
* the same request once in-process (Django's test client): its query
  count, and each hop's statement (those reading `cases_transaction`)
  explained: node types and relations, rows the scans read, and a flag on
  a Seq Scan of a table of >= 50,000 rows;
* the stock approach beside it, in-process and rolled back: the same walk
  written as an ORM loop, one query per value for the identifiers that hold
  it, one per identifier for its transactions, one per transaction for its
  recipient (`visible_identifiers` and `visible_transactions` through the
  gate, as every reader must), and `trace_money` itself in-process the same
  way, for the ratio.

The HTTP requests commit what a trace writes (an audit event, the
deconfliction notifications' outbox rows, whose delivery is queued on a
private Redis that no worker reads); the in-process runs are rolled back. Exits 1
if a request fails or the stock walk reaches other transactions than the
trace (the caps aside); the targets are reported, not enforced.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import PrivateRedis, free_port, http_bench_environment, pct

http_bench_environment()
# Every trace is a deconfliction search: the benchmark's are not rate limited.
os.environ.setdefault("DECONFLICTION_SEARCH_RATE_LIMIT", "100000000")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from agencies.models import Agency, Membership  # noqa: E402
from agencies.tokens import issue_api_token, revoke_api_token  # noqa: E402
from bench.generate import Table, next_id, pick, sync_sequence, zipf_cum  # noqa: E402
from bench.lists import BIG_TABLE_ROWS, Gunicorn, big_tables, explain, view_grants_by_agency  # noqa: E402
from cases import access, trace  # noqa: E402
from cases.identifiers import keyed_hash  # noqa: E402
from cases.models import Case, Identifier, Transaction  # noqa: E402
from gate.roles import Role  # noqa: E402

P95_TARGET_MS = 500.0
#: What `--generate-money` writes its transactions' references with.
MARK = "bench-trace"


# --- a money network ------------------------------------------------------------------


def money_cases(count: int, busiest: Agency, rng: random.Random) -> list[tuple[int, int, bool]]:
    """(case id, lead agency id, discoverable) of `count` cases: half seen by the busiest
    agency, half drawn from all (most of which it does not see)."""
    seen = list(
        access.visible_to_agency(busiest, Case)
        .order_by("?")
        .values_list("pk", "lead_agency_id", "discoverable")[: count // 2]
    )
    taken = {row[0] for row in seen}
    others = [
        row
        for row in Case.objects.order_by("?").values_list("pk", "lead_agency_id", "discoverable")[
            : count * 2
        ]
        if row[0] not in taken
    ]
    return seen + others[: count - len(seen)]


def generate_money(count: int, busiest: Agency, rng: random.Random) -> dict[str, int]:
    """Write the money network (see the module docstring); its row counts."""
    cases = money_cases(count, busiest, rng)
    coordinators = dict(
        Membership.objects.filter(role=Role.COORDINATOR)
        .order_by("agency_id", "user_id")
        .values_list("agency_id", "user_id")
    )
    key = settings.DECONFLICTION_HMAC_KEY.encode()
    pool = 10 * count
    popularity = zipf_cum(pool, 0.9, rng, shuffle=True)
    now = time.time()
    identifiers, transactions = [], []
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        ident_id, tx_id = next_id(cursor, Identifier), next_id(cursor, Transaction)
        for case_id, lead, discoverable in cases:
            author = coordinators.get(lead)
            own = f"0x{rng.getrandbits(160):040x}"  # the case's victim account, its own
            # Mule accounts of its own, and 30 % shared: exchanges, cash-out wallets.
            values = [own]
            for _ in range(rng.randint(2, 6)):
                shared = rng.random() < 0.3
                number = 7 * 10**30 + pick(popularity, rng) if shared else rng.getrandbits(160)
                if f"0x{number:040x}" not in values:
                    values.append(f"0x{number:040x}")
            ends = []
            for value in values:
                digest = keyed_hash("crypto_wallet", value, key=key)
                identifiers.append((
                    ident_id, uuid.uuid4(), case_id, "crypto_wallet", value, value, digest,
                    "ethereum", author, lead, _at(now - rng.uniform(0, 7e7)), MARK,
                    lead, discoverable,
                ))  # fmt: skip
                ends.append((ident_id, digest))
                ident_id += 1
            for n in range(rng.randint(4, 15)):
                # The victim pays first; then money moves on between the others.
                sender = ends[0] if n < 2 else rng.choice(ends)
                recipient = rng.choice([e for e in ends if e != sender])
                at = _at(now - rng.uniform(0, 6e7))
                transactions.append((
                    tx_id, uuid.uuid4(), case_id, lead, author, at, at, sender[0],
                    recipient[0], sender[1], recipient[1],
                    Decimal(rng.randint(1, 10**7)) / 100, rng.choice(["USDT-TRC20", "KRW", "USD"]),
                    at, f"{MARK}-{tx_id}",
                ))  # fmt: skip
                tx_id += 1
        identifier_table = Table(
            Identifier,
            ["id", "public_id", "case_id", "kind", "raw_value", "normalised_value", "value_hash",
             "chain", "added_by_id", "agency_id", "created_at", "notes",
             "case_lead_agency_id", "case_discoverable"],
        )  # fmt: skip
        transaction_table = Table(
            Transaction,
            ["id", "public_id", "case_id", "agency_id", "created_by_id", "created_at",
             "updated_at", "from_identifier_id", "to_identifier_id", "from_hash", "to_hash",
             "amount", "currency", "occurred_at", "reference"],
        )  # fmt: skip
        with transaction.atomic():
            identifier_table.write(cursor, identifiers)
            transaction_table.write(cursor, transactions)
            sync_sequence(cursor, Identifier)
            sync_sequence(cursor, Transaction)
        cursor.execute("ANALYZE cases_identifier")
        cursor.execute("ANALYZE cases_transaction")
    return {"cases": len(cases), "identifiers": len(identifiers), "transactions": len(transactions)}


def reset_money() -> None:
    """Delete what `generate_money` wrote (its identifiers carry MARK as notes)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_transaction WHERE reference LIKE %s", [f"{MARK}-%"])
        cursor.execute("DELETE FROM cases_identifier WHERE notes = %s", [MARK])


def _at(seconds: float):
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


# --- the stock approach ----------------------------------------------------------------


class StockTooSlow(Exception):
    """The stock walk passed `--stock-limit` seconds: its time is at least that."""


def stock_trace(user, origin: Identifier, hops: int, limit: float = float("inf")) -> set[str]:
    """The walk as an ORM loop: per value, its identifiers; per identifier,
    its transactions; per transaction, its recipient and case (lazy loads).
    Gives up after `limit` seconds (a busy mule account at 1M takes hours)."""
    ends_at = time.perf_counter() + limit
    reached = {bytes(origin.value_hash)}
    frontier = [bytes(origin.value_hash)]
    edges: set[str] = set()
    for _hop in range(hops):
        onward = []
        for value in frontier:
            for holder in access.visible_identifiers(user).filter(value_hash=value):
                if time.perf_counter() > ends_at:
                    raise StockTooSlow
                for record in access.visible_transactions(user).filter(from_identifier=holder):
                    recipient = record.to_identifier
                    _shown = (record.case.reference, recipient.raw_value, record.amount)
                    edges.add(str(record.public_id))
                    if bytes(recipient.value_hash) not in reached:
                        reached.add(bytes(recipient.value_hash))
                        onward.append(bytes(recipient.value_hash))
        frontier = onward
    return edges


# --- measuring ---------------------------------------------------------------------


@dataclass
class Result:
    origin: str
    edges: int = 0
    nodes: int = 0
    borders: int = 0
    paths: int = 0
    truncated: bool = False
    p50: float = float("nan")
    p95: float = float("nan")
    queries: int = 0
    service_p50: float = float("nan")
    stock_p50: float = float("nan")
    stock_p95: float = float("nan")
    stock_queries: int = 0
    plans: list[list[str]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    rows_read: int = 0
    stock_gave_up: bool = False
    errors: list[str] = field(default_factory=list)


def timed_in_process(fn: Callable[[], Any], runs: int) -> tuple[list[float], int, Any]:
    """`runs` timings of `fn` after a warm-up, each rolled back; the query
    count and result of the last."""
    timings, count, value = [], 0, None
    for n in range(runs + 1):
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                value = fn()
                elapsed = (time.perf_counter() - began) * 1000
            transaction.set_rollback(True)
        count = len(captured.captured_queries)
        if n:
            timings.append(elapsed)
    return timings, count, value


def over_http(port: int, url: str, token: str, runs: int) -> tuple[list[float], list[str], bytes]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    timings, errors, body = [], [], b""
    for n in range(runs + 1):
        began = time.perf_counter()
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - began) * 1000
        if response.status != 200:
            errors.append(f"GET {url} -> {response.status} {body[:300]!r}")
        elif n:
            timings.append(elapsed)
        if response.will_close:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.close()
    return timings, errors, body


def measure(origin: Identifier, user, token: str, port: int, args, big) -> Result:
    result = Result(origin=str(origin.public_id))
    url = f"/api/v1/trace/?from={origin.public_id}&hops={args.hops}"
    client = Client(headers={"Authorization": f"Bearer {token}"})
    # The log holds at most 9,000 queries; a stock walk before this one filled
    # it, and a capture of a full log counts nothing.
    connection.queries_log.clear()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        transaction.set_rollback(True)
    if response.status_code != 200:
        result.errors.append(
            f"in-process {url} -> {response.status_code} {response.content[:300]!r}"
        )
        return result
    statements = [
        q["sql"] for q in captured.captured_queries
        if not q["sql"].startswith('UPDATE "agencies_apitoken"')
    ]  # fmt: skip
    result.queries = len(statements)
    for sql in statements:
        if sql.startswith("SELECT") and 'FROM "cases_transaction"' in sql:
            plan = explain(sql, big)
            result.plans.append(plan.nodes)
            result.flags += plan.flags
            result.rows_read += plan.rows_read
    body = response.json()
    result.edges, result.nodes = len(body["edges"]), len(body["nodes"])
    result.borders, result.paths = len(body["borders"]), len(body["paths"])
    result.truncated = body["truncated"]

    timings, errors, _body = over_http(port, url, token, args.runs)
    result.errors += errors
    if timings:
        result.p50, result.p95 = pct(timings, 50), pct(timings, 95)

    service, _n, found = timed_in_process(
        lambda: trace.trace_money(actor=user, identifier=origin, hops=args.hops), args.runs
    )
    result.service_p50 = pct(service, 50)
    try:
        stock, result.stock_queries, stock_edges = timed_in_process(
            lambda: stock_trace(user, origin, args.hops, args.stock_limit), args.stock_runs
        )
    except StockTooSlow:
        result.stock_p50 = result.stock_p95 = args.stock_limit * 1000
        result.stock_gave_up = True
        return result
    result.stock_p50, result.stock_p95 = pct(stock, 50), pct(stock, 95)
    if not found.truncated and stock_edges != {e.id for e in found.edges}:
        result.errors.append(
            f"{origin.public_id}: the stock walk reached {len(stock_edges)} transactions, "
            f"the trace {len(found.edges)}"
        )
    return result


def origins_of(user, count: int, rng: random.Random) -> list[Identifier]:
    """Accounts of the reader's cases that sent money, the most outgoing first."""
    senders = (
        access.visible_transactions(user)
        .values("from_identifier")
        .annotate(n=Count("id"))
        .order_by("-n", "from_identifier")
        .values_list("from_identifier", flat=True)[: count * 20]
    )
    ids = list(senders)
    chosen = ids[: max(1, count // 2)] + rng.sample(
        ids[count // 2 :], max(0, min(count - count // 2, len(ids) - count // 2))
    )
    by_pk = access.visible_identifiers(user).select_related("case").in_bulk(chosen)
    return [by_pk[pk] for pk in chosen if pk in by_pk]


# --- output -------------------------------------------------------------------------


def header() -> str:
    return (
        f"{'origin':36} {'edges':>5} {'nodes':>5} {'bord':>4} {'paths':>5} {'trunc':>5} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'q':>3} {'svc p50':>7} {'stock p50':>9} "
        f"{'stock p95':>9} {'stock q':>7} {'ratio':>7} {'rows read':>9}"
    )


def row(r: Result) -> str:
    ratio = r.stock_p50 / r.service_p50 if r.service_p50 > 0 else float("nan")
    # A stock walk given up on took at least its limit: its figures say ">".
    over = ">" if r.stock_gave_up else ""
    return (
        f"{r.origin:36} {r.edges:5} {r.nodes:5} {r.borders:4} {r.paths:5} "
        f"{'yes' if r.truncated else 'no':>5} {r.p50:7.1f} {r.p95:7.1f} {r.queries:3} "
        f"{r.service_p50:7.1f} {f'{over}{r.stock_p50:.1f}':>9} {f'{over}{r.stock_p95:.1f}':>9} "
        f"{r.stock_queries:7} {f'{over}{ratio:.1f}':>6}x {r.rows_read:9,}"
    )


def data_set_line() -> str:
    with connection.cursor() as cursor:
        counts = []
        for label, table in (
            ("cases", "cases_case"),
            ("identifiers", "cases_identifier"),
            ("transactions", "cases_transaction"),
        ):
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            estimate = cursor.fetchone()[0]
            counts.append(f"~{max(estimate, 0):,} {label}")
    return ", ".join(counts)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed requests per origin")
    parser.add_argument("--stock-runs", type=int, default=5, help="timed stock walks per origin")
    parser.add_argument("--origins", type=int, default=5, help="accounts to trace from")
    parser.add_argument("--hops", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument(
        "--stock-limit",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="give the stock walk up after this long (its figure is then '>' that)",
    )
    parser.add_argument(
        "--reset-money", action="store_true", help="delete a money network this command wrote"
    )
    parser.add_argument(
        "--generate-money",
        type=int,
        default=0,
        metavar="CASES",
        help="first write a money network on this many cases (if none is there)",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rng = random.Random(args.seed)
    ranked = view_grants_by_agency()
    if not ranked:
        sys.exit("No data set: run `python -m bench.generate` first.")
    busiest = Agency.objects.get(pk=ranked[0][0])
    if args.reset_money:
        reset_money()
    if args.generate_money and not Transaction.objects.filter(reference__startswith=MARK).exists():
        started = time.perf_counter()
        written = generate_money(args.generate_money, busiest, rng)
        print(
            f"money network: {written['transactions']:,} transactions, "
            f"{written['identifiers']:,} identifiers on {written['cases']:,} cases, "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
    big = big_tables()
    tmp = Path(tempfile.mkdtemp(prefix="cb-trace-"))
    port = free_port()
    # A broker of our own and no worker: the request enqueues the delivery of
    # the notifications it wrote, as in production, instead of delivering
    # them itself (no broker: in-process). The queue goes with the broker.
    redis = PrivateRedis(tmp).start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "API_THROTTLE_RATE": "",
        "API_ANON_THROTTLE_RATE": "",
        "CELERY_BROKER_URL": redis.url,
        "CELERY_TASK_DEFAULT_QUEUE": f"bench-trace-{uuid.uuid4().hex[:8]}",
    }
    server = Gunicorn(
        port=port, workers=args.workers, threads=args.threads, env=env, log=tmp / "gunicorn.log"
    )
    token, plaintext = issue_api_token(
        agency=busiest, role=Role.INVESTIGATOR, name=f"bench.trace {time.time_ns()}"
    )
    results: list[Result] = []
    try:
        user = token.user
        origins = origins_of(user, args.origins, rng)
        if not origins:
            sys.exit(f"{busiest.code} sees no transaction: add a money network (--generate-money).")
        print(
            f"{data_set_line()}; PostgreSQL {connection.pg_version // 10000}; "
            f"{os.cpu_count()} CPUs\n"
            f"reader: an investigator of {busiest.code} ({ranked[0][1]:,} view grants); "
            f"hops={args.hops}; caps {trace.MAX_EDGES_PER_HOP}/hop, {trace.MAX_EDGES} edges, "
            f"{trace.MAX_PATHS} paths\ngunicorn gthread {args.workers} workers x "
            f"{args.threads} threads, DEBUG off, throttling off; {args.runs} runs per origin "
            f"after 1 warm-up (stock: {args.stock_runs}, in-process, rolled back)\n",
            flush=True,
        )
        server.start()
        print(header(), flush=True)
        for origin in origins:
            result = measure(origin, user, plaintext, port, args, big)
            results.append(result)
            print(row(result), flush=True)
    finally:
        server.stop()
        redis.stop()
        revoke_api_token(token=token)
    print("\nPlans of the hops' statements, two per hop (first origin; node types):")
    for n, nodes in enumerate(results[0].plans if results else [], start=1):
        print(f"  hop {(n + 1) // 2} {'values' if n % 2 else 'rows  '}: {', '.join(nodes)}")
    return verdicts(results)


def verdicts(results: list[Result]) -> int:
    errors = [e for r in results for e in r.errors]
    timed = [r for r in results if r.p95 == r.p95]
    worst = max((r.p95 for r in timed), default=float("nan"))
    flagged = sorted({f for r in results for f in r.flags})
    fixed = {r.queries - len(r.plans) for r in results}

    def verdict(label: str, value: str, met: bool | None) -> None:
        print(f"{label:60} {value:>28}  {'' if met is None else 'met' if met else 'NOT MET'}")

    print(f"\n{'target':60} {'value':>28}  result")
    verdict(f"4-hop trace p95 <= {P95_TARGET_MS:.0f} ms over HTTP", f"max {worst:.1f} ms",
            bool(timed) and worst <= P95_TARGET_MS)  # fmt: skip
    verdict(
        "queries: two per hop, the rest fixed",
        f"{min(r.queries for r in results)}-{max(r.queries for r in results)} "
        f"({len(fixed)} fixed part{'s' if len(fixed) != 1 else ''})"
        if results
        else "-",
        len(fixed) == 1,
    )
    verdict(
        f"no Seq Scan on tables >= {BIG_TABLE_ROWS:,} rows",
        "; ".join(flagged) or "none",
        not flagged,
    )
    stock = [r.stock_p50 / r.service_p50 for r in results if r.service_p50 > 0]
    verdict(
        "stock ORM loop / trace, in-process p50",
        f"{min(stock, default=0):.1f}x-{max(stock, default=0):.1f}x",
        None,
    )
    if errors:
        for sample in errors[:5]:
            print("  error:", sample)
        print(f"\nFAILED: {len(errors)} errors")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
