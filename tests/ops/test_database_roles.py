"""The app's database role may append to the audit log and nothing more;
migrations run as the owner (docker-compose.yml's `migrate` service)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ops.roles import AUDIT_PRIVILEGES

from .conftest import COMPOSE, ROOT, compose_command

AUDIT_REWRITES = [
    f"{verb} {table}" for table in AUDIT_PRIVILEGES for verb in ("DELETE FROM", "TRUNCATE")
] + [
    "UPDATE audit_auditevent SET reason = 'rewritten'",
    "UPDATE audit_auditcheckpoint SET seq = 0",
]


def test_migrations_leave_every_table_to_the_owner_and_none_to_the_app_role(deployment):
    with deployment.connect(deployment.owner) as conn:
        owners = dict(
            conn.execute(
                "SELECT tableowner, count(*) FROM pg_tables WHERE schemaname = 'public' "
                "GROUP BY tableowner"
            ).fetchall()
        )
    assert set(owners) == {deployment.owner}
    assert owners[deployment.owner] > 40


@pytest.mark.parametrize("statement", AUDIT_REWRITES)
def test_the_app_role_may_not_rewrite_the_audit_log(deployment, seeded, statement):
    with deployment.connect(deployment.app) as conn:
        assert conn.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute(statement)


def test_the_app_role_appends_to_the_audit_log_through_the_services(deployment, seeded):
    """The seed ran the services as the app role: their events are chained."""
    done = deployment.manage(deployment.app, "verify_audit")
    assert done.returncode == 0, done.stderr
    with deployment.connect(deployment.app) as conn:
        actions = {row[0] for row in conn.execute("SELECT action FROM audit_auditevent")}
    assert {"create", "share"} <= actions


@pytest.mark.parametrize("who", ["owner", "superuser"])
def test_truncate_of_the_audit_log_is_refused_even_to_its_owner(deployment, who):
    role = deployment.owner if who == "owner" else deployment.superuser
    with deployment.connect(role) as conn:
        for table in AUDIT_PRIVILEGES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(f"TRUNCATE {table} CASCADE")
            conn.rollback()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310  # http://127.0.0.1
        with opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_web_serves_as_the_app_role_behind_the_proxy_without_a_redirect_loop(deployment):
    """The compose file's web command and settings, on a free port: ready on
    the app role's connection; a request the proxy marks HTTPS is served, a
    plain one is sent to HTTPS (once, not in a loop)."""
    port = _free_port()
    web = COMPOSE["services"]["web"]["environment"]
    env = deployment.env(
        deployment.app,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_FORWARDED_ALLOW_IPS=web["GUNICORN_FORWARDED_ALLOW_IPS"],
        TRUST_X_FORWARDED_PROTO=web["TRUST_X_FORWARDED_PROTO"],
        ALLOWED_HOSTS="127.0.0.1",
    )
    command = compose_command("web")
    command[0] = str(Path(sys.executable).parent / command[0])
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _headers, body = _get(f"{base}/readyz")
                break
            except OSError:
                assert server.poll() is None, "gunicorn exited"
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert status == 200 and json.loads(body)["checks"]["database"]["state"] == "ok"
        status, headers, _ = _get(f"{base}/api/v1/me/", **{"X-Forwarded-Proto": "https"})
        assert status == 401
        status, headers, _ = _get(f"{base}/api/v1/me/")
        assert status == 301 and headers["Location"].startswith("https://")
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- grant_app_role itself, in the test database ------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles are PostgreSQL's"
)


def _privileges(role: str, table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {
            p
            for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            if cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, p])
            and cursor.fetchone()[0]
        }


@postgres_only
def test_grant_app_role_takes_back_wider_grants_and_changes_nothing_when_run_again(db):
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute("CREATE ROLE cb_test_grant_app LOGIN")
        cursor.execute("GRANT ALL ON audit_auditevent, cases_case TO cb_test_grant_app")
    call_command("grant_app_role", "cb_test_grant_app")
    first = {t: _privileges("cb_test_grant_app", t) for t in (*AUDIT_PRIVILEGES, "cases_case")}
    call_command("grant_app_role", "cb_test_grant_app")
    again = {t: _privileges("cb_test_grant_app", t) for t in (*AUDIT_PRIVILEGES, "cases_case")}
    assert (
        first
        == again
        == {
            "audit_auditevent": {"SELECT", "INSERT"},
            "audit_auditcheckpoint": {"SELECT", "INSERT"},
            "audit_auditchainhead": {"SELECT", "INSERT", "UPDATE"},
            "cases_case": {"SELECT", "INSERT", "UPDATE", "DELETE"},
        }
    )


@postgres_only
def test_grant_app_role_refuses_a_role_that_owns_a_table(db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE cb_test_owning_app LOGIN")
        cursor.execute("CREATE TABLE cb_test_owned (id int)")
        cursor.execute("ALTER TABLE cb_test_owned OWNER TO cb_test_owning_app")
    with pytest.raises(CommandError, match="owns 1 relations"):
        call_command("grant_app_role", "cb_test_owning_app")


@postgres_only
def test_grant_app_role_refuses_the_role_running_it(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (me,) = cursor.fetchone()
    with pytest.raises(CommandError, match="Refusing to grant"):
        call_command("grant_app_role", me)
