"""Benchmark: the coordinators' statistics (`cases.statistics`, issue 20).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench SECRET_KEY=x \\
        DECONFLICTION_HMAC_KEY=bench .venv/bin/python -m bench.statistics
    ... --runs 3                        # timed runs per line (after one warm-up)
    ... --fill-network 20000            # first add victims and assets (own databases only)

Works on whatever data set `bench.generate` left in DATABASE_URL, read
only (unless `--fill-network`). Measures, in-process, the figures the API
and the admin page compute:

* pooled over **every** active agency (the target: ≤ 2 s at 1M cases). The
  generated agencies have not consented, and a benchmark must not write
  consent into a shared data set, so the agencies are passed to the pooled
  selector directly (`contributors=`): the same SQL as with consent;
* one agency's own figures, through the gate, for the busiest agency (the
  most `view_case` grants) and for a small one;

per line: p50/p95 over `--runs`, and the statements of the last run with
their times, the slowest first (each aggregate is one statement; nothing is
read row by row). Prints the sizes of the tables the figures read. Exits 1
only if a run fails; the target is reported, not enforced.

`--fill-network N` writes N TLP:RED victims and N frozen assets (a third of
them later seized, a tenth returned) on random cases, with COPY, into a
data set whose network tables are empty; `bench.generate` writes none.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.models import Agency, Membership  # noqa: E402
from bench.generate import Table  # noqa: E402
from bench.procs import pct  # noqa: E402
from cases.choices import AccessLevel  # noqa: E402
from cases.models import (  # noqa: E402
    Asset,
    AssetStateChange,
    Case,
    CaseGroupObjectPermission,
    Entity,
    Identifier,
    MLARequest,
)
from cases.statistics import SCOPE_AGENCY, SCOPE_CONTRIBUTORS, statistics  # noqa: E402
from gate.roles import Role  # noqa: E402

TARGET_SECONDS = 2.0
TABLES = (Case, MLARequest, Entity, Asset, AssetStateChange, Identifier)


def sizes() -> dict[str, int]:
    """Estimated rows per table (the planner's figure; exact below 100,000)."""
    found = {}
    with connection.cursor() as cursor:
        for model in TABLES:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
                [model._meta.db_table],
            )
            estimate = cursor.fetchone()[0]
            found[model._meta.label] = (
                estimate if estimate >= 100_000 else model._default_manager.count()
            )
    return found


def fill_network(n: int, rng: random.Random) -> None:
    """N victims and N assets on random cases, recorded by each case's lead."""
    if Entity.objects.exists() or Asset.objects.exists():
        raise SystemExit("--fill-network: the network tables already hold rows; left alone.")
    case_ids = list(Case.objects.order_by("?").values_list("pk", "lead_agency_id")[:n])
    entities = Table(
        Entity,
        [
            "public_id",
            "case_id",
            "agency_id",
            "kind",
            "name",
            "role",
            "nationality",
            "handling_code",
            "created_at",
            "updated_at",
        ],
    )
    assets = Table(
        Asset,
        [
            "id",
            "public_id",
            "case_id",
            "agency_id",
            "kind",
            "description",
            "value",
            "currency",
            "state",
            "state_on",
            "created_at",
            "updated_at",
        ],
    )
    steps = Table(
        AssetStateChange,
        ["public_id", "asset_id", "case_id", "agency_id", "state", "on", "created_at"],
    )
    # `on` is an SQL keyword: quoted, which `Table` does not do.
    steps.sql = steps.sql.replace(", on,", ', "on",')
    nationalities = ["KR", "KR", "KR", "US", "GB", "VN", "ID", "PH", "CN", ""]
    currencies = ["USDT-TRC20", "USDT-TRC20", "KRW", "USD", "THB"]
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM cases_asset")
        next_asset = cursor.fetchone()[0] + 1
        entities.write(
            cursor,
            (
                (
                    uuid.uuid4(),
                    case,
                    lead,
                    "person",
                    f"Victim {i}",
                    "victim",
                    rng.choice(nationalities),
                    "RED",
                    now,
                    now,
                )
                for i, (case, lead) in enumerate(case_ids)
            ),
        )
        asset_rows, step_rows = [], []
        for i, (case, lead) in enumerate(case_ids):
            asset = next_asset + i
            frozen = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            state = "returned" if i % 10 == 0 else "seized" if i % 3 == 0 else "frozen"
            value = f"{rng.randint(100, 5_000_000)}.{rng.randint(0, 99):02d}"
            asset_rows.append(
                (asset, uuid.uuid4(), case, lead, "crypto", "Frozen balance", value,
                 rng.choice(currencies), state, frozen, now, now)
            )  # fmt: skip
            step_rows.append((uuid.uuid4(), asset, case, lead, "frozen", frozen, now))
            if state in ("seized", "returned"):
                step_rows.append((uuid.uuid4(), asset, case, lead, "seized", frozen, now))
            if state == "returned":
                step_rows.append((uuid.uuid4(), asset, case, lead, "returned", frozen, now))
        assets.write(cursor, asset_rows)
        steps.write(cursor, step_rows)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('cases_asset', 'id'), "
            "(SELECT MAX(id) FROM cases_asset))"
        )
    with connection.cursor() as cursor:
        for model in (Entity, Asset, AssetStateChange):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    print(
        f"filled: {len(case_ids):,} victims, {len(asset_rows):,} assets, {len(step_rows):,} steps"
    )


