"""With the counters' Redis unreachable the API keeps answering (never a 500)."""

import pytest
from rest_framework.test import APIClient

from agencies.tokens import issue_api_token

# A real Redis client against a port where nothing listens: refused at once.
DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": "redis://127.0.0.1:6390/0"}}  # fmt: skip


@pytest.fixture
def redis_down(settings):
    working = settings.CACHES
    settings.CACHES = DOWN
    yield
    settings.CACHES = working  # before the suite's own teardown clears the cache


def bearer(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_authenticated_calls_answer_while_the_cache_is_down(knp, redis_down):
    _, plaintext = issue_api_token(agency=knp, role="viewer", name="partner")
    assert bearer(plaintext).get("/api/v1/me/").status_code == 200
    assert bearer(plaintext).get("/api/v1/cases/").status_code == 200


def test_throttle_still_limits_while_the_cache_is_down(knp, redis_down, settings):
    settings.API_THROTTLE_RATE = "3/min"
    _, plaintext = issue_api_token(agency=knp, role="viewer", name="partner")
    client = bearer(plaintext)
    assert [client.get("/api/v1/me/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_anonymous_calls_get_401_not_500_while_the_cache_is_down(db, redis_down):
    response = APIClient().get("/api/v1/cases/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_readyz_names_the_unreachable_cache_and_stays_ready(client, db, redis_down, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {
            "database": {"state": "ok"},
            "cache": {"state": "error", "reason": "connection refused (ConnectionRefusedError)"},
        },
    }
