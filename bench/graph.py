"""Benchmark: a case's network picture, `GET /api/v1/cases/{id}/graph/` (issue 20).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench SECRET_KEY=x \\
        DECONFLICTION_HMAC_KEY=bench .venv/bin/python -m bench.graph
    ... --case KR-KNP-2025-00001        # a case by reference or public id
    ... --runs 5 --stock-runs 1          # the CI smoke size
    ... --build 20000 --case <ref>       # first give that case a network (never on cb_1m)

Works on whatever data set DATABASE_URL holds. The case is `--case`, else
the one holding the most transactions; it is read by a viewer of its lead
agency, through a fresh API token (revoked at the end). Measured:

* **graph**: the whole picture of the case; **expand**: the one hop from
  its busiest identifier (`?expand=`), across the cases the reader sees;
  each with p50/p95 over `--runs` requests after one warm-up, one client
  with keep-alive, through gunicorn (`config.wsgi`, `--workers` x
  `--threads` gthread, DEBUG off, throttling off); the query count of the
  same request run in-process (Django's test client, same token); the
  picture's size (nodes, edges).
* **stock**: the same picture the way an ORM loop builds it, one node at a
  time (each entity's links; each identifier's links, transactions and the
  other cases holding it), through the same gate selectors, in-process:
  its time (median of `--stock-runs`) and queries. Its node and edge counts
  are printed beside the production picture's: they must agree.

`--build N` first writes a network on the case (persons, companies,
places, accounts, wallets; N transactions skewed onto a few hub accounts;
a tenth of the identifiers repeating a value held on another case the lead
agency sees, with money of their own there), recorded by its lead agency
with bulk inserts: for a development data set, never for cb_1m.

Prints a table and the targets (bench/README.md) with met / NOT MET.
Exits 1 only if a request fails; the targets are reported, not enforced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import Gunicorn
from bench.procs import free_port, http_bench_environment, pct

http_bench_environment()

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.tokens import issue_api_token, revoke_api_token  # noqa: E402
from cases import access, graph  # noqa: E402
from cases.identifiers import keyed_hash  # noqa: E402
from cases.models import Case, Entity, Identifier, Link, Transaction  # noqa: E402
from gate.roles import Role  # noqa: E402

P95_TARGET_MS = 200.0


# --- the case -------------------------------------------------------------------------


def find_case(name: str | None) -> Case:
    if name:
        try:
            return Case.objects.get(public_id=uuid.UUID(name))
        except ValueError:
            return Case.objects.get(reference=name)
    busiest = (
        Transaction.objects.values("case_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "case_id")
        .values_list("case_id", flat=True)
        .first()
    )
    if busiest is None:
        sys.exit("No transactions in this data set: give a case some with --build N --case REF.")
    return Case.objects.get(pk=busiest)


def busiest_identifier(case: Case) -> Identifier | None:
    """The case's identifier with the most transactions (sent or received)."""
    counts: dict[int, int] = defaultdict(int)
    for sender, recipient in Transaction.objects.filter(case=case).values_list(
        "from_identifier_id", "to_identifier_id"
    ):
        counts[sender] += 1
        counts[recipient] += 1
    if not counts:
        return Identifier.objects.filter(case=case).first()
    return Identifier.objects.get(pk=max(counts, key=lambda pk: (counts[pk], -pk)))


def network_line(case: Case) -> str:
    def count(model: Any) -> str:
        return f"{model.objects.filter(case=case).count():,}"

    total = Transaction.objects.count()
    return (
        f"case {case.reference}: {count(Entity)} entities, {count(Identifier)} identifiers, "
        f"{count(Link)} links, {count(Transaction)} transactions "
        f"(of {total:,} in the data set, {Case.objects.count():,} cases)"
    )


# --- building a network for development ------------------------------------------------

CODES = ["GREEN"] * 5 + ["AMBER"] * 4 + ["RED"]
CURRENCIES = ["KRW", "USD", "USDT-TRC20", "USDT-TRC20", "THB"]


