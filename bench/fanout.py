"""Benchmark: notification fan-out through one real Celery worker on a real broker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench .venv/bin/python -m bench.fanout
    ... --events 200 --users 25 --updates 3       # the CI smoke size

Three measurements, each on the same broker with the same worker command
(`celery -A config worker`, prefork, concurrency 2, as docker-compose runs it):

1. **No-op tasks/s**: N `bench.noop` tasks (bench/noop.py) queued, then drained.
2. **Outbox events**: N `case.shared` events emitted through `notifications.outbox.emit`
   (one committed transaction each), queued, then drained by the worker:
   deliveries/s (in-app notifications written per second) and its ratio to (1).
   Both (1) and (2) fill the queue before the worker starts, and time the
   drain from the worker's own log (first task received .. last succeeded),
   so the producer's speed is not measured.
3. **The issue's scenario**: a case seen by `--users` coordinators across
   `--agencies` agencies; its lead adds `--updates` notes back to back, the
   worker running: notifications/s and commit-to-delivered p50/p95 (commit
   time taken by the producer after each commit, delivered = the message's
   `delivered_at`). With `--kill`, the worker is killed with SIGKILL part way
   and restarted; the outbox sweeper (run here, as beat would) republishes.

Messages still undelivered in the database when a run starts (left by an
earlier, interrupted run, or the world's own share events) are marked dead
first, so the sweeper does not mix them into the measurement: run it on a
benchmark database only.

The scenario also checks that nothing is seen before its commit: no
notification is stamped earlier than its producer's COMMIT, and `--probes`
notes whose task is published *before* their commit (the worst case) have
nothing written while the worker runs that task, nor after their rollback.

Every phase checks 0 lost (each message delivered, one notification per
expected recipient) and 0 duplicated (no (message, recipient) twice).

The broker is a private redis-server on a free port unless `--broker URL`
(e.g. amqp://guest:guest@127.0.0.1:5672// for RabbitMQ, or the shared Redis).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import (
    CeleryWorker,
    PrivateRedis,
    bench_environment,
    ensure_database,
    pct,
    wait_until,
)

LOG_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): \w+/[^\]]+\] "
    r"Task (\S+)\[([0-9a-f-]+)\] (received|succeeded)"
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="outbox events (phase 2)")
    parser.add_argument("--agencies", type=int, default=50, help="agencies seeing the case")
    parser.add_argument("--users", type=int, default=1250, help="coordinators seeing the case")
    parser.add_argument("--updates", type=int, default=100, help="notes added to the case")
    parser.add_argument("--broker", default="", help="broker URL (default: private redis)")
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--kill", action="store_true", help="kill -9 the worker in phase 3")
    parser.add_argument("--sweep-every", type=float, default=60, help="with --kill: seconds")
    parser.add_argument("--sweep-after", type=float, default=60, help="with --kill: seconds")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per phase")
    parser.add_argument("--skip-scenario", action="store_true")
    parser.add_argument(
        "--probes", type=int, default=3, help="uncommitted messages published early (scenario)"
    )
    return parser.parse_args(argv)


def drain_span(log: Path, task_name: str, expected: int) -> tuple[int, float]:
    """(tasks succeeded, seconds from the first received to the last succeeded),
    read from the worker's log lines for `task_name`."""
    first = last = None
    done = 0
    for line in log.read_text().splitlines():
        match = LOG_LINE.match(line)
        if not match or match.group(2) != task_name:
            continue
        # The worker's local clock, like every other line: only differences matter.
        at = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")  # noqa: DTZ007
        if match.group(4) == "received":
            first = at if first is None else min(first, at)
        else:
            done += 1
            last = at if last is None else max(last, at)
    if first is None or last is None:
        return done, float("nan")
    return done, max((last - first).total_seconds(), 1e-3)


