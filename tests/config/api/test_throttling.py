"""Throttling per API client: each token has its own budget."""

import pytest
from rest_framework.test import APIClient

from agencies.tokens import issue_api_token

pytestmark = pytest.mark.usefixtures("_no_sync_margin")


def bearer(plaintext):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def low_rate(settings):
    settings.API_THROTTLE_RATE = "3/min"


def test_client_over_its_rate_gets_429_with_retry_after(knp, low_rate):
    _, plaintext = issue_api_token(agency=knp, role="viewer", name="A")
    client = bearer(plaintext)
    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me/")
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_each_token_has_its_own_budget(knp, low_rate):
    _, first = issue_api_token(agency=knp, role="viewer", name="A")
    _, second = issue_api_token(agency=knp, role="viewer", name="B")
    for _ in range(3):
        bearer(first).get("/api/v1/me/")
    assert bearer(first).get("/api/v1/me/").status_code == 429
    assert bearer(second).get("/api/v1/me/").status_code == 200


def test_empty_rate_switches_throttling_off(knp, settings):
    settings.API_THROTTLE_RATE = ""
    _, plaintext = issue_api_token(agency=knp, role="viewer", name="A")
    client = bearer(plaintext)
    assert all(client.get("/api/v1/me/").status_code == 200 for _ in range(5))
