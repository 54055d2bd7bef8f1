"""Concurrent `create_case` calls for one agency and year never share a reference.

Real threads, each on its own database connection, released together by a
barrier, against PostgreSQL: the race is about row locks, which SQLite
(one writer at a time) cannot show.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections

from cases import services
from cases.models import Case, CaseSequence
from gate.roles import Role
from tests.factories import make_agency, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locking"),
]


def _create_concurrently(user_ids: list[int]) -> tuple[list[str], list[BaseException]]:
    barrier = threading.Barrier(len(user_ids))
    references: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(user_id: int) -> None:
        try:
            user = get_user_model().objects.get(pk=user_id)
            barrier.wait(timeout=30)
            case = services.create_case(actor=user, title=f"Concurrent {user_id}")
            with lock:
                references.append(case.reference)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a creator hung"
    return references, errors


@pytest.mark.parametrize("threads", [2, 10])
def test_concurrent_first_cases_of_the_year_get_distinct_references(threads):
    """No sequence row exists yet: the creators also race to insert it."""
    agency = make_agency("KR-KNP", country="KR", timezone="Asia/Seoul")
    users = [make_user(agency, Role.COORDINATOR) for _ in range(threads)]
    references, errors = _create_concurrently([u.pk for u in users])
    assert errors == []
    assert len(references) == threads
    assert len(set(references)) == threads
    assert Case.objects.filter(lead_agency=agency).count() == threads
    sequence = CaseSequence.objects.get(agency=agency)
    assert sequence.last_value == threads
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in references)
    assert numbers == list(range(1, threads + 1))


def test_concurrent_creators_after_an_existing_case_get_distinct_references():
    agency = make_agency("KH-CCOS", country="KH")
    first = make_user(agency, Role.COORDINATOR)
    services.create_case(actor=first, title="First")
    users = [make_user(agency, Role.COORDINATOR) for _ in range(2)]
    references, errors = _create_concurrently([u.pk for u in users])
    assert errors == []
    assert len(set(references)) == 2
    assert Case.objects.filter(lead_agency=agency).count() == 3
    assert CaseSequence.objects.get(agency=agency).last_value == 3
