"""Two agencies recording the same new value at the same moment: the value is
marked shared whatever the order of their commits (migration 0032's upsert).

Real threads on their own connections against PostgreSQL: the first agency's
transaction records the value and stays open while the second records it, so
neither sees the other's identifier when it writes; SQLite (one writer at a
time) cannot show this.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from cases.deconfliction import add_identifier
from cases.models import Case, RecordedValue
from gate.roles import Role
from tests.factories import make_agency, make_case, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locking"),
]

WALLET = "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"


def test_a_value_two_agencies_record_at_once_is_shared():
    actors = []
    for code, country in (("KR-KNP", "KR"), ("KH-CCOS", "KH")):
        user = make_user(make_agency(code, country=country), Role.COORDINATOR)
        actors.append((user, make_case(user, title=f"{code} case").pk))
    first_written = threading.Event()
    errors: list[BaseException] = []

    def record(index: int) -> None:
        user, case_id = actors[index]
        try:
            if index == 1:
                first_written.wait(timeout=30)
            with transaction.atomic():
                add_identifier(
                    actor=user,
                    case=Case.objects.get(pk=case_id),
                    kind="crypto_wallet",
                    value=WALLET,
                    chain="tron",
                )
                if index == 0:
                    first_written.set()
                    # Still open while the other agency writes (it waits on
                    # this row until the commit, or this wait runs out).
                    threading.Event().wait(timeout=1.0)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=record, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert list(RecordedValue.objects.values_list("shared", flat=True)) == [True]
