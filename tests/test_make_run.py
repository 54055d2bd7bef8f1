"""`make run` on a fresh machine: migrations and demo data on a new SQLite file.

The suite itself runs on PostgreSQL, so nothing else here would notice a
migration that only SQLite trips over (cases 0009 once did: a table rebuild
under the list-order triggers).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(database: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1"}
    env.pop("CELERY_BROKER_URL", None)  # tasks in-process, as `make run` without a broker
    return subprocess.run(  # noqa: S603  # fixed argv
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_fresh_sqlite_database_migrates_and_takes_the_demo_data(tmp_path):
    database = tmp_path / "db.sqlite3"

    migrate = _manage(database, "migrate", "--no-input")
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    demo = _manage(database, "load_demo")
    assert demo.returncode == 0, demo.stderr[-3000:]

    with sqlite3.connect(database) as db:
        triggers = {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        unordered = db.execute(
            "SELECT COUNT(*) FROM cases_caseparticipation WHERE case_updated_at IS NULL"
        ).fetchone()[0]
        participations = db.execute("SELECT COUNT(*) FROM cases_caseparticipation").fetchone()[0]
    assert "cases_participation_copy_case_ins" in triggers
    assert participations > 0
    assert unordered == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_sqlite_demo_holds_under_eight_parallel_clients(tmp_path):
    """Each 404 writes an audit refusal row: parallel writers once got "database
    is locked" (500s). 8 clients x 20 requests, reads and refusals mixed."""
    database = tmp_path / "db.sqlite3"
    assert _manage(database, "migrate", "--no-input").returncode == 0
    assert _manage(database, "load_demo").returncode == 0
    issued = _manage(database, "issue_api_token", "--agency", "KR-KNP", "--role", "coordinator",
                     "--name", "load")  # fmt: skip
    assert issued.returncode == 0, issued.stderr[-2000:]
    token = issued.stdout.strip().splitlines()[-1]
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1"}
    env.pop("CELERY_BROKER_URL", None)
    server = subprocess.Popen(  # noqa: S603  # fixed argv
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)

        def fetch(path: str) -> tuple[int, bytes]:
            request = urllib.request.Request(  # noqa: S310  # loopback only
                base + path, headers={"Authorization": f"Bearer {token}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                    return response.status, response.read()
            except urllib.error.HTTPError as error:
                return error.code, b""
            except TimeoutError:
                return 0, b""

        def get(path: str) -> int:
            return fetch(path)[0]

        # The README's own example, which once answered 500 on SQLite.
        search = "/api/v1/cases/?q=compound&crime_type=investment_fraud"
        status, body = fetch(search)
        assert status == 200
        assert "Sihanoukville compound" in body.decode()
        paths = [
            f"/api/v1/cases/{uuid.uuid4()}/" if i % 2 else "/api/v1/cases/" for i in range(160)
        ]
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = Counter(pool.map(get, paths))
    finally:
        server.terminate()
        server.wait(timeout=10)
    errors = server.stderr.read().decode(errors="replace")[-3000:] if server.stderr else ""
    assert statuses == Counter({200: 80, 404: 80}), (statuses, errors)
