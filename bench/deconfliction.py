"""Benchmark: a 1,000-identifier deconfliction search over N stored identifiers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench SECRET_KEY=x \\
        DECONFLICTION_HMAC_KEY=bench .venv/bin/python bench/deconfliction.py
    ... --identifiers 10000000      # the full run (COPY, about 1.5 GB of table and indexes)

Seeds the database (migrated first) with N identifiers spread over many
cases of three agencies, loaded with COPY, then times `deconfliction.search`
for 1,000 identifiers (half of them held, half not; one agency's own case
among the holders) against the same lookup as one raw SQL query on the
hash index. Prints p50/p95 over the runs and their ratio. Each timed search
runs in a transaction that is rolled back, so reruns start alike.
Re-running adds identifiers only up to N.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.models import Agency, Membership  # noqa: E402
from agencies.services import create_agency, create_member  # noqa: E402
from cases import deconfliction, services  # noqa: E402
from cases.identifiers import keyed_hash  # noqa: E402
from cases.models import Case, Identifier  # noqa: E402
from gate.roles import Role  # noqa: E402

CASES_PER_AGENCY = 200
AGENCIES = [("BENCH-KR", "KR"), ("BENCH-KH", "KH"), ("BENCH-TH", "TH")]


def value_of(i: int) -> tuple[str, str, str]:
    """The i-th synthetic identifier as (kind, normalised value, chain): all distinct."""
    match i % 3:
        case 0:
            return "crypto_wallet", "0x" + f"{i:040x}", "ethereum"
        case 1:
            return "phone", f"+8210{i % 10**8:08d}", ""
        case _:
            return (
                "ip_address",
                f"{(i >> 24) % 223 + 1}.{(i >> 16) % 256}.{(i >> 8) % 256}.{i % 256}",
                "",
            )


def world():
    """Three agencies with their cases, and a searcher (UNODC-like) sharing one."""
    agencies, cases, users = [], [], {}
    for code, country in AGENCIES:
        agency = Agency.objects.filter(code=code).first() or create_agency(
            code=code, name=code, country=country, kind="police", timezone="UTC"
        )
        agencies.append(agency)
        user = (
            Membership.objects.filter(agency=agency, role=Role.COORDINATOR).first()
            or create_member(
                username=f"{code.lower()}.bench",
                agency=agency,
                role=Role.COORDINATOR,
                password=uuid.uuid4().hex,
            )
        ).user
        users[agency.pk] = user
        existing = list(Case.objects.filter(lead_agency=agency).order_by("id"))
        for n in range(len(existing), CASES_PER_AGENCY):
            existing.append(services.create_case(actor=user, title=f"Bench case {n}"))
        cases += existing
    searcher_agency = Agency.objects.filter(code="BENCH-INT").first() or create_agency(
        code="BENCH-INT", name="Searcher", country="INT", kind="international", timezone="UTC"
    )
    searcher = (
        Membership.objects.filter(agency=searcher_agency).first()
        or create_member(
            username="bench.searcher",
            agency=searcher_agency,
            role=Role.INVESTIGATOR,
            password=uuid.uuid4().hex,
        )
    ).user
    shared = cases[0]
    if not shared.participations.filter(agency=searcher_agency, revoked_at__isnull=True).exists():
        services.share_case(
            actor=users[shared.lead_agency_id], case=shared, agency=searcher_agency, level="view"
        )
    return cases, users, searcher


def seed(total: int, cases, users, batch: int = 100_000) -> None:
    have = Identifier.objects.count()
    if have >= total:
        print(f"{have:,} identifiers already stored")
        return
    key = settings.DECONFLICTION_HMAC_KEY.encode()
    now = timezone.now()
    columns = (
        "public_id, case_id, kind, raw_value, normalised_value, value_hash, chain, country, "
        "platform, bank_code, registration_number, notes, added_by_id, agency_id, created_at, "
        "handling_code, handling_instruction, handling_restriction"
    )
    started = time.perf_counter()
    for start in range(have, total, batch):
        stop = min(start + batch, total)
        sql = f"COPY cases_identifier ({columns}) FROM STDIN"
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for i in range(start, stop):
                kind, value, chain = value_of(i)
                case = cases[i % len(cases)]
                copy.write_row(
                    (
                        uuid.uuid4(),
                        case.pk,
                        kind,
                        value,
                        value,
                        keyed_hash(kind, value, key=key),
                        chain,
                        "",
                        "",
                        "",
                        "",
                        "",
                        users[case.lead_agency_id].pk,
                        case.lead_agency_id,
                        now,
                        "AMBER",
                        "H0",
                        "",
                    )
                )
        print(f"\r  seeded {stop:,}/{total:,} ({time.perf_counter() - started:.0f} s)", end="")
    print()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_identifier")


def queries(total: int, size: int, rng: random.Random):
    """`size` search items, half of them stored, half not, as (kind, value, chain)."""
    held = [value_of(rng.randrange(total)) for _ in range(size // 2)]
    missing = [value_of(total + rng.randrange(10**6)) for _ in range(size - len(held))]
    items = held + missing
    rng.shuffle(items)
    return [(kind, value, chain) if chain else (kind, value) for kind, value, chain in items]


def time_it(fn, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        with transaction.atomic():
            started = time.perf_counter()
            fn()
            timings.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    return timings


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--identifiers", type=int, default=200_000)
    parser.add_argument("--search-size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    cases, users, searcher = world()
    seed(args.identifiers, cases, users)
    rng = random.Random(args.seed)
    items = queries(args.identifiers, args.search_size, rng)
    key = settings.DECONFLICTION_HMAC_KEY.encode()
    hashes = [
        keyed_hash(i[0], i[1].lower() if i[0] == "crypto_wallet" else i[1], key=key) for i in items
    ]

    answers = deconfliction.search(actor=searcher, identifiers=items)  # warm-up, and a check
    found = sum(bool(a.hits or a.held_elsewhere) for a in answers)
    assert not any(a.errors for a in answers), [a.errors for a in answers if a.errors][:3]

    def service():
        deconfliction.search(actor=searcher, identifiers=items)

    def raw_sql():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, public_id, kind, agency_id, case_id, created_at "
                "FROM cases_identifier WHERE value_hash = ANY(%s)",
                [hashes],
            )
            return cursor.fetchall()

    raw_rows = len(raw_sql())
    service_ms = time_it(service, args.runs)
    raw_ms = time_it(raw_sql, args.runs)
    stored = Identifier.objects.count()
    print(
        f"\n{stored:,} identifiers stored; {len(items):,} searched, {found} held "
        f"({raw_rows} matching rows); {args.runs} runs each\n"
    )
    print(f"{'':34} {'p50 ms':>9} {'p95 ms':>9}")
    label = "deconfliction.search (service)"
    print(f"{label:34} {pct(service_ms, 50):9.1f} {pct(service_ms, 95):9.1f}")
    print(f"{'one raw SQL = ANY(hashes)':34} {pct(raw_ms, 50):9.1f} {pct(raw_ms, 95):9.1f}")
    print(
        f"{'ratio service / raw':34} {pct(service_ms, 50) / pct(raw_ms, 50):9.1f}x"
        f" {pct(service_ms, 95) / pct(raw_ms, 95):8.1f}x"
    )
    print(f"(median over runs: service {statistics.median(service_ms):.1f} ms)")


if __name__ == "__main__":
    main()
