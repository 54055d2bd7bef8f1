"""Benchmark: the case workspace page (issue 16), server time and query count.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench SECRET_KEY=x \\
        DECONFLICTION_HMAC_KEY=bench .venv/bin/python -m bench.workspace_page
    (`--case KR-KNP-2026-00001` measures an existing case instead, as a
    coordinator of its lead agency; `--busiest` picks the open case with the
    most children of a generated data set: participants, tasks, journal
    entries, evidence, identifiers and MLA requests)

Builds a busy case through the services (agencies sharing it, tasks with
progress logs, journal entries, evidence, identifiers, and the audit rows
they write), renders `/admin/cases/case/<id>/change/` with Django's test
client as the lead's coordinator and as a partner's investigator, and prints
p50/p95 server time and the query count of each, next to the same page of a
case with one of everything: the count must be the same.

What is built is committed, then `VACUUM ANALYZE`d, as the data set's cases
are: every service call rewrites the case row (its version), so a case built
and read in one open transaction drags hundreds of dead row versions through
every query and measures the benchmark's own writes, not the page. The built
cases stay in the database (agencies `B<tag>-…`): use a throwaway bench
database. `--rollback` builds, measures and rolls back in one transaction as
before (no trace left; pessimistic database times).

Figures are wall-clock times of the test client (server time: no network,
no browser) and move with the machine's load; `uptime` is printed with them.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("REQUIRE_2FA_FOR_PRIVILEGED", "0")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from agencies import services as agency_services  # noqa: E402
from agencies.models import Agency, Membership  # noqa: E402
from cases import deconfliction, documents, services  # noqa: E402
from cases.choices import AccessLevel  # noqa: E402
from cases.models import Case  # noqa: E402
from gate.roles import Role  # noqa: E402

TARGET_P95_MS = 150


class Rollback(Exception):
    pass


def _agency(code: str, country: str = "KH") -> Agency:
    return agency_services.create_agency(
        code=code, name=f"Bench {code}", country=country, kind="police", timezone="Asia/Seoul"
    )


def _user(agency: Agency, role: str):
    return agency_services.create_member(
        username=f"bench.{agency.code.lower()}.{role}", agency=agency, role=role, password=None
    ).user


def build(size: int, tag: str) -> tuple[Case, object, object]:
    """A case led by a new agency with `size` of each child; (case, lead, partner)."""
    lead_agency, partner_agency = _agency(f"B{tag}-LEAD", "KR"), _agency(f"B{tag}-PART")
    lead, partner = _user(lead_agency, Role.COORDINATOR), _user(partner_agency, Role.INVESTIGATOR)
    case = services.create_case(actor=lead, title=f"Bench workspace {tag}", summary="Busy case.")
    services.share_case(actor=lead, case=case, agency=partner_agency, level=AccessLevel.CONTRIBUTE)
    for i in range(size):
        other = _agency(f"B{tag}-{i:03d}")
        services.share_case(actor=lead, case=case, agency=other, level=AccessLevel.VIEW)
        task = services.create_task(
            actor=lead, case=case, title=f"Task {i}", assigned_agency=partner_agency
        )
        services.log_task_progress(actor=partner, task=task, body=f"Step {i} done.")
        services.log_task_progress(actor=lead, task=task, body=f"Checked step {i}.")
        services.add_note(actor=partner, case=case, body=f"Note {i}")
        services.add_note(actor=lead, case=case, body=f"Lead note {i}", handling_code="RED")
        documents.upload_document(
            actor=partner,
            case=case,
            file=io.BytesIO(b"%PDF-1.7\n" + b"0" * 500),
            name=f"doc-{i}.pdf",
            title=f"Document {i}",
            handling_code="GREEN",
        )
        deconfliction.add_identifier(
            actor=partner,
            case=case,
            kind="phone",
            value=f"+855 1{len(tag) + (tag[0] == 'L')} {i:03d} {i:03d}",
        )
    return case, lead, partner


def measure(user, case: Case, runs: int) -> tuple[float, float, int]:
    client = Client()
    client.force_login(user)
    url = reverse("admin:cases_case_change", args=[case.pk])
    assert client.get(url).status_code == 200  # warm
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, len(ctx.captured_queries)


def vacuum() -> None:
    """What autovacuum does to the data set's tables between writes and reads."""
    with connection.cursor() as cursor:
        for table in (
            "cases_case",
            "cases_caseparticipation",
            "cases_casegroupobjectpermission",
            "cases_task",
            "cases_tasklogentry",
            "cases_note",
            "cases_document",
            "cases_identifier",
            "audit_auditevent",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def report(small, busy, size: int, runs: int) -> bool:
    """Measure both cases as both users; print the table; True if the targets are met."""
    ok = True
    print(f"{'page':<34}{'p50 ms':>8}{'p95 ms':>8}{'queries':>9}")
    counts: dict[str, set[int]] = {}
    for label, (case, lead, partner) in (("1 of each", small), (f"{size} of each", busy)):
        for who, user in (("lead coordinator", lead), ("partner investigator", partner)):
            p50, p95, queries = measure(user, case, runs)
            counts.setdefault(who, set()).add(queries)
            ok &= p95 <= TARGET_P95_MS
            print(f"{label + ', ' + who:<34}{p50:>8.1f}{p95:>8.1f}{queries:>9}")
    flat = all(len(c) == 1 for c in counts.values())
    ok &= flat
    print(f"query count flat with size: {'yes' if flat else 'NO'}; "
          f"p95 target {TARGET_P95_MS} ms: {'met' if ok else 'NOT met'}")  # fmt: skip
    return ok


BUSIEST_SQL = """
    SELECT c.reference FROM cases_case c JOIN (
        SELECT case_id, count(*) AS n FROM (
            SELECT case_id FROM cases_caseparticipation
            UNION ALL SELECT case_id FROM cases_task
            UNION ALL SELECT case_id FROM cases_note
            UNION ALL SELECT case_id FROM cases_document WHERE case_id IS NOT NULL
            UNION ALL SELECT case_id FROM cases_identifier
            UNION ALL SELECT case_id FROM cases_mlarequest WHERE case_id IS NOT NULL
        ) children GROUP BY case_id
    ) busy ON busy.case_id = c.id
    WHERE c.status NOT IN ('closed', 'archived')
    ORDER BY busy.n DESC, c.id LIMIT 1
"""


def busiest_case() -> str:
    """The open case with the most children: its lead sees every form of the page."""
    with connection.cursor() as cursor:
        cursor.execute(BUSIEST_SQL)
        return cursor.fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50, help="tasks, notes… of the busy case")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--case", help="reference of an existing case to measure instead")
    parser.add_argument(
        "--busiest", action="store_true", help="measure the busiest open case of the data set"
    )
    parser.add_argument(
        "--rollback",
        action="store_true",
        help="build and measure in one transaction, rolled back (no trace, no VACUUM)",
    )
    args = parser.parse_args()
    if args.busiest:
        args.case = busiest_case()
    if args.case:
        case = Case.objects.get(reference=args.case)
        lead = (
            Membership.objects.filter(agency=case.lead_agency, role=Role.COORDINATOR).first().user
        )
        p50, p95, queries = measure(lead, case, args.runs)
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} cores")  # fmt: skip
        print(f"{case.reference} as lead coordinator: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
              f"{queries} queries (target p95 <= {TARGET_P95_MS} ms)")  # fmt: skip
        return 0 if p95 <= TARGET_P95_MS else 1
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        if args.rollback:
            try:
                with transaction.atomic():
                    ok = report(build(1, "S"), build(args.size, "L"), args.size, args.runs)
                    raise Rollback
            except Rollback:
                pass
        else:
            run = secrets.token_hex(2).upper()
            with transaction.atomic():
                small = build(1, f"S{run}")
            with transaction.atomic():
                busy = build(args.size, f"L{run}")
            vacuum()
            ok = report(small, busy, args.size, args.runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
