"""`make run` on a fresh machine: migrations and demo data on a new SQLite file,
served, used by parallel clients and by the README's partner quick start.

The suite itself runs on PostgreSQL, so nothing else here would notice a
migration that only SQLite trips over (cases 0009 once did: a table rebuild
under the list-order triggers). One demo database and one server serve the
whole module: migrating and loading the demo is most of its time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory) -> Path:
    database = tmp_path_factory.mktemp("demo") / "db.sqlite3"
    migrate = _manage(database, "migrate", "--no-input")
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    demo = _manage(database, "load_demo")
    assert demo.returncode == 0, demo.stderr[-3000:]
    return database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo_server(demo_database, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """`runserver` on the demo database: its base URL and its log file."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "stderr.log"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{demo_database}", "DEBUG": "1"}
    env.pop("CELERY_BROKER_URL", None)
    with log.open("w") as stderr:
        server = subprocess.Popen(  # noqa: S603  # fixed argv
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        yield base, log
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_fresh_sqlite_database_migrates_and_takes_the_demo_data(demo_database):
    with sqlite3.connect(demo_database) as db:
        triggers = {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        unordered = db.execute(
            "SELECT COUNT(*) FROM cases_casegroupobjectpermission WHERE list_updated_at IS NULL"
        ).fetchone()[0]
        grants = db.execute("SELECT COUNT(*) FROM cases_casegroupobjectpermission").fetchone()[0]
    assert {"cases_grant_position", "cases_case_moves_grants"} <= triggers
    assert grants > 0
    assert unordered == 0


def test_the_sqlite_demo_holds_under_eight_parallel_clients(demo_database, demo_server):
    """Each 404 writes an audit refusal row: parallel writers once got "database
    is locked" (500s). 8 clients x 200 requests (issue 22), reads and refusals mixed."""
    base, log = demo_server
    tokens = []
    for client in range(8):  # 8 partner systems, each under its own rate limit
        issued = _manage(demo_database, "issue_api_token", "--agency", "KR-KNP", "--role",
                         "coordinator", "--name", f"load {client}")  # fmt: skip
        assert issued.returncode == 0, issued.stderr[-2000:]
        tokens.append(issued.stdout.strip())

    def fetch(path: str, token: str = tokens[0]) -> tuple[int, bytes]:
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

    def client(token: str) -> Counter:
        paths = (
            f"/api/v1/cases/{uuid.uuid4()}/" if i % 2 else "/api/v1/cases/" for i in range(200)
        )
        return Counter(fetch(path, token)[0] for path in paths)

    # The README's own example, which once answered 500 on SQLite.
    search = "/api/v1/cases/?q=compound&crime_type=investment_fraud"
    status, body = fetch(search)
    assert status == 200
    assert "Sihanoukville compound" in body.decode()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sum(pool.map(client, tokens), Counter())
    assert statuses == Counter({200: 800, 404: 800}), (statuses, log.read_text()[-3000:])


# --- the README's partner quick start, copy-pasted -----------------------------------


def _quick_start_script(port: int) -> tuple[str, list[str]]:
    """The shell blocks of the README's partner section, as a partner pastes
    them (pointed at this server's port), and the answers the README shows in
    its `# {…}` comments."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Partner systems: the first five minutes", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    script = "\n".join(blocks).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    shown = [
        re.sub(r"\s+\(.*\)$", "", line.lstrip("# ").rstrip())
        for line in script.splitlines()
        if re.match(r"^# [\[{]", line)
    ]
    return script, shown


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
def test_the_readme_quick_start_runs_as_written_in_a_fresh_shell(
    demo_database, demo_server, tmp_path
):
    base, log = demo_server
    port = int(base.rsplit(":", 1)[1])
    script, shown = _quick_start_script(port)
    assert "make token AGENCY=KR-KNP ROLE=coordinator" in script
    # A fresh shell: no virtualenv, no Django settings, only the demo
    # database's address (`make run`'s default is db.sqlite3 in the checkout).
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{demo_database}",
    }
    # The partner's evidence file that step 6 sends (a small real ZIP).
    evidence = ROOT / "seized-phone.zip"
    with zipfile.ZipFile(evidence, "w") as archive:
        archive.writestr("phone/sms.db", b"\x00" * 200_000)
    try:
        run = subprocess.run(  # noqa: S603  # fixed argv, the README's own commands
            ["bash", "-e", "-o", "pipefail", "-c", script],  # noqa: S607
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        evidence.unlink()
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-3000:], log.read_text()[-2000:])
    lines = run.stdout.splitlines()
    # Every answer the README shows is what the commands print.
    assert shown and all(answer in lines for answer in shown), (shown, run.stdout)
    # The two bare numbers: the text search's hits (none would hide a 500
    # behind jq) and the edited case's version.
    hits, version = [int(line) for line in lines if line.isdigit()]
    assert hits >= 1 and version == 2
    # The case it opened comes through the sync walk.
    case_id = next(line for line in lines if re.fullmatch(r"[0-9a-f-]{36}", line))
    synced = [json.loads(line) for line in lines if line.startswith('{"id":')]
    assert case_id in {row["id"] for row in synced}


def test_the_demos_grants_carry_their_cases_filter_values_and_follow_a_change(
    demo_database, tmp_path
):
    """SQLite's triggers (migration 0026) keep the list's filter copies as
    PostgreSQL's do: on every grant the demo wrote, and after a change (made
    on a copy: the module's other tests share the demo)."""
    copy = tmp_path / "db.sqlite3"
    shutil.copy(demo_database, copy)
    query = """
        SELECT COUNT(*) FROM cases_casegroupobjectpermission g
        JOIN cases_case c ON c.id = g.content_object_id
        WHERE g.list_status IS NOT c.status OR g.list_handling_code IS NOT c.handling_code
           OR g.list_lead_agency_id IS NOT c.lead_agency_id
           OR g.list_crime_types IS NOT c.crime_types OR g.list_created_at IS NOT c.created_at
           OR g.list_case_updated_at IS NOT c.updated_at
    """
    with closing(sqlite3.connect(copy)) as connection:
        grants = connection.execute("SELECT COUNT(*) FROM cases_casegroupobjectpermission")
        assert grants.fetchone()[0] > 0
        assert connection.execute(query).fetchone()[0] == 0
        with connection:
            connection.execute(
                "UPDATE cases_case SET status = 'suspended', handling_code = 'RED',"
                " crime_types = '[\"other\"]', created_at = '2020-01-02 03:04:05',"
                " updated_at = '2020-02-03 04:05:06'"
            )
        assert connection.execute(query).fetchone()[0] == 0
        statuses = connection.execute(
            "SELECT DISTINCT list_status, list_handling_code, list_crime_types, list_created_at,"
            " list_case_updated_at FROM cases_casegroupobjectpermission"
        ).fetchall()
    assert statuses == [
        ("suspended", "RED", '["other"]', "2020-01-02 03:04:05", "2020-02-03 04:05:06")
    ]
