"""The production commands as docker-compose.yml runs them, through a Redis outage.

gunicorn (the web service's command and environment, read from
docker-compose.yml) behind the proxy (deploy/nginx.conf as shipped, TLS
included: tests/proxy.py), a Celery worker and beat (theirs, each under a
supervisor as compose's `restart: unless-stopped`), with `DEBUG` off and the
HTTPS redirect on, against a PostgreSQL database this test creates and
migrates (as the superuser: the roles are tested elsewhere) and a private
redis-server as broker and cache. A partner system's flow runs over HTTPS
through the proxy with a bearer token; Redis is killed (SIGKILL: nothing
saved) while the partner keeps working; no answer may be a 500, `/readyz`
must name what is down and why; Redis comes back and every notification is
delivered exactly once, without anybody sweeping by hand. The database is
dropped at the end.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
import yaml
from django.conf import settings

from tests.notifications.harness import ROOT, RedisBroker, Worker, free_port, wait_until
from tests.proxy import require_nginx, running_proxy

HOST = "casebridge.test"
SEED = """
import json
from gate.roles import Role
from agencies.tokens import issue_api_token
from tests.factories import make_agency, make_user
knp, ccos = make_agency("KR-KNP"), make_agency("KH-CCOS")
receivers = [make_user(ccos, Role.COORDINATOR), make_user(ccos, Role.INVESTIGATOR)]
_, token = issue_api_token(agency=knp, role=Role.COORDINATOR, name="KNP case system")
print(json.dumps({"token": token}))
"""


COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
# Where the services are: containers' addresses there, this machine's here.
ADDRESSES = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "MEDIA_ROOT")


def compose_command(service: str) -> list[str]:
    """The service's command from docker-compose.yml, run from this checkout."""
    argv = list(COMPOSE["services"][service]["command"])
    program = {"python": [sys.executable]}.get(argv[0], [sys.executable, "-m", argv[0]])
    return program + argv[1:]


def compose_environment(service: str) -> dict[str, str]:
    """The service's environment from docker-compose.yml (anchors merged),
    without the addresses that differ on this machine."""
    environment = COMPOSE["services"][service]["environment"]
    return {name: str(value) for name, value in environment.items() if name not in ADDRESSES}


def replace_option(argv: list[str], option: str, value: str) -> list[str]:
    if option in argv:
        argv = list(argv)
        argv[argv.index(option) + 1] = value
        return argv
    return [*argv, option, value]