def main(argv=None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the worker, gunicorn and redis we started stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench_environment()
    ensure_database(os.environ["DATABASE_URL"])
    tmp = Path(tempfile.mkdtemp(prefix="cb-fanout-"))
    redis = None
    if not args.broker:
        redis = PrivateRedis(tmp).start()
    broker_url = args.broker or redis.url
    queue = f"bench-fanout-{uuid.uuid4().hex[:8]}"
    os.environ["CELERY_BROKER_URL"] = broker_url
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = queue
    worker = CeleryWorker(
        env={**os.environ},
        queue=queue,
        log=tmp / "worker.log",
        pool=args.pool,
        concurrency=args.concurrency,
    )
    try:
        return run(args, worker, broker_url, queue)
    finally:
        worker.stop()
        if redis is not None:
            redis.stop()


def run(args, worker: CeleryWorker, broker_url: str, queue: str) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import Count

    from bench.noop import noop
    from config.celery import app
    from notifications.choices import Channel, OutboxStatus
    from notifications.models import Delivery, Notification, OutboxMessage
    from notifications.outbox import emit, sweep

    call_command("migrate", verbosity=0)
    failures: list[str] = []

    def check_exactly_once(ids: list, expected_per_message: int, label: str) -> tuple[int, int]:
        """(lost, duplicated) among messages `ids`: notifications per message
        against the audience, (message, recipient) pairs told twice, and any
        in-app or e-mail `Delivery` row (the notification is both since
        notifications 0002: such a row would be a second write)."""
        undelivered = (
            OutboxMessage.objects.filter(pk__in=ids).exclude(status=OutboxStatus.DELIVERED).count()
        )
        per_message = dict(
            Notification.objects.filter(message_id__in=ids)
            .values_list("message_id")
            .annotate(n=Count("id"))
        )
        lost = undelivered + sum(max(0, expected_per_message - per_message.get(i, 0)) for i in ids)
        duplicated = (
            Notification.objects.filter(message_id__in=ids)
            .values("message_id", "recipient_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        duplicated += (
            Delivery.objects.filter(message_id__in=ids)
            .filter(channel__in=[Channel.IN_APP, Channel.EMAIL])
            .count()
        )
        if lost or duplicated:
            failures.append(f"{label}: {lost} lost, {duplicated} duplicated")
        return lost, duplicated

    def purge() -> None:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)

    def delivered(ids) -> int:
        return OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.DELIVERED).count()

    world = build_world(args)
    purge()  # the world's own share events are not measured
    # Nor are messages an earlier, interrupted run left undelivered: the
    # sweeper (--kill) would republish them into this run's queue.
    OutboxMessage.objects.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.PUBLISHED]).update(
        status=OutboxStatus.DEAD, last_error="bench.fanout: left over from an earlier run"
    )

    # 1. No-op tasks, queued before the worker starts.
    for i in range(args.events):
        noop.delay(i)
    worker.start()
    ok = wait_until(
        lambda: drain_span(worker.log, "bench.noop", args.events)[0] >= args.events,
        timeout=args.timeout,
        interval=0.5,
    )
    noop_done, noop_seconds = drain_span(worker.log, "bench.noop", args.events)
    worker.stop()
    if not ok:
        failures.append(f"no-op: {noop_done} of {args.events} tasks ran")
    noop_rate = noop_done / noop_seconds

    # 2. Outbox events, emitted (each in its own transaction) and queued
    # before the worker starts.
    ids = []
    for _ in range(args.events):
        with transaction.atomic():
            message = emit(
                "case.shared",
                obj=world["case"],
                actor=world["lead"],
                agency=world["solo_agency"].public_id,
            )
        ids.append(message.pk)
    worker.start()
    ok = wait_until(lambda: delivered(ids) >= len(ids), timeout=args.timeout, interval=0.5)
    _task_done, events_seconds = drain_span(worker.log, "notifications.deliver_message", len(ids))
    if not ok:
        failures.append(f"events: {delivered(ids)} of {len(ids)} delivered")
    notes_written = Notification.objects.filter(message_id__in=ids).count()
    delivery_rate = notes_written / events_seconds
    events_lost, events_dup = check_exactly_once(ids, 1, "events")

    scenario = None
    if not args.skip_scenario:
        scenario = run_scenario(args, world, worker, check_exactly_once, failures, sweep)

    print(
        f"\nbroker {broker_url.split('@')[-1]}; worker --pool={args.pool} "
        f"--concurrency={args.concurrency}; {os.cpu_count()} CPUs\n"
    )
    print(f"{'':44} {'count':>9} {'seconds':>9} {'per s':>9}")
    print(f"{'no-op Celery tasks':44} {noop_done:9,} {noop_seconds:9.2f} {noop_rate:9.1f}")
    print(
        f"{'outbox events -> deliveries (1 recipient)':44} {notes_written:9,} "
        f"{events_seconds:9.2f} {delivery_rate:9.1f}"
    )
    ratio = delivery_rate / noop_rate
    print(f"{'ratio deliveries/s / no-op tasks/s':44} {'':9} {'':9} {ratio:8.2f}x")
    print(f"{'events: lost / duplicated':44} {events_lost:>9} {events_dup:>9}")
    if scenario:
        label = f"scenario: {args.users:,} users x {args.updates} notes"
        print(
            f"{label:44} {scenario['notifications']:9,} {scenario['seconds']:9.2f} "
            f"{scenario['rate']:9.1f}"
        )
        print(
            f"{'ratio scenario notifications/s / no-op/s':44} {'':9} {'':9} "
            f"{scenario['rate'] / noop_rate:8.2f}x"
        )
        print(
            f"{'commit-to-delivered p50 / p95 / max s':44} {scenario['p50']:9.2f} "
            f"{scenario['p95']:9.2f} {scenario['max']:9.2f}"
        )
        killed = " (worker killed -9 mid-run)" if args.kill else ""
        print(
            f"{'scenario: lost / duplicated' + killed:44} {scenario['lost']:>9} "
            f"{scenario['duplicated']:>9}"
        )
        print(
            f"{'notifications written before their commit':44} "
            f"{scenario['notifications']:9,} {scenario['early']:>9}"
        )
        print(
            f"{'uncommitted probes run by the worker / seen':44} "
            f"{scenario['probes_run']:>9} {scenario['probes_seen']:>9}"
        )
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    if scenario:
        print("\nOK: 0 lost, 0 duplicated, 0 seen before commit")
    else:
        print("\nOK: 0 lost, 0 duplicated")
    return 0


