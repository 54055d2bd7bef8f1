"""Hostile request bodies get a problem document and change nothing."""

import pytest
from rest_framework.test import APIClient

from agencies.tokens import issue_api_token
from cases.models import Case


@pytest.fixture
def client(knp):
    _, plaintext = issue_api_token(agency=knp, role="coordinator", name="partner")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def nested(depth: int) -> str:
    return '{"title": "x", "summary": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [1_000, 10_000])
def test_deeply_nested_json_answers_400_problem(client, depth):
    response = client.post("/api/v1/cases/", nested(depth), content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "parse_error"
    assert "nested" in response.json()["detail"]
    assert not Case.objects.exists()


def test_oversize_json_body_answers_413_problem(client, settings):
    body = '{"title": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'
    response = client.post("/api/v1/cases/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "request_too_large"
    assert not Case.objects.exists()


def test_moderately_nested_json_still_parses(client):
    response = client.post("/api/v1/cases/", nested(5), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_nul_character_anywhere_in_the_body_answers_400(client):
    body = '{"identifiers": [{"kind": "phone", "value": "1", "x\\u0000": true}]}'
    response = client.post("/api/v1/deconfliction/search/", body, content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
