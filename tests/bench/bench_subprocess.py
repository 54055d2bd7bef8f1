"""Run a benchmark command (`python -m bench.X`) against the test database.

Tests never import `bench/` (but for `bench/list_lines.py`, the table of list
lines, which has no setup): they run its commands as a user would, in a
subprocess, and read what the command prints or writes. What a command
writes is committed, so whoever runs one flushes the database afterwards
(`transactional_db`, or `generated_world` for a world shared by a module).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def bench_env() -> dict[str, str]:
    """A benchmark subprocess's environment: pytest-django's test database
    (its name is only switched in once the test database is set up) and the
    test settings' deconfliction key, so generated identifiers hash alike."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "DECONFLICTION_HMAC_KEY": "test-deconfliction-key",
    }
    env.pop("CELERY_BROKER_URL", None)  # the benchmarks that need one start their own
    return env


def run_bench(module: str, *args: str, timeout: int = 240) -> str:
    """Run `python -m <module> <args>`; its stdout, once it has exited 0."""
    result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return result.stdout


def generate(*, agencies: int, cases: int, users: int, batch: int = 20_000) -> dict[int, set[int]]:
    """`bench.generate` at this size: agency id -> the case ids the generator
    shared with it (its own record, independent of the app's selectors)."""
    with tempfile.TemporaryDirectory() as tmp:
        expected = Path(tmp) / "expected.json"
        run_bench(
            "bench.generate",
            *("--agencies", str(agencies), "--cases", str(cases), "--users", str(users)),
            *("--batch", str(batch), "--expected", str(expected)),
        )
        visible = json.loads(expected.read_text())
    return {int(agency): set(ids) for agency, ids in visible.items()}


@contextlib.contextmanager
def generated_world(django_db_blocker, **sizes: int) -> Iterator[dict[int, set[int]]]:
    """A generated data set for several tests (for a module-scoped fixture):
    committed once, each test's own writes rolled back as usual, and the
    database flushed afterwards as a transactional test's would be."""
    try:
        with django_db_blocker.unblock():
            world = generate(**sizes)
        yield world
    finally:
        with django_db_blocker.unblock():
            call_command("flush", verbosity=0, interactive=False)