def build_world(args) -> dict:
    """A lead agency with one coordinator (the actor), one agency with one
    coordinator (phase 2's recipient), and `--agencies` agencies with
    `--users` coordinators between them, all seeing one case. Re-runs reuse it."""
    from agencies.models import Agency, Membership
    from agencies.services import create_agency, create_member
    from cases import services
    from cases.models import Case
    from gate.roles import Role

    def agency(code: str) -> Agency:
        return Agency.objects.filter(code=code).first() or create_agency(
            code=code, name=code, country="KH", kind="police", timezone="UTC"
        )

    def coordinators(a: Agency, n: int) -> None:
        have = Membership.objects.filter(agency=a, role=Role.COORDINATOR).count()
        for i in range(have, n):
            create_member(username=f"{a.code.lower()}.c{i}", agency=a, role=Role.COORDINATOR)

    lead_agency = agency("FAN-LEAD")
    coordinators(lead_agency, 1)
    lead = Membership.objects.filter(agency=lead_agency, role=Role.COORDINATOR).first().user
    solo_agency = agency("FAN-SOLO")
    coordinators(solo_agency, 1)
    title = f"Fan-out bench case ({args.agencies} agencies)"
    case = Case.objects.filter(lead_agency=lead_agency, title=title).first()
    if case is None:
        case = services.create_case(actor=lead, title=title)
    live = case.participations.filter(revoked_at__isnull=True)
    shared = set(live.values_list("agency_id", flat=True))
    if solo_agency.pk not in shared:
        services.share_case(actor=lead, case=case, agency=solo_agency, level="view")
    per_agency, extra = divmod(args.users, args.agencies)
    crowd = []
    for i in range(args.agencies):
        a = agency(f"FAN-A{i:03d}")
        coordinators(a, per_agency + (1 if i < extra else 0))
        if a.pk not in shared:
            services.share_case(actor=lead, case=case, agency=a, level="view")
        crowd.append(a)
    return {"lead": lead, "case": case, "solo_agency": solo_agency, "crowd": crowd}


