"""docker-compose.yml cannot be run here (no Docker engine), so it is checked
by reading: valid against the Compose Specification's JSON schema (vendored in
deploy/compose-spec.json from compose-spec/compose-spec, schema/compose-spec.json,
Apache-2.0), each command names a real entry point, and the production rules
hold: roles, pins, env_file, health checks, limits, proxy in front.
tests/ops/ runs the commands themselves against PostgreSQL."""

import fnmatch
import importlib
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")
SECRETS = ("SECRET_KEY", "AUDIT_HMAC_KEY", "DECONFLICTION_HMAC_KEY")
# An exact release (PostgreSQL numbers its releases major.minor), optionally a
# variant (-alpine, -slim-bookworm); never a bare major version or `latest`.
PINNED = re.compile(r"^[a-z0-9./-]+:\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def _db_user(service: dict) -> str:
    # Not urlsplit: the interpolation `${VAR:?message}` is no valid URL.
    return re.match(r"postgres://([^:@/]+):", service["environment"]["DATABASE_URL"]).group(1)


def test_compose_file_is_valid_against_the_compose_specification(compose):
    schema = json.loads((ROOT / "deploy" / "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_the_schema_check_catches_a_misspelt_key(compose):
    schema = json.loads((ROOT / "deploy" / "compose-spec.json").read_text())
    broken = {**compose, "services": {**compose["services"], "web": {"imgae": "x"}}}
    with pytest.raises(jsonschema.ValidationError, match="imgae"):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_docker_compose_accepts_the_file(tmp_path):
    """Where the docker CLI has its compose plugin (not on this machine: the
    schema test above is the CI check), compose itself parses the file with
    the example settings."""
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run(  # noqa: S603
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("no docker compose plugin here")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    example = (ROOT / "deploy" / "dotenv.example").read_text()
    (tmp_path / ".env").write_text(re.sub(r"=$", "=x", example, flags=re.M))
    shutil.copy(ROOT / "deploy" / "env.example", tmp_path / "casebridge.env")
    done = subprocess.run(  # noqa: S603
        [docker, "compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_compose_has_the_production_services(services):
    assert {"proxy", "db", "redis", "migrate", "web", "worker", "beat"} <= set(services)


def test_web_runs_gunicorn_with_the_deploy_config_on_the_wsgi_application(services):
    command = services["web"]["command"]
    assert command[:3] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    assert (ROOT / command[2]).is_file()
    module, attribute = command[-1].split(":")
    assert callable(getattr(importlib.import_module(module), attribute))


def test_gunicorn_gives_a_threaded_worker_time_for_large_evidence():
    import runpy

    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert conf["worker_class"] == "gthread" and conf["threads"] > 1
    assert conf["timeout"] >= 120 and conf["graceful_timeout"] > 0
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", _nginx())
    assert int(read_timeout.group(1)) > conf["timeout"]


@pytest.mark.parametrize(("service", "subcommand"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_name_the_project_app(services, service, subcommand):
    command = services[service]["command"]
    assert command[:4] == ["celery", "-A", "config", subcommand]
    if service == "worker":
        from django.conf import settings

        assert command[command.index("-Q") + 1] == settings.CELERY_TASK_DEFAULT_QUEUE
    from celery import Celery

    assert isinstance(importlib.import_module("config").celery_app, Celery)


def test_beat_runs_the_heartbeat_scheduler(services):
    from ops.beat import HeartbeatScheduler

    command = services["beat"]["command"]
    module, name = command[command.index("--scheduler") + 1].split(":")
    assert getattr(importlib.import_module(module), name) is HeartbeatScheduler


def test_migrate_service_migrates_grants_and_signs_a_checkpoint_as_the_owner(services):
    from django.core.management import get_commands

    migrate = services["migrate"]
    script = migrate["command"][-1]
    steps = [step.split()[2] for step in script.split("&&")]
    assert steps == ["migrate", "grant_app_role", "record_audit_checkpoint"]
    assert set(steps) <= set(get_commands())
    assert _db_user(migrate) == services["db"]["environment"]["OWNER_DB_ROLE"]


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_app_services_connect_as_the_app_role(services, service):
    app_role = services["db"]["environment"]["APP_DB_ROLE"]
    assert _db_user(services[service]) == app_role
    assert services["migrate"]["environment"]["APP_DB_ROLE"] == app_role
    assert app_role != services["db"]["environment"]["OWNER_DB_ROLE"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_take_settings_and_secrets_from_an_env_file(services, service):
    assert services[service]["env_file"] == "casebridge.env"
    environment = services[service]["environment"]
    assert not set(SECRETS) & set(environment)
    assert environment["DEBUG"] == "false"


def test_the_env_file_template_names_every_secret_and_holds_none():
    example = (ROOT / "deploy" / "env.example").read_text()
    for key in SECRETS:
        assert re.search(rf"^{key}=$", example, re.M), key


def test_database_passwords_come_from_the_environment(services):
    for service in ("db", "migrate", "web"):
        values = " ".join(str(v) for v in services[service]["environment"].values())
        assert "PASSWORD" in values  # ${...PASSWORD...}: filled in from .env
        assert re.search(r"postgres://\w+:[^$]", values) is None, service


def test_every_image_is_pinned_to_an_exact_release(services):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for name, service in services.items():
        assert PINNED.match(service["image"]), (name, service["image"])
    assert services["web"]["image"] == f"casebridge:{version}"
    base = re.search(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert PINNED.match(base), base


def test_every_long_running_service_has_a_health_check(services):
    long_running = [n for n, s in services.items() if s.get("restart") != "no"]
    assert set(long_running) == set(services) - {"migrate"}
    for name in long_running:
        assert services[name]["healthcheck"]["test"], name


@pytest.mark.parametrize("service", ["worker", "beat", "web", "proxy", "db", "redis"])
def test_long_running_services_are_restarted_when_they_exit(services, service):
    # A Celery worker can exit on a lost broker connection (README, "Run the
    # worker under a supervisor"); the outbox makes the restart lose nothing.
    assert services[service]["restart"] == "unless-stopped"


def test_every_service_has_resource_limits(services):
    for name, service in services.items():
        limits = service["deploy"]["resources"]["limits"]
        assert limits["memory"] and float(limits["cpus"]) > 0, name


def test_only_the_proxy_is_published_and_it_alone_shares_a_network_with_web(services):
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"proxy"}
    assert "8000" in services["web"]["expose"]
    edge = {name for name, s in services.items() if "edge" in s.get("networks", [])}
    assert edge == {"proxy", "web"}


def _nginx() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


def test_the_proxy_terminates_tls_buffers_bodies_and_forwards_everything_to_web(services):
    conf = _nginx()
    mounts = services["proxy"]["volumes"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in mounts
    assert "listen 443 ssl" in conf and "ssl_certificate " in conf
    assert "proxy_request_buffering on;" in conf
    assert "server web:8000;" in conf
    # It serves nothing itself: no root, alias or file serving.
    assert not re.search(r"^\s*(root|alias|try_files|autoindex)\b", conf, re.M)
    # Forwarded headers are set, not passed on from the client.
    assert "proxy_set_header X-Forwarded-Proto https;" in conf
    assert "$proxy_add_x_forwarded_for" not in conf
    assert services["web"]["environment"]["TRUST_X_FORWARDED_PROTO"] == "true"


def test_evidence_files_live_on_a_volume_the_image_gives_to_the_app_user(services):
    web = services["web"]
    media_root = web["environment"]["MEDIA_ROOT"]
    assert any(v.endswith(f":{media_root}") for v in web["volumes"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(rf"install -d -o casebridge -g casebridge -m 0750 {media_root}", dockerfile)


def test_the_image_runs_as_a_user_who_cannot_change_the_code():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "chown" not in dockerfile  # /app stays root's; the user only reads it


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "casebridge.env",
        ".git/config",
        ".venv/bin/python",
        "media/evidence/a.pdf",
        "db.sqlite3",
        "test-results/story/en/1.png",
        "node_modules/x/index.js",
        "cases/__pycache__/models.cpython-311.pyc",
        "deploy/tls/privkey.pem",
    ],
)
def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image(path):
    patterns = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    assert any(
        fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(part, pattern)
        for pattern in patterns
        for prefix, part in zip(prefixes, parts, strict=True)
    ), path


def test_worker_is_unhealthy_when_notifications_stop_going_out(services):
    from django.core.management import get_commands

    check = services["worker"]["healthcheck"]["test"][-1]
    assert "python manage.py check_outbox" in check
    assert "check_outbox" in get_commands()
