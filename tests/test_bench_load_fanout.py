"""The load and fan-out benchmarks run end to end at smoke size.

Not timed: they prove the benchmarks work (a real gunicorn, a real Celery
worker on a private redis-server, PostgreSQL) and that nothing is lost,
doubled or refused; the figures are taken by hand at full size
(bench/LOAD_FANOUT.md). Each benchmark runs as a subprocess against
pytest-django's test database, so what it seeds is flushed after it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from bench.fanout import drain_span

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bench_env(transactional_db):
    """The environment of a benchmark subprocess: pytest-django's test database
    (its name is only switched in once a test has database access), which
    transactional_db empties again after the test."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0"}
    env.pop("CELERY_BROKER_URL", None)  # each benchmark starts its own redis-server
    return env


def run_bench(module: str, *args: str, env: dict) -> str:
    result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return result.stdout


def test_fanout_delivers_every_event_and_scenario_note_exactly_once(bench_env):
    out = run_bench(
        "bench.fanout",
        *("--events", "100", "--agencies", "3", "--users", "12", "--updates", "3"),
        env=bench_env,
    )
    assert "OK: 0 lost, 0 duplicated" in out
    lines = {line[:44].strip(): line[44:].split() for line in out.splitlines()}
    assert lines["no-op Celery tasks"][0] == "100"
    assert lines["outbox events -> deliveries (1 recipient)"][0] == "100"
    assert lines["events: lost / duplicated"] == ["0", "0"]
    # 3 notes, each told to the 12 coordinators and the solo agency's one.
    assert lines["scenario: 12 users x 3 notes"][0] == "39"
    assert lines["scenario: lost / duplicated"] == ["0", "0"]
    assert "ratio deliveries/s / no-op tasks/s" in lines


def test_fanout_shows_nothing_before_commit_even_with_the_task_published_early(bench_env):
    out = run_bench(
        "bench.fanout",
        *("--events", "20", "--agencies", "2", "--users", "4", "--updates", "2", "--probes", "2"),
        env=bench_env,
    )
    assert "0 seen before commit" in out
    lines = {line[:44].strip(): line[44:].split() for line in out.splitlines()}
    # 2 notes to the 4 coordinators and the solo agency's one, none written early.
    assert lines["notifications written before their commit"] == ["10", "0"]
    # The worker ran both early-published tasks while their message was
    # uncommitted, and nothing was written for them.
    assert lines["uncommitted probes run by the worker / seen"] == ["2", "0"]


def test_load_serves_mixed_list_and_trivial_requests_without_errors(bench_env):
    out = run_bench("bench.load", "--duration", "3", "--cases", "30", env=bench_env)
    assert "OK: 0 errors" in out
    rows = {line[:28].strip(): line[28:].split() for line in out.splitlines()}
    for label in ("mixed 80/20", "list", "detail", "note", "task", "list only", "ping"):
        requests, errors = int(rows[label][0].replace(",", "")), int(rows[label][-1])
        assert requests > 0, label
        assert errors == 0, label
    assert "ratio list req/s / ping req/s" in out


def test_drain_span_times_one_task_name_from_first_received_to_last_succeeded(tmp_path):
    log = tmp_path / "worker.log"
    log.write_text(
        "[2026-01-01 10:00:00,000: INFO/MainProcess] Task bench.noop[aa-1] received\n"
        "[2026-01-01 10:00:00,500: INFO/MainProcess] Task other.task[bb-1] received\n"
        "[2026-01-01 10:00:01,250: INFO/ForkPoolWorker-1] Task bench.noop[aa-1] succeeded "
        "in 0.001s: None\n"
        "[2026-01-01 10:00:09,000: INFO/ForkPoolWorker-2] Task other.task[bb-1] succeeded "
        "in 0.001s: None\n"
    )
    assert drain_span(log, "bench.noop", 1) == (1, 1.25)