def coordinator_of(agency_id: int):
    membership = (
        Membership.objects.filter(agency_id=agency_id, role=Role.COORDINATOR)
        .select_related("user", "agency")
        .first()
    )
    if membership is None:
        raise SystemExit(f"agency {agency_id} has no coordinator")
    return membership.user


def agencies_by_size() -> list[tuple[int, int]]:
    """(agency id, cases it sees), the largest first."""
    rows = (
        CaseGroupObjectPermission.objects.filter(permission__codename=f"{AccessLevel.VIEW}_case")
        .values("group__agency")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    return [(row["group__agency"], row["n"]) for row in rows if row["group__agency"]]


def measure(label: str, runs: int, call) -> float:
    call()  # warm-up
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
    p50, p95 = pct(times, 50), pct(times, 95)
    print(f"\n{label}: p50 {p50 * 1000:,.0f} ms, p95 {p95 * 1000:,.0f} ms over {runs} runs")
    print(f"  {len(captured.captured_queries)} statements in the last run, slowest first:")
    for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:8]:
        sql = " ".join(query["sql"].split())
        print(f"  {float(query['time']) * 1000:8.1f} ms  {sql[:150]}")
    return p95


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fill-network", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args(argv)
    if args.fill_network:
        fill_network(args.fill_network, random.Random(args.seed))
    print("rows:", ", ".join(f"{name} {n:,}" for name, n in sizes().items()))
    agencies = list(Agency.objects.filter(active=True).values_list("pk", flat=True))
    by_size = agencies_by_size()
    busiest, busiest_n = by_size[0]
    small, small_n = by_size[len(by_size) // 2]
    reader = coordinator_of(busiest)
    pooled = measure(
        f"pooled over all {len(agencies)} agencies",
        args.runs,
        lambda: statistics(reader, scope=SCOPE_CONTRIBUTORS, contributors=agencies),
    )
    measure(
        f"one agency through the gate: the busiest ({busiest_n:,} cases seen)",
        args.runs,
        lambda: statistics(reader, scope=SCOPE_AGENCY),
    )
    small_reader = coordinator_of(small)
    measure(
        f"one agency through the gate: a median one ({small_n:,} cases seen)",
        args.runs,
        lambda: statistics(small_reader, scope=SCOPE_AGENCY),
    )
    verdict = "met" if pooled <= TARGET_SECONDS else "NOT MET"
    print(f"\ntarget: pooled statistics over all agencies p95 <= {TARGET_SECONDS} s: {verdict}")


if __name__ == "__main__":
    main()