def _identifier(case: Case, agency_id: int, kind: str, value: str, rng) -> Identifier:
    return Identifier(
        case=case,
        kind=kind,
        raw_value=value,
        normalised_value=value,
        value_hash=keyed_hash(kind, value),
        chain="tron" if kind == "crypto_wallet" else "",
        agency_id=agency_id,
        handling_code=rng.choice(CODES),
    )


def _money(case_id: int, agency_id: int, sender, recipient, rng, now) -> Transaction:
    return Transaction(
        case_id=case_id,
        agency_id=agency_id,
        from_identifier=sender,
        to_identifier=recipient,
        from_hash=sender.value_hash,
        to_hash=recipient.value_hash,
        amount=Decimal(rng.randint(1, 5_000_000)) / 100,
        currency=rng.choice(CURRENCIES),
        occurred_at=now - dt.timedelta(minutes=rng.randint(0, 525_600)),
        handling_code=rng.choice(CODES),
    )


def _value(case_id: int, n: int) -> tuple[str, str]:
    if n % 2:
        return "crypto_wallet", f"T{case_id:08d}{n:025d}"
    return "bank_account", f"KR:088:{case_id}{n:08d}"


def _link(case: Case, agency_id: int, a: Any, b: Any, rng) -> Link:
    ends = {
        f"from_{'entity' if isinstance(a, Entity) else 'identifier'}": a,
        f"to_{'entity' if isinstance(b, Entity) else 'identifier'}": b,
    }
    code = rng.choice(CODES)
    return Link(case=case, agency_id=agency_id, kind="associated_with", handling_code=code, **ends)


