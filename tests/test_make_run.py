"""`make run` on a fresh machine: migrations and demo data on a new SQLite file.

The suite itself runs on PostgreSQL, so nothing else here would notice a
migration that only SQLite trips over (cases 0009 once did: a table rebuild
under the list-order triggers).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
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
