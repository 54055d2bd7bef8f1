"""Probes: /healthz touches nothing, /readyz checks the database and broker."""

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
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


def test_readyz_checks_a_configured_broker(client, settings):
    settings.CELERY_BROKER_URL = LIVE_RABBITMQ
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_readyz_is_503_with_detail_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = DEAD_BROKER
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "ok", "broker": "unavailable"},
    }
    assert "127.0.0.1" not in response.content.decode()


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
