"""Benchmark: the API under load, gunicorn on this machine, 32 concurrent clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench .venv/bin/python -m bench.load
    ... --duration 3                 # the CI smoke size

Seeds (once) one agency with `--cases` cases, a task on each, and a fresh
coordinator API token per run; starts gunicorn (`config.wsgi`, DEBUG off,
`--workers` x `--threads` gthread) on a free port with the bench-only
settings `bench.load_settings` (the app's, plus `/bench/ping/`, a trivial
view behind the same authentication) and API throttling switched off
(API_THROTTLE_RATE=""); a private redis-server is the Celery broker, so a
note's outbox event is published, not delivered in the request.

Three phases of `--duration` seconds each, `--clients` connections each:
  mixed: 40 % GET /api/v1/cases/?page_size=50, 40 % GET a case,
         10 % POST /api/v1/notes/ (with Idempotency-Key), 10 % PATCH a task;
  list:  GET /api/v1/cases/?page_size=50 only;
  ping:  GET /bench/ping/ only.
Prints requests/s, p50/p95/p99 and errors (anything but 2xx, or a failed
connection) per phase and per kind, and the list/ping throughput ratio.

The load generator is built in (threads, keep-alive HTTP/1.1) and shares
the two cores with the server, which costs the server CPU; `--client wrk`
uses wrk (with a Lua script) when it is installed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import (
    ROOT,
    PrivateRedis,
    bench_environment,
    ensure_database,
    free_port,
    pct,
    wait_until,
)

AGENCY = "LOAD-A"
MIX = (("list", 40), ("detail", 40), ("note", 10), ("task", 10))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per phase")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--client", choices=["python", "wrk"], default="python")
    parser.add_argument("--seed", type=int, default=10)
    return parser.parse_args(argv)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        for kind, n in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + n
        self.samples += other.samples[: max(0, 5 - len(self.samples))]


def seed(n_cases: int) -> dict:
    """One agency, its coordinator, `n_cases` cases with a task each; a new token."""
    from agencies.models import Agency, Membership
    from agencies.services import create_agency, create_member
    from agencies.tokens import issue_api_token
    from cases import services
    from cases.models import Case, Task
    from gate.roles import Role

    agency = Agency.objects.filter(code=AGENCY).first() or create_agency(
        code=AGENCY, name="Load bench agency", country="KH", kind="police", timezone="UTC"
    )
    membership = Membership.objects.filter(
        agency=agency, role=Role.COORDINATOR, is_service_account=False
    ).first() or create_member(username="load.coordinator", agency=agency, role=Role.COORDINATOR)
    actor = membership.user
    have = Case.objects.filter(lead_agency=agency).count()
    for n in range(have, n_cases):
        case = services.create_case(actor=actor, title=f"Load bench case {n}")
        services.create_task(actor=actor, case=case, title=f"Task {n}", assigned_agency=agency)
        if n % 50 == 49:
            print(f"\r  seeded {n + 1}/{n_cases} cases", end="", flush=True)
    if have < n_cases:
        print()
    _, token = issue_api_token(agency=agency, role=Role.COORDINATOR, name=f"load {uuid.uuid4()}")
    cases = [
        str(c) for c in Case.objects.filter(lead_agency=agency).values_list("public_id", flat=True)
    ]
    tasks = [
        str(t)
        for t in Task.objects.filter(case__lead_agency=agency).values_list("public_id", flat=True)
    ]
    return {"token": token, "cases": cases, "tasks": tasks}


class Gunicorn:
    def __init__(self, *, port: int, workers: int, threads: int, env: dict, log: Path):
        self.port, self.log = port, log
        self.argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--timeout",
            "60",
        ]
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            self.argv, cwd=ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT
        )

        def healthy() -> bool:
            if self.process.poll() is not None:
                return True
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            except OSError:
                return False

        if not wait_until(healthy, timeout=60, interval=0.3) or self.process.poll() is not None:
            raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def request_for(kind: str, world: dict, rng: random.Random) -> tuple[str, str, bytes | None, dict]:
    headers = {"Authorization": f"Bearer {world['token']}", "Accept": "application/json"}
    if kind == "list":
        return "GET", "/api/v1/cases/?page_size=50", None, headers
    if kind == "ping":
        return "GET", "/bench/ping/", None, headers
    if kind == "detail":
        return "GET", f"/api/v1/cases/{rng.choice(world['cases'])}/", None, headers
    headers["Content-Type"] = "application/json"
    if kind == "note":
        headers["Idempotency-Key"] = str(uuid.uuid4())
        body = {"case": rng.choice(world["cases"]), "body": "Load bench note."}
        return "POST", "/api/v1/notes/", json.dumps(body).encode(), headers
    body = {"description": f"load bench {rng.randrange(10**9)}"}
    # If-Match is required on writes; `*`: the bench measures throughput,
    # not lost-update conflicts (tests/config/api/test_concurrent_etag.py does).
    headers["If-Match"] = "*"
    return (
        "PATCH",
        f"/api/v1/tasks/{rng.choice(world['tasks'])}/",
        json.dumps(body).encode(),
        headers,
    )


def python_phase(port: int, world: dict, mix, clients: int, duration: float, seed: int) -> Tally:
    kinds = [k for k, _ in mix]
    weights = [w for _, w in mix]
    tallies = [Tally() for _ in range(clients)]
    start = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        tally = tallies[i]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            method, path, body, headers = request_for(kind, world, rng)
            began = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                ok = 200 <= response.status < 300
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                ok, payload = False, repr(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                response = None
            elapsed = (time.perf_counter() - began) * 1000
            tally.latencies.setdefault(kind, []).append(elapsed)
            if not ok:
                tally.errors[kind] = tally.errors.get(kind, 0) + 1
                if len(tally.samples) < 3:
                    status = response.status if response is not None else "-"
                    tally.samples.append(f"{method} {path} -> {status} {payload[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    for t in threads:
        t.join(duration + 60)
    total = Tally()
    for t in tallies:
        total.add(t)
    return total


WRK_SCRIPT = """
local token = "%(token)s"
local cases = {%(cases)s}
local tasks = {%(tasks)s}
local mix = {%(mix)s}
math.randomseed(%(seed)d)
local counter = 0
request = function()
  counter = counter + 1
  local kind = mix[math.random(#mix)]
  local h = {["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json"}
  if kind == "list" then return wrk.format("GET", "/api/v1/cases/?page_size=50", h) end
  if kind == "ping" then return wrk.format("GET", "/bench/ping/", h) end
  if kind == "detail" then
    return wrk.format("GET", "/api/v1/cases/" .. cases[math.random(#cases)] .. "/", h)
  end
  h["Content-Type"] = "application/json"
  if kind == "note" then
    h["Idempotency-Key"] = string.format("%%d-%%d-%%d", os.time(), math.random(1e9), counter)
    local body = '{"case": "' .. cases[math.random(#cases)] .. '", "body": "Load bench note."}'
    return wrk.format("POST", "/api/v1/notes/", h, body)
  end
  local body = '{"description": "load bench ' .. math.random(1e9) .. '"}'
  h["If-Match"] = "*"
  return wrk.format("PATCH", "/api/v1/tasks/" .. tasks[math.random(#tasks)] .. "/", h, body)
end
local errors = 0
response = function(status, headers, body)
  if status < 200 or status >= 300 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("WRK %%d %%d %%d %%d %%.3f %%.3f %%.3f\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def wrk_phase(port, world, mix, clients, duration, seed, tmp: Path) -> dict:
    """wrk reports one latency distribution per phase (not per kind)."""
    script = tmp / f"wrk-{seed}.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "token": world["token"],
            "cases": ",".join(f'"{c}"' for c in world["cases"]),
            "tasks": ",".join(f'"{t}"' for t in world["tasks"]),
            "mix": ",".join(f'"{k}"' for k, w in mix for _ in range(w // 10 or 1)),
            "seed": seed,
        }
    )
    out = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [
            shutil.which("wrk"),
            "-t",
            "2",
            "-c",
            str(clients),
            "-d",
            f"{int(duration)}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    requests, socket_errors, status_errors, micros, p50, p95, p99 = line.split()[1:]
    return {
        "requests": int(requests),
        "errors": int(socket_errors) + int(status_errors),
        "seconds": int(micros) / 1e6,
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
    }


def row(label: str, latencies: list[float], errors: int, seconds: float) -> dict:
    return {
        "label": label,
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        "p99": pct(latencies, 99),
        "errors": errors,
    }


def print_table(rows: list[dict]) -> None:
    print(
        f"{'':28} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7}"
    )
    for r in rows:
        print(
            f"{r['label']:28} {r['requests']:9,} {r['rps']:8.1f} {r['p50']:8.1f} "
            f"{r['p95']:8.1f} {r['p99']:8.1f} {r['errors']:7}"
        )


def main(argv=None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the worker, gunicorn and redis we started stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench_environment()
    ensure_database(os.environ["DATABASE_URL"])
    if args.client == "wrk" and shutil.which("wrk") is None:
        print("wrk is not installed: use --client python (the default)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="cb-load-"))
    redis = PrivateRedis(tmp).start()
    os.environ["CELERY_BROKER_URL"] = redis.url
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-load-{uuid.uuid4().hex[:8]}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    world = seed(args.cases)
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.load_settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback, no TLS proxy in front
        "API_THROTTLE_RATE": "",
        "API_ANON_THROTTLE_RATE": "",
    }
    server = Gunicorn(
        port=port, workers=args.workers, threads=args.threads, env=env, log=tmp / "gunicorn.log"
    )
    server.start()
    rows, failures, samples = [], [], []
    try:
        phases = [("mixed 80/20", MIX), ("list only", (("list", 1),)), ("ping", (("ping", 1),))]
        # Warm every worker's connections and caches; not measured.
        python_phase(port, world, MIX, args.clients, min(2.0, args.duration), args.seed + 99)
        for n, (label, mix) in enumerate(phases):
            if args.client == "wrk":
                r = wrk_phase(port, world, mix, args.clients, args.duration, args.seed + n, tmp)
                rows.append(
                    {
                        "label": label,
                        "requests": r["requests"],
                        "rps": r["requests"] / r["seconds"],
                        **{p: r[p] for p in ("p50", "p95", "p99", "errors")},
                    }
                )
                continue
            tally = python_phase(port, world, mix, args.clients, args.duration, args.seed + n)
            everything = [x for values in tally.latencies.values() for x in values]
            rows.append(row(label, everything, sum(tally.errors.values()), args.duration))
            samples += tally.samples
            if len(mix) > 1:
                for kind, _ in mix:
                    rows.append(
                        row(
                            f"  {kind}",
                            tally.latencies.get(kind, []),
                            tally.errors.get(kind, 0),
                            args.duration,
                        )
                    )
    finally:
        server.stop()
        redis.stop()

    errors = sum(r["errors"] for r in rows if not r["label"].startswith("  "))
    by_label = {r["label"]: r for r in rows}
    ratio = by_label["list only"]["rps"] / by_label["ping"]["rps"]
    print(
        f"\ngunicorn gthread {args.workers} workers x {args.threads} threads, DEBUG off, "
        f"throttling off; {args.clients} clients ({args.client}), {args.duration:g} s per phase; "
        f"{len(world['cases'])} cases; {os.cpu_count()} CPUs shared with the load generator\n"
    )
    print_table(rows)
    print(f"\n{'ratio list req/s / ping req/s':28} {ratio:9.2f}x")
    mixed = by_label["mixed 80/20"]
    print(
        f"{'targets (mixed)':28} req/s >= 400: {'yes' if mixed['rps'] >= 400 else 'NO'}; "
        f"p99 <= 150 ms: {'yes' if mixed['p99'] <= 150 else 'NO'}; "
        f"list/ping >= 0.5: {'yes' if ratio >= 0.5 else 'NO'}"
    )
    for sample in samples[:5]:
        print("  error sample:", sample)
    if errors:
        failures.append(f"{errors} errors")
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    print("\nOK: 0 errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