def run_scenario(args, world, worker, check_exactly_once, failures, sweep) -> dict:
    from django.db import transaction
    from django.db.models import Min

    from agencies.models import Membership
    from cases import services
    from gate.roles import Role
    from notifications.choices import OutboxStatus
    from notifications.models import Notification, OutboxMessage

    case, lead = world["case"], world["lead"]
    # Who should hear of a note: coordinators of every agency seeing the case,
    # except the actor (the solo agency's coordinator sees it too).
    seeing = [world["solo_agency"].pk, *(a.pk for a in world["crowd"])]
    expected = Membership.objects.filter(
        agency_id__in=seeing, role=Role.COORDINATOR, is_service_account=False
    ).count() + (
        Membership.objects.filter(agency=case.lead_agency, role=Role.COORDINATOR).count() - 1
    )
    if worker.exited or worker.process is None:
        worker.start()
    committed: dict = {}
    started = time.time()
    killed = False
    before_commit: dict = {}
    for n in range(args.updates):
        with transaction.atomic():
            note = services.add_note(actor=lead, case=case, body=f"Fan-out bench update {n}")
            before_commit[note.pk] = time.time()  # the last thing before COMMIT
        committed[note.pk] = time.time()
        if args.kill and not killed and n >= args.updates // 2:
            worker.kill()
            killed = True
            worker.start()
    ids = list(
        OutboxMessage.objects.filter(
            event_type="note.added",
            object_id__in=[n.public_id for n in case.notes.filter(pk__in=list(committed))],
        ).values_list("pk", "object_id")
    )
    note_by_public = dict(case.notes.filter(pk__in=list(committed)).values_list("public_id", "pk"))
    commit_at = {pk: committed[note_by_public[obj]] for pk, obj in ids}
    commit_started = {pk: before_commit[note_by_public[obj]] for pk, obj in ids}
    ids = list(commit_at)

    last_sweep = [time.monotonic()]

    def all_delivered() -> bool:
        done = OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.DELIVERED).count()
        if done < len(ids) and killed and time.monotonic() - last_sweep[0] >= args.sweep_every:
            # What beat's sweeper does (every 60 s in production): republish
            # what has waited NOTIFICATIONS_SWEEP_AFTER_SECONDS undelivered.
            sweep(older_than=dt.timedelta(seconds=args.sweep_after))
            last_sweep[0] = time.monotonic()
        return done >= len(ids)

    if not wait_until(all_delivered, timeout=args.timeout, interval=1.0):
        failures.append("scenario: not every note was delivered in time")
    rows = OutboxMessage.objects.filter(pk__in=ids, delivered_at__isnull=False).values_list(
        "pk", "delivered_at"
    )
    latencies = [max(0.0, at.timestamp() - commit_at[pk]) for pk, at in rows]
    notifications = Notification.objects.filter(message_id__in=ids).count()
    last = max((at.timestamp() for _, at in rows), default=time.time())
    seconds = max(last - started, 1e-3)
    lost, duplicated = check_exactly_once(ids, expected, "scenario")
    # Nothing seen before commit, (1): the worker stamps each notification
    # (`created_at`) once it has read the committed message; a notification
    # stamped before its producer even issued COMMIT (same host clock) was
    # written from a message no reader should have seen yet.
    first_written = (
        Notification.objects.filter(message_id__in=ids)
        .values_list("message_id")
        .annotate(first=Min("created_at"))
    )
    early = sum(1 for pk, first in first_written if first.timestamp() < commit_started[pk])
    if early:
        failures.append(f"scenario: {early} messages had notifications before their commit")
    probes_run, probes_seen = probe_uncommitted(args, world, worker, failures)
    return {
        "notifications": notifications,
        "seconds": seconds,
        "rate": notifications / seconds,
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        "max": max(latencies, default=float("nan")),
        "lost": lost,
        "duplicated": duplicated,
        "early": early,
        "probes_run": probes_run,
        "probes_seen": probes_seen,
    }


class _RollBack(Exception):
    pass


def probe_uncommitted(args, world, worker, failures) -> tuple[int, int]:
    """Nothing seen before commit, (2): the worst case, a doorbell rung before
    the commit. Each probe adds a note in a transaction and, still inside it,
    publishes the message's task itself; it waits until the worker's log
    shows that task finished, checks (READ COMMITTED: the worker's commits
    are visible here) that no notification or delivery exists for the
    message, and rolls back. Afterwards, nothing of the probes may exist.
    Returns (probe tasks the worker ran while their message was uncommitted,
    probes with anything written)."""
    from django.db import transaction

    from cases import services
    from notifications.models import Delivery, Notification, OutboxMessage
    from notifications.tasks import deliver_message

    def finished(task_id: str) -> bool:
        return any(
            (m := LOG_LINE.match(line)) and m.group(3) == task_id and m.group(4) == "succeeded"
            for line in worker.log.read_text().splitlines()
        )

    run = seen = 0
    probe_ids = []
    for n in range(args.probes):
        try:
            with transaction.atomic():
                note = services.add_note(
                    actor=world["lead"], case=world["case"], body=f"Fan-out bench probe {n}"
                )
                message = OutboxMessage.objects.get(
                    event_type="note.added", object_id=note.public_id
                )
                probe_ids.append(message.pk)
                task_id = deliver_message.apply_async(args=[str(message.pk)]).id
                if wait_until(lambda t=task_id: finished(t), timeout=30, interval=0.1):
                    run += 1
                if (
                    Notification.objects.filter(message_id=message.pk).exists()
                    or Delivery.objects.filter(message_id=message.pk).exists()
                ):
                    seen += 1
                raise _RollBack
        except _RollBack:
            pass
    time.sleep(1)  # a late write would land now
    left = (
        OutboxMessage.objects.filter(pk__in=probe_ids).count()
        + Notification.objects.filter(message_id__in=probe_ids).count()
        + Delivery.objects.filter(message_id__in=probe_ids).count()
    )
    seen += left
    if seen:
        failures.append(f"probes: {seen} uncommitted messages had something written")
    if run < args.probes:
        failures.append(f"probes: the worker ran {run} of {args.probes} probe tasks")
    return run, seen


if __name__ == "__main__":
    sys.exit(main())
