"""Probes: /healthz touches nothing, /readyz names each dependency's state."""

import pytest

pytestmark = pytest.mark.django_db

DEAD_BROKER = "amqp://guest:guest@127.0.0.1:1//"
LIVE_RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_with_the_database_and_no_broker(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"state": "ok"}, "cache": {"state": "ok"}},
    }


def test_readyz_checks_a_configured_broker(client, settings):
    settings.CELERY_BROKER_URL = LIVE_RABBITMQ
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": {"state": "ok"},
        "cache": {"state": "ok"},
        "broker": {"state": "ok"},
    }


def test_readyz_names_a_down_broker_and_why_and_stays_ready(client, settings):
    """Notifications wait in the outbox: a down broker degrades the API, and
    taking every web process out of the load balancer would stop it."""
    settings.CELERY_BROKER_URL = DEAD_BROKER
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {
            "database": {"state": "ok"},
            "cache": {"state": "ok"},
            "broker": {"state": "error", "reason": "connection refused (ConnectionRefusedError)"},
        },
    }
    assert "127.0.0.1" not in response.content.decode()


def test_readyz_names_a_broker_refusing_the_credentials(client, settings):
    settings.CELERY_BROKER_URL = "amqp://guest:wrong-password@127.0.0.1:5672//"
    broker = client.get("/readyz").json()["checks"]["broker"]
    assert broker == {
        "state": "error",
        "reason": "access refused (credentials or permissions) (AccessRefused)",
    }


def test_readyz_is_503_naming_the_database_when_it_is_down(client, monkeypatch):
    from django.db import OperationalError, connection

    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 10.0.0.5 failed")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"] == {
        "state": "error",
        "reason": "unreachable (OperationalError)",
    }
    assert "10.0.0.5" not in response.content.decode()


def test_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/login/").status_code == 301


def test_probes_answer_when_addressed_by_an_ip_not_in_allowed_hosts(client, settings):
    """A container or pod probe uses its own address as Host."""
    settings.ALLOWED_HOSTS = ["casebridge.example.org"]
    assert client.get("/healthz", HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get("/admin/login/", HTTP_HOST="10.0.3.7:8000").status_code == 400
