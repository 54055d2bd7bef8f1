"""Twenty clients PATCH one case at once.

Real threads, each with its own PostgreSQL connection, released together by
a barrier. With the same ETag the service re-checks the version under a row
lock, so one wins, the nineteen others get 412 and the version moves by
exactly one; without `If-Match` all twenty get 428 and nothing changes.
"""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from cases.models import Case

CLIENTS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_patches_with_one_etag_give_one_200_and_nineteen_412(
    case, knp_coordinator
):
    reader = APIClient()
    reader.force_authenticate(knp_coordinator)
    etag = reader.get(f"/api/v1/cases/{case.public_id}/")["ETag"]
    version = Case.objects.get(pk=case.pk).version
    barrier = threading.Barrier(CLIENTS)
    statuses: list[int] = []
    lock = threading.Lock()

    def patch(n: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(knp_coordinator)
            barrier.wait(timeout=30)
            response = client.patch(
                f"/api/v1/cases/{case.public_id}/",
                {"title": f"Edit by client {n}"},
                format="json",
                HTTP_IF_MATCH=etag,
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=patch, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(statuses) == [200] + [412] * (CLIENTS - 1)
    stored = Case.objects.get(pk=case.pk)
    assert stored.version == version + 1
    assert stored.title.startswith("Edit by client ")


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_patches_without_if_match_are_all_428_and_change_nothing(
    case, knp_coordinator
):
    """Last writer wins no more: a PATCH that does not say which version it
    edits is refused before the service runs, however many arrive at once."""
    before = Case.objects.values("title", "version", "updated_at").get(pk=case.pk)
    barrier = threading.Barrier(CLIENTS)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def patch(n: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(knp_coordinator)
            barrier.wait(timeout=30)
            response = client.patch(
                f"/api/v1/cases/{case.public_id}/", {"title": f"Blind edit {n}"}, format="json"
            )
            with lock:
                answers.append((response.status_code, response.json()["code"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=patch, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert answers == [(428, "precondition_required")] * CLIENTS
    assert Case.objects.values("title", "version", "updated_at").get(pk=case.pk) == before
