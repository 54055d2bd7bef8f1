"""docker-compose.yml cannot be run here (no Docker engine), so it is checked by reading:
it parses, has the production services, and each command names a real entry point."""

import importlib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_production_services(compose):
    assert {"db", "redis", "web", "worker", "beat"} <= set(compose["services"])


def test_web_runs_gunicorn_on_the_wsgi_application(compose):
    command = compose["services"]["web"]["command"]
    assert command[0] == "gunicorn"
    module, attribute = command[1].split(":")
    assert callable(getattr(importlib.import_module(module), attribute))


@pytest.mark.parametrize(("service", "subcommand"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_name_the_project_app(compose, service, subcommand):
    command = compose["services"][service]["command"]
    assert command[:4] == ["celery", "-A", "config", subcommand]
    if service == "worker":
        from django.conf import settings

        assert command[command.index("-Q") + 1] == settings.CELERY_TASK_DEFAULT_QUEUE
    from celery import Celery

    assert isinstance(importlib.import_module("config").celery_app, Celery)


def test_stateful_services_have_healthchecks(compose):
    for name in ("db", "redis", "web"):
        assert "healthcheck" in compose["services"][name], name


def test_app_services_take_secrets_from_the_environment(compose):
    env = compose["services"]["web"]["environment"]
    assert env["SECRET_KEY"].startswith("${")
    assert env["DEBUG"] == "false"


def test_migrate_command_is_a_management_command(compose):
    from django.core.management import get_commands

    command = compose["services"]["migrate"]["command"]
    assert command[:2] == ["python", "manage.py"]
    assert command[2] in get_commands()


def test_app_services_get_every_signing_key_from_the_environment(compose):
    env = compose["services"]["web"]["environment"]
    for key in ("SECRET_KEY", "AUDIT_HMAC_KEY", "DECONFLICTION_HMAC_KEY"):
        assert env[key].startswith("${"), key


def test_evidence_files_live_on_a_volume(compose):
    web = compose["services"]["web"]
    assert any(v.endswith(web["environment"]["MEDIA_ROOT"]) for v in web["volumes"])


def test_worker_is_unhealthy_when_notifications_stop_going_out(compose):
    from django.core.management import get_commands

    check = compose["services"]["worker"]["healthcheck"]["test"][-1]
    assert "python manage.py check_outbox" in check
    assert "check_outbox" in get_commands()


@pytest.mark.parametrize("service", ["worker", "beat", "web"])
def test_long_running_services_are_restarted_when_they_exit(compose, service):
    # A Celery worker can exit on a lost broker connection (README, "Run the
    # worker under a supervisor"); the outbox makes the restart lose nothing.
    assert compose["services"][service]["restart"] == "unless-stopped"
