"""Idempotency-Key on POST: one effect per key, whatever the retries."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from agencies.models import IdempotencyRecord
from cases.models import Case, Note

pytestmark = pytest.mark.usefixtures("_no_sync_margin")


def post_case(client, key, title="Retried case"):
    return client.post("/api/v1/cases/", {"title": title}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_retry_with_same_key_and_body_replays_the_first_response(api, knp_coordinator):
    client = api(knp_coordinator)
    first = post_case(client, "key-1")
    second = post_case(client, "key-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Location"] == first["Location"]
    assert second["ETag"] == first["ETag"]
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Case.objects.count() == 1


def test_same_key_with_a_different_body_is_422_and_creates_nothing(api, knp_coordinator):
    client = api(knp_coordinator)
    post_case(client, "key-1", title="First")
    response = post_case(client, "key-1", title="Second")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Case.objects.values_list("title", flat=True)) == ["First"]


def test_same_key_on_another_endpoint_is_422(api, shared_case, knp_coordinator):
    client = api(knp_coordinator)
    post_case(client, "key-1")
    response = client.post(
        "/api/v1/notes/",
        {"case": str(shared_case.public_id), "body": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )
    assert response.status_code == 422
    assert not Note.objects.exists()


def test_key_order_in_the_body_does_not_matter(api, knp_coordinator):
    client = api(knp_coordinator)
    a = client.post(
        "/api/v1/cases/",
        '{"title": "T", "summary": "S"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    b = client.post(
        "/api/v1/cases/",
        '{"summary":"S","title":"T"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert a.status_code == b.status_code == 201
    assert Case.objects.count() == 1


def test_keys_are_scoped_per_user(api, knp_coordinator, kh_coordinator):
    post_case(api(knp_coordinator), "shared-key")
    response = post_case(api(kh_coordinator), "shared-key")
    assert response.status_code == 201
    assert response.get("Idempotent-Replayed") is None
    assert Case.objects.count() == 2


def test_a_refused_request_is_replayed_as_refused(api, kh_viewer):
    client = api(kh_viewer)
    assert post_case(client, "k").status_code == 403
    replay = post_case(client, "k")
    assert replay.status_code == 403
    assert replay["Idempotent-Replayed"] == "true"


def test_without_a_key_each_post_creates(api, knp_coordinator):
    client = api(knp_coordinator)
    client.post("/api/v1/cases/", {"title": "A"}, format="json")
    client.post("/api/v1/cases/", {"title": "A"}, format="json")
    assert Case.objects.count() == 2


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "bad\x01key"])
def test_malformed_key_is_400(api, knp_coordinator, key):
    response = api(knp_coordinator).post(
        "/api/v1/cases/", {"title": "A"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert not Case.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_case(knp_coordinator):
    """Five clients send the same key at once: one case, five identical answers."""
    barrier = threading.Barrier(5)
    responses = []

    def worker():
        try:
            client = APIClient()
            client.force_authenticate(knp_coordinator)
            barrier.wait()
            responses.append(post_case(client, "race-key"))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Case.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(1 for r in responses if r.get("Idempotent-Replayed")) == 4


def test_replayed_error_keeps_the_problem_content_type(api, kh_viewer):
    client = api(kh_viewer)
    post_case(client, "k")
    replay = post_case(client, "k")
    assert replay["Content-Type"] == "application/problem+json"


def test_a_download_with_a_key_streams_the_bytes_and_keeps_no_record(
    api, case, knp_coordinator, settings, tmp_path
):
    from tests.factories import make_document

    settings.MEDIA_ROOT = tmp_path
    doc = make_document(knp_coordinator, case, handling_code="AMBER")
    client = api(knp_coordinator)
    url = f"/api/v1/documents/{doc.public_id}/download/"

    for _ in range(2):
        response = client.post(url, {"purpose": "Court"}, format="json", HTTP_IDEMPOTENCY_KEY="d")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert b"".join(response.streaming_content)
    assert not IdempotencyRecord.objects.exists()