def build(case: Case, transactions: int, rng: random.Random) -> None:
    """A network of `transactions` transactions on `case` (see the module's docstring)."""
    agency_id = case.lead_agency_id
    now = timezone.now()
    n_identifiers = max(10, transactions // 10)
    n_entities = max(10, n_identifiers // 3)
    kinds = ["person"] * 6 + ["organisation"] * 3 + ["place"]
    with transaction.atomic():
        entities = Entity.objects.bulk_create(
            [
                Entity(
                    case=case,
                    agency_id=agency_id,
                    kind=rng.choice(kinds),
                    name=f"Bench entity {n}",
                    handling_code=rng.choice(CODES),
                )
                for n in range(n_entities)
            ],
            batch_size=2000,
        )
        # A tenth repeat values held on other cases the lead agency sees.
        seen = access.cases_with_level(case.lead_agency)
        elsewhere = list(
            Identifier.objects.filter(case__in=seen).exclude(case=case)[: n_identifiers // 10]
        )
        fresh = [
            _identifier(case, agency_id, *_value(case.pk, n), rng)
            for n in range(n_identifiers - len(elsewhere))
        ]
        repeated = [_identifier(case, agency_id, i.kind, i.raw_value, rng) for i in elsewhere]
        for mine, theirs in zip(repeated, elsewhere, strict=True):
            mine.value_hash = theirs.value_hash
            mine.normalised_value = theirs.normalised_value
        identifiers = Identifier.objects.bulk_create(fresh + repeated, batch_size=2000)
        nodes = entities + identifiers
        pairs = ((rng.choice(entities), rng.choice(nodes)) for _ in range(2 * n_entities))
        Link.objects.bulk_create(
            [_link(case, agency_id, a, b, rng) for a, b in pairs if a is not b], batch_size=2000
        )
        # Zipf-like: most money goes through a few hub accounts.
        weights = [1 / (rank + 1) for rank in range(len(identifiers))]
        moves = []
        for _ in range(transactions):
            sender, recipient = rng.choices(identifiers, weights, k=2)
            if sender is not recipient:
                moves.append(_money(case.pk, agency_id, sender, recipient, rng, now))
        # Money of their own on the other cases holding the repeated values:
        # to a new wallet there.
        for theirs in elsewhere:
            value = ("crypto_wallet", f"T{theirs.pk:08d}X{rng.randint(0, 10**20):024d}")
            onward = _identifier(theirs.case, theirs.agency_id, *value, rng)
            onward.save()
            for _ in range(5):
                moves.append(_money(theirs.case_id, theirs.agency_id, theirs, onward, rng, now))
        Transaction.objects.bulk_create(moves, batch_size=5000)
    with connection.cursor() as cursor:
        for table in ("cases_entity", "cases_identifier", "cases_link", "cases_transaction"):
            cursor.execute(f"ANALYZE {table}")


# --- the stock approach -------------------------------------------------------------------


def stock_picture(user, case: Case) -> tuple[int, int]:
    """The picture built node by node with the ORM, through the same selectors:
    (nodes, edges)."""
    nodes: set[str] = set()
    edges: dict[str, Any] = {}
    entities = access.visible_entities(user).filter(case=case)
    identifiers = list(access.visible_identifiers(user).filter(case=case))
    seen_entities = {e.pk for e in entities}
    seen_identifiers = {i.pk for i in identifiers}
    for entity in entities:
        nodes.add(f"entity:{entity.public_id}")
        for link in access.visible_links(user).filter(
            Q(from_entity=entity) | Q(to_entity=entity), case=case
        ):
            edges[f"link:{link.public_id}"] = link
    money: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    for identifier in identifiers:
        nodes.add(f"identifier:{identifier.public_id}")
        for link in access.visible_links(user).filter(
            Q(from_identifier=identifier) | Q(to_identifier=identifier), case=case
        ):
            edges[f"link:{link.public_id}"] = link
        for record in access.visible_transactions(user).filter(
            from_identifier=identifier, case=case
        ):
            key = (record.from_identifier_id, record.to_identifier_id, record.currency)
            money[key][0] += 1
            money[key][1] += record.amount
        twins = (
            access.visible_identifiers(user)
            .filter(value_hash=identifier.value_hash)
            .exclude(case=case)
            .select_related("case")
            .order_by("-case_id")
        )
        for twin in twins[: graph.OTHER_CASES_PER_IDENTIFIER]:
            nodes.add(f"case:{twin.case.public_id}")
            edges[f"held_in:{identifier.public_id}:{twin.case.public_id}"] = twin
    links = [
        e
        for key, e in edges.items()
        if not key.startswith("link:")
        or (
            (e.from_entity_id in seen_entities or e.from_identifier_id in seen_identifiers)
            and (e.to_entity_id in seen_entities or e.to_identifier_id in seen_identifiers)
        )
    ]
    # The picture draws the busiest `MAX_TRANSACTION_EDGES` money edges only.
    return len(nodes), len(links) + min(len(money), graph.MAX_TRANSACTION_EDGES)


# --- measuring ----------------------------------------------------------------------------


def in_process(client: Client, url: str) -> tuple[int, int, int, list[str]]:
    """Query count and picture size of one request (after a warm one)."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        return 0, 0, 0, [f"in-process {url} -> {response.status_code} {response.content[:200]!r}"]
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("UPDATE")]
    body = response.json()
    return len(statements), len(body["nodes"]), len(body["edges"]), []


def over_http(port: int, url: str, token: str, runs: int) -> tuple[list[float], list[str]]:
    """`runs` timed GETs after one warm-up, on one keep-alive connection."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    timings, errors = [], []
    for n in range(runs + 1):
        began = time.perf_counter()
        try:
            conn.request("GET", url, headers=headers)
            response = conn.getresponse()
            body = response.read()
            status = response.status
            if response.will_close:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            status, body = 0, repr(exc).encode()
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        elapsed = (time.perf_counter() - began) * 1000
        if status != 200:
            errors.append(f"GET {url} -> {status} {body[:200]!r}")
        elif n:
            timings.append(elapsed)
    conn.close()
    return timings, errors


def stock(user, case: Case, runs: int) -> tuple[float, int, int, int]:
    timings, queries, size = [], 0, (0, 0)
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            size = stock_picture(user, case)
            timings.append((time.perf_counter() - began) * 1000)
        queries = len(captured.captured_queries)
    return statistics.median(timings), queries, *size


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", help="reference or public id (default: most transactions)")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per line")
    parser.add_argument("--stock-runs", type=int, default=3, help="timed stock pictures")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--build", type=int, default=0, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=20)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rng = random.Random(args.seed)
    if args.build:
        if not args.case:
            sys.exit("--build needs --case: the case to write a network on.")
        build(find_case(args.case), args.build, rng)
    case = find_case(args.case)
    hub = busiest_identifier(case)
    token, plaintext = issue_api_token(
        agency=case.lead_agency, role=Role.VIEWER, name=f"bench.graph {time.time_ns()}"
    )
    user = token.user
    base = f"/api/v1/cases/{case.public_id}/graph/"
    urls = {"graph": base}
    if hub is not None:
        urls["expand"] = f"{base}?expand=identifier:{hub.public_id}"
    tmp = Path(tempfile.mkdtemp(prefix="cb-graph-"))
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
    print(
        f"{network_line(case)}; reader: a viewer of {case.lead_agency.code}; "
        f"PostgreSQL {connection.pg_version // 10000}; {os.cpu_count()} CPUs\n"
        f"gunicorn gthread {args.workers} workers x {args.threads} threads, DEBUG off, "
        f"throttling off; {args.runs} runs per line after 1 warm-up, one client",
        flush=True,
    )
    errors: list[str] = []
    results: dict[str, tuple] = {}
    try:
        server.start()
        client = Client(headers={"Authorization": f"Bearer {plaintext}"})
        print(
            f"\n{'request':8} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'nodes':>7} {'edges':>7}"
        )
        for name, url in urls.items():
            queries, nodes, edges, failed = in_process(client, url)
            timings, http_failed = over_http(port, url, plaintext, args.runs)
            errors += failed + http_failed
            p50, p95 = pct(timings, 50), pct(timings, 95)
            results[name] = (p50, p95, queries, nodes, edges)
            print(f"{name:8} {p50:8.1f} {p95:8.1f} {queries:8} {nodes:7,} {edges:7,}", flush=True)
        stock_ms, stock_queries, stock_nodes, stock_edges = stock(user, case, args.stock_runs)
        print(
            f"{'stock':8} {stock_ms:8.1f} {'':>8} {stock_queries:8,} {stock_nodes:7,} "
            f"{stock_edges:7,}   (ORM loops per node, in-process, median of {args.stock_runs})"
        )
    finally:
        server.stop()
        revoke_api_token(token=token)

    def verdict(label: str, value: str, met: bool) -> None:
        print(f"{label:52} {value:>28}  {'met' if met else 'NOT MET'}")

    print(f"\n{'target':52} {'value':>28}  result")
    if "graph" in results:
        p50, p95, queries, nodes, edges = results["graph"]
        verdict(
            f"graph p95 <= {P95_TARGET_MS:.0f} ms (issue 20)", f"{p95:.1f} ms", p95 <= P95_TARGET_MS
        )
        verdict("graph queries fixed (<= 10 with the token)", f"{queries}", queries <= 10)
        sizes = f"{stock_nodes:,}/{stock_edges:,} vs {nodes:,}/{edges:,}"
        same = (stock_nodes, stock_edges) == (nodes, edges)
        verdict("stock picture the same size (nodes/edges)", sizes, same)
        verdict("faster than the stock approach", f"{stock_ms / p50:.1f}x (p50)", stock_ms > p50)
    if "expand" in results:
        p95, queries = results["expand"][1], results["expand"][2]
        verdict(f"expand p95 <= {P95_TARGET_MS:.0f} ms", f"{p95:.1f} ms", p95 <= P95_TARGET_MS)
        verdict("expand queries fixed (<= 10 with the token)", f"{queries}", queries <= 10)
    if errors:
        for sample in errors[:5]:
            print("  error:", sample)
        print(f"\nFAILED: {len(errors)} failed requests")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