def psql(dbname: str, sql: str, *params) -> list[tuple]:
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=dbname,
        autocommit=True,
    ) as conn:
        cursor = conn.execute(sql, params or None)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    require_nginx()  # before creating anything: it may skip
    tmp = tmp_path_factory.mktemp("production")
    db = settings.DATABASES["default"]
    name = f"cb_production_shape_{uuid.uuid4().hex[:8]}"
    psql("postgres", f'CREATE DATABASE "{name}"')
    redis = RedisBroker(tmp)
    redis.start()
    port = free_port()
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp),
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
        ),
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
        "CACHE_URL": f"redis://127.0.0.1:{redis.port}/1",
        "DEBUG": "false",
        "SECRET_KEY": "production-shape-test-" + uuid.uuid4().hex,
        "AUDIT_HMAC_KEY": "production-shape-audit-key",
        "DECONFLICTION_HMAC_KEY": "production-shape-deconfliction-key",
        "ALLOWED_HOSTS": HOST,
        "CASEBRIDGE_BASE_URL": f"https://{HOST}",
        "MEDIA_ROOT": str(tmp / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp / "mail"),
        "BEAT_HEARTBEAT_FILE": str(tmp / "beat-heartbeat"),
    }
    if db["PASSWORD"]:
        env["DATABASE_URL"] = env["DATABASE_URL"].replace("@", f":{db['PASSWORD']}@", 1)
    # The web service's own settings from the compose file: the proxy's
    # headers trusted, gunicorn's heartbeat in memory, and so on.
    web_env = {**env, **compose_environment("web")}
    assert web_env["TRUST_X_FORWARDED_PROTO"] == "true"
    assert "SECURE_SSL_REDIRECT" not in web_env  # on, as DEBUG is off
    processes: list[Worker] = []
    web = None
    try:
        web_log = (tmp / "web.log").open("w")
        web = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            replace_option(compose_command("web"), "--bind", f"127.0.0.1:{port}"),
            cwd=ROOT,
            env=web_env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
        )
        worker = Worker(env=env, log=tmp / "worker.log", argv=compose_command("worker"))
        beat_argv = replace_option(
            compose_command("beat"), "--schedule", str(tmp / "celerybeat-schedule")
        )
        beat = Worker(env=env, log=tmp / "beat.log", argv=beat_argv, ready="beat: Starting")
        processes += [worker, beat]
        # The services start while the database is migrated (none of them
        # touches it before its first task or request), then seeded.
        with ThreadPoolExecutor() as pool:
            started = [pool.submit(worker.start), pool.submit(beat.start)]
            # The migrate service's first step (the rest grants database roles).
            migrate = run([sys.executable, "manage.py", "migrate", "--no-input"], env)
            assert migrate.returncode == 0, migrate.stderr[-3000:]
            seed = run([sys.executable, "manage.py", "shell", "-c", SEED], env)
            for future in started:
                future.result()
        assert seed.returncode == 0, seed.stderr[-3000:]
        token = json.loads(seed.stdout.strip().splitlines()[-1])["token"]
        with running_proxy(port, tmp / "proxy.log", host=HOST) as proxy:
            assert wait_until(
                lambda: _answers(f"{proxy.base}/healthz", str(proxy.cafile)), timeout=30
            ), (tmp / "web.log").read_text()[-3000:] + proxy.tail()
            yield {
                "base": proxy.base,
                "cafile": str(proxy.cafile),
                "proxy": proxy,
                "web": f"http://127.0.0.1:{port}",
                "token": token,
                "db": name,
                "redis": redis,
                "worker": worker,
                "tmp": tmp,
            }
    finally:
        if web is not None:
            web.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        with ThreadPoolExecutor() as pool:
            list(pool.map(lambda process: process.stop(signal.SIGQUIT), processes))
        if web is not None:
            web.wait(timeout=30)
        redis.stop()
        psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (fixed argv, no shell)
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _answers(url: str, cafile: str) -> bool:
    try:
        return requests.get(url, timeout=2, verify=cafile).status_code == 200
    except requests.RequestException:
        return False


