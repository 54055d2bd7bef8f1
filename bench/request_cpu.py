"""Benchmark: CPU per API request in this process, the figure behind the load ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench .venv/bin/python -m bench.request_cpu
    ... --requests 400                      # per kind (default 300)
    ... --profile list --top 40             # cProfile (CPU clock) of one kind, by cumulative time

On a shared machine wall times move with the neighbours; the CPU time this
process spends per request (`time.process_time`, PostgreSQL's own work not
included) moves much less, and is what caps a gunicorn worker. Requests go
through Django's test client, the full middleware stack and the settings the
load benchmark serves (`bench.load_settings`: DEBUG off, throttling off,
`/bench/ping/`), authenticated by a bearer token of the load benchmark's seed
agency (`bench.load.seed`, 300 cases with a task each, made once):

  ping:     GET /bench/ping/ (a trivial authenticated DRF view)
  list:     GET /api/v1/cases/?page_size=50
  detail:   GET /api/v1/cases/<id>/
  children: the case, its participants, its tasks, its last 10 notes (4 requests)

Prints CPU ms per request (mean and median), wall p50, queries per request,
and the list/ping and detail/ping CPU ratios.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import bench_environment, ensure_database

KINDS = ("ping", "list", "detail", "children")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per kind")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--profile", choices=KINDS, help="cProfile this kind instead")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--throttle", action="store_true", help="keep API throttling on")
    parser.add_argument(
        "--auth",
        choices=["token", "session"],
        default="token",
        help="bearer token (a partner system) or a logged-in session (the web, bench.cases_page)",
    )
    parser.add_argument("--seed", type=int, default=10)
    return parser.parse_args(argv)


def setup(args) -> None:
    bench_environment()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.load_settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # as bench.load: no TLS proxy
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    if args.auth == "session":  # as bench.cases_page: a login without a phone
        os.environ.setdefault("REQUIRE_2FA_FOR_PRIVILEGED", "0")
    if not args.throttle:
        os.environ["API_THROTTLE_RATE"] = ""
        os.environ["API_ANON_THROTTLE_RATE"] = ""
    else:  # high enough never to answer 429 during the run
        os.environ["API_THROTTLE_RATE"] = "1000000/min"
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def requests_for(kind: str, world: dict, rng: random.Random) -> list[str]:
    if kind == "ping":
        return ["/bench/ping/"]
    if kind == "list":
        return ["/api/v1/cases/?page_size=50"]
    case = rng.choice(world["cases"])
    if kind == "detail":
        return [f"/api/v1/cases/{case}/"]
    return [
        f"/api/v1/cases/{case}/",
        f"/api/v1/cases/{case}/participants/",
        f"/api/v1/tasks/?case={case}",
        f"/api/v1/notes/?case={case}&ordering=-created_at&page_size=10",
    ]


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.load import AGENCY, seed

    world = seed(300)
    if args.auth == "token":
        client = Client(
            HTTP_AUTHORIZATION=f"Bearer {world['token']}", HTTP_ACCEPT="application/json"
        )
    else:
        from agencies.models import Membership

        client = Client(HTTP_ACCEPT="application/json")
        member = Membership.objects.filter(
            agency__code=AGENCY, is_service_account=False
        ).select_related("user")
        client.force_login(member.first().user)
    rng = random.Random(args.seed)

    def run(kind: str) -> int:
        n = 0
        for url in requests_for(kind, world, rng):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
            n += 1
        return n

    kinds = [args.profile] if args.profile else args.kinds.split(",")
    for kind in kinds:  # warm: connections, URL resolver, first-use caches
        for _ in range(args.warmup):
            run(kind)

    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.requests):
            run(args.profile)
        profiler.disable()
        stats = pstats.Stats(profiler)
        print(f"cProfile of {args.requests} x {args.profile} (CPU clock, s)")
        stats.sort_stats(args.sort).print_stats(args.top)
        return 0

    results = {}
    for kind in kinds:
        cpu, wall = [], []
        with CaptureQueriesContext(connection) as captured:
            run(kind)
        queries = len(captured)
        for _ in range(args.requests):
            c0, w0 = time.process_time(), time.perf_counter()
            n = run(kind)
            cpu.append((time.process_time() - c0) * 1000 / n)
            wall.append((time.perf_counter() - w0) * 1000)
        results[kind] = {
            "cpu_mean": statistics.fmean(cpu),
            "cpu_p50": statistics.median(cpu),
            "wall_p50": statistics.median(wall),
            "queries": queries,
        }

    print(
        f"{args.requests} requests per kind after {args.warmup} warm-up, in-process, "
        f"{args.auth} authentication; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    header = ("request", "CPU ms mean", "CPU ms p50", "wall ms p50", "queries")
    print("{:10} {:>12} {:>11} {:>12} {:>8}".format(*header))
    for kind, r in results.items():
        print(
            f"{kind:10} {r['cpu_mean']:12.2f} {r['cpu_p50']:11.2f} "
            f"{r['wall_p50']:12.2f} {r['queries']:8d}"
        )
    print("(children: CPU per request of the four, wall for all four)")
    if "ping" in results:
        for kind in ("list", "detail"):
            if kind in results:
                ratio = results["ping"]["cpu_mean"] / results[kind]["cpu_mean"]
                print(f"CPU ratio ping/{kind} (≈ {kind}/ping throughput): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
