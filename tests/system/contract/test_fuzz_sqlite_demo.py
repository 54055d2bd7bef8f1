"""Schemathesis with every check on the SQLite demo (`make run`), as each
role of KR-KNP against `runserver`: a viewer's, an investigator's and a
coordinator's API client (tokens), and the agency administrator signed in
to the web admin with the demo password (they get no API token).

The suite runs on PostgreSQL; this catches what only the demo database
trips over (a lookup SQLite lacks, a "database is locked"). Most of its
time is building the demo once (migrate + load_demo); few examples per
operation. `SKIP_SQLITE_DEMO_FUZZ=1` skips it when CI's budget is short.
"""

from __future__ import annotations

import os
import subprocess  # nosec B404 (the project's own manage.py)
import sys
import time
import urllib.request

import pytest
import requests
from hypothesis import HealthCheck, given, settings

from tests.deploy.test_make_run import ROOT, _free_port, _manage

from .test_fuzz_every_role import (
    EXCLUDED_CHECKS,
    REAL_IDS,
    SCHEMA,
    errors_are_problem_details,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("SKIP_SQLITE_DEMO_FUZZ") == "1", reason="SKIP_SQLITE_DEMO_FUZZ=1"
)


TOKEN_ROLES = ("viewer", "investigator", "coordinator")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    database = tmp_path_factory.mktemp("demo") / "db.sqlite3"
    for command in (("migrate", "--no-input"), ("load_demo",)):
        result = _manage(database, *command)
        assert result.returncode == 0, result.stderr[-3000:]
    tokens = {}
    for role in TOKEN_ROLES:
        issued = _manage(database, "issue_api_token", "--agency", "KR-KNP", "--role", role,
                         "--name", f"fuzz {role}")  # fmt: skip
        assert issued.returncode == 0, issued.stderr[-2000:]
        tokens[role] = issued.stdout.strip().splitlines()[-1]
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1"}
    env["API_THROTTLE_RATE"] = ""
    env.pop("CELERY_BROKER_URL", None)
    server = subprocess.Popen(  # noqa: S603  # nosec B603 (fixed argv)
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310  # nosec B310
                break
            except OSError:
                time.sleep(0.2)
        yield base, tokens
    finally:
        server.terminate()
        server.wait(timeout=10)


def _admin_session(base: str) -> dict[str, str]:
    """KR-KNP's agency administrator, signed in through the login page."""
    from django.conf import settings as django_settings

    browser = requests.Session()
    login = f"{base}/admin/login/"
    browser.get(login, timeout=60)
    csrf = browser.cookies[django_settings.CSRF_COOKIE_NAME]
    answer = browser.post(
        login,
        data={
            "username": "kr-knp.agency_admin",
            "password": django_settings.DEMO_PASSWORD,
            "csrfmiddlewaretoken": csrf,
            "next": "/admin/",
        },
        headers={"Referer": login},
        timeout=60,
    )
    session = browser.cookies.get(django_settings.SESSION_COOKIE_NAME)
    assert answer.status_code == 200 and session, "the demo's agency admin could not sign in"
    csrf = browser.cookies[django_settings.CSRF_COOKIE_NAME]
    return {
        "Cookie": f"{django_settings.SESSION_COOKIE_NAME}={session}; "
        f"{django_settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
        "Connection": "close",
    }


@pytest.mark.parametrize("role", [*TOKEN_ROLES, "agency_admin"])
def test_the_sqlite_demo_gives_only_documented_answers(demo_server, role):
    base, tokens = demo_server
    if role == "agency_admin":
        headers = _admin_session(base)
    else:
        headers = {"Authorization": f"Bearer {tokens[role]}", "Connection": "close"}
    me = requests.get(f"{base}/api/v1/me/", headers=headers, timeout=60)
    assert me.status_code == 200, me.text  # signed in as the role, not fuzzing as a stranger
    cases = requests.get(f"{base}/api/v1/cases/", headers=headers, timeout=60).json()["results"]
    REAL_IDS.clear()
    REAL_IDS["cases"] = [case["id"] for case in cases[:8]]
    failures = []
    try:
        for result in SCHEMA.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @settings(
                max_examples=2,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def fuzz(case):
                case.call_and_validate(
                    base_url=base,
                    headers=headers,
                    additional_checks=[errors_are_problem_details],
                    excluded_checks=EXCLUDED_CHECKS,
                )

            try:
                fuzz()
            except Exception as exc:  # one report for all operations
                failures.append(f"{operation.label}: {exc}")
    finally:
        REAL_IDS.clear()
    assert not failures, "\n\n".join(failures)