class Partner:
    """A partner system calling over HTTPS through the proxy: every answer is kept."""

    def __init__(self, base: str, token: str, cafile: str):
        self.base = base
        self.session = requests.Session()
        # The proxy's certificate and no other (REQUESTS_CA_BUNDLE in the
        # environment would override a session's `verify`).
        self.session.trust_env = False
        self.session.verify = cafile
        self.session.headers.update({"Authorization": f"Bearer {token}", "Host": HOST})
        self.answers: list[tuple[str, str, int]] = []

    def call(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        response = self.session.request(
            method, self.base + path, json=body, timeout=30, allow_redirects=False
        )
        self.answers.append((method, path, response.status_code))
        return response

    def work_on(self, case_id: str, n: int) -> None:
        """What a partner does all day: read, write a note, assign a task."""
        assert self.call("GET", "/api/v1/me/").status_code == 200
        assert self.call("GET", "/api/v1/cases/").status_code == 200
        note = {"case": case_id, "body": f"Wallet trace {n}: funds moved to exchange."}
        assert self.call("POST", "/api/v1/notes/", note).status_code == 201
        task = {"case": case_id, "title": f"Freeze request {n}", "assigned_agency": "KH-CCOS"}
        assert self.call("POST", "/api/v1/tasks/", task).status_code == 201


def undelivered(db: str) -> list[tuple]:
    return psql(
        db,
        "SELECT id, event_type, status FROM notifications_outboxmessage "
        "WHERE status <> 'delivered' ORDER BY created_at",
    )


def test_plain_http_at_the_proxy_is_sent_to_https(deployment):
    proxy = deployment["proxy"]
    answer = requests.get(
        f"http://127.0.0.1:{proxy.http_port}/api/v1/me/",
        headers={"Host": HOST},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 301
    assert answer.headers["Location"] == f"https://{HOST}/api/v1/me/"


def test_the_app_redirects_a_request_that_did_not_come_through_the_proxy(deployment):
    """The HTTPS redirect is on: the partner's answers through the proxy (next
    test) are not redirected only because the proxy says the request was HTTPS."""
    answer = requests.get(
        deployment["web"] + "/api/v1/me/",
        headers={"Host": HOST, "Authorization": f"Bearer {deployment['token']}"},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 301
    assert answer.headers["Location"] == f"https://{HOST}/api/v1/me/"


def test_through_the_proxy_a_partner_is_answered_over_https(deployment):
    partner = Partner(deployment["base"], deployment["token"], deployment["cafile"])
    me = partner.call("GET", "/api/v1/me/")
    assert me.status_code == 200, (me.status_code, me.headers.get("Location"))


def test_partner_flow_through_a_redis_outage_serves_every_call_and_delivers_once(deployment):
    partner = Partner(deployment["base"], deployment["token"], deployment["cafile"])
    db, redis = deployment["db"], deployment["redis"]

    case = partner.call("POST", "/api/v1/cases/", {"title": "Compound fraud, Bavet"})
    assert case.status_code == 201, case.text[:500]
    case_id = case.json()["id"]
    share = partner.call(
        "POST",
        f"/api/v1/cases/{case_id}/participants/",
        {"agency": "KH-CCOS", "level": "contribute"},
    )
    assert share.status_code == 201, share.text[:500]
    partner.work_on(case_id, 1)
    assert wait_until(lambda: not undelivered(db), timeout=30), undelivered(db)

    redis.kill()
    for n in range(2, 5):
        partner.work_on(case_id, n)
    ready = partner.session.get(deployment["base"] + "/readyz", timeout=10)
    assert ready.status_code == 200  # degraded, still serving: the database is up
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == {"state": "ok"}
    refused = {"state": "error", "reason": "connection refused (ConnectionRefusedError)"}
    assert body["checks"]["cache"] == refused
    assert body["checks"]["broker"] == refused
    waiting = undelivered(db)
    assert len(waiting) == 6 and {status for _, _, status in waiting} == {"pending"}

    redis.start()
    back = time.monotonic()
    assert wait_until(lambda: not undelivered(db), timeout=30), (
        f"{undelivered(db)}\n{deployment['worker'].tail()}"
    )
    print(f"outbox drained {time.monotonic() - back:.1f} s after Redis returned")
    assert not [a for a in partner.answers if a[2] >= 500], partner.answers
    assert partner.session.get(deployment["base"] + "/readyz", timeout=10).json()["status"] == "ok"

    time.sleep(2)  # a late duplicate would show now
    told = psql(
        db,
        "SELECT m.event_type, count(n.id), count(DISTINCT n.recipient_id) "
        "FROM notifications_outboxmessage m "
        "LEFT JOIN notifications_notification n ON n.message_id = m.id "
        "GROUP BY m.id, m.event_type",
    )
    # Every message told its KH-CCOS audience once: the coordinator of the
    # share, both users of each note and task; the case's creation tells nobody.
    assert len(told) == 9
    assert all(total == distinct for _, total, distinct in told), told
    assert {(event, total) for event, total, _ in told} == {
        ("case.shared", 1),
        ("note.added", 2),
        ("task.assigned", 2),
    }
