"""Where the time of one large fan-out goes, in-process (no worker, no broker).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench python -m bench.fanout_profile
    ... --repeat 5 --cprofile          # and the Python functions, by own time

Run it after `bench.fanout` on the same database: it takes the latest
`note.added` message (the scenario's, 1,250 recipients), copies it under a
new id and fans the copy out inside a transaction that is rolled back, so
nothing is written. The deferred foreign-key checks, which a real delivery
pays at COMMIT, are forced (SET CONSTRAINTS ALL IMMEDIATE) and timed. Prints
wall time, this process's CPU time and the time spent waiting on PostgreSQL
per run, then each statement's time for the last run.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import bench_environment


class _RollBack(Exception):
    pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cprofile", action="store_true", help="profile the last run")
    args = parser.parse_args(argv)
    bench_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from notifications import dispatch
    from notifications.choices import OutboxStatus
    from notifications.models import OutboxMessage

    source = OutboxMessage.objects.filter(event_type="note.added").order_by("-created_at").first()
    if source is None:
        print("no note.added message: run bench.fanout on this database first")
        return 1
    times: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter = collections.Counter()

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split())[:90]
            times[key] += time.perf_counter() - started
            counts[key] += 1

    for run in range(args.repeat):
        profile = cProfile.Profile() if args.cprofile and run == args.repeat - 1 else None
        copy = OutboxMessage.objects.get(pk=source.pk)
        copy.pk, copy.status, copy.delivered_at = uuid.uuid4(), OutboxStatus.PUBLISHED, None
        times.clear()
        counts.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            with transaction.atomic():
                copy.save(force_insert=True)
                with connection.execute_wrapper(timed):
                    message = OutboxMessage.objects.select_for_update().get(pk=copy.pk)
                    if profile:
                        profile.enable()
                    dispatch.fan_out(message)
                    if profile:
                        profile.disable()
                    with connection.cursor() as cursor:
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT checks
                raise _RollBack
        except _RollBack:
            pass
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"run {run + 1}: wall {wall * 1000:6.1f} ms, this process's CPU {cpu * 1000:6.1f} ms, "
            f"PostgreSQL {sum(times.values()) * 1000:6.1f} ms, {sum(counts.values())} statements"
        )
    print("\nlast run, by statement:")
    for key, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"{seconds * 1000:8.1f} ms  x{counts[key]:<3} {key}")
    if args.cprofile:
        print()
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
