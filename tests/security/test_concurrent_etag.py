"""Twenty clients PATCH one case with the same ETag at once: one wins.

Real threads, each with its own PostgreSQL connection, released together by
a barrier; the service re-checks the version under a row lock, so the
nineteen others get 412 and the version moves by exactly one.
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
