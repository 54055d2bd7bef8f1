"""`config.bulk.insert_rows`: many rows in one statement, no model instance per row."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from config.bulk import ids_in, insert_rows
from notifications.choices import OutboxStatus
from notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _outbox(rows, columns=("id", "object_type", "object_id", "payload"), **same):
    """Outbox rows of `columns`; every other column the same on each row."""
    defaults = {
        "event_type": "case.shared",
        "agency_id": None,
        "actor_id": None,
        "dedup_key": None,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "last_error": "",
        "created_at": timezone.now(),
        "published_at": None,
        "next_attempt_at": None,
        "delivered_at": None,
        **same,
    }
    return insert_rows(
        OutboxMessage,
        columns,
        rows,
        same={k: v for k, v in defaults.items() if k not in columns},
        returning=("id",),
    )


def test_insert_rows_returns_the_inserted_rows_in_the_order_given():
    ids = [uuid.uuid4() for _ in range(5)]
    returned = _outbox([(pk, "case", uuid.uuid4(), {}) for pk in ids])
    assert [pk for (pk,) in returned] == ids


def test_insert_rows_stores_json_as_json():
    payload = {"ids": {"agency": "x"}, "n": [1, 2], "text": "é\\u0000'\""}
    ((pk,),) = _outbox([(uuid.uuid4(), "case", uuid.uuid4(), payload)])
    assert OutboxMessage.objects.get(pk=pk).payload == payload
    assert OutboxMessage.objects.filter(payload__ids__agency="x").count() == 1


def test_insert_rows_writes_the_constants_on_every_row():
    _outbox([(uuid.uuid4(), "case", uuid.uuid4(), {}) for _ in range(3)], last_error="same")
    assert set(OutboxMessage.objects.values_list("last_error", "status")) == {("same", "pending")}


def test_insert_rows_of_nothing_runs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert _outbox([]) == []


def test_insert_rows_keeps_each_rows_values_beside_columns_that_repeat():
    rows = [(uuid.uuid4(), "case", uuid.uuid4(), {"n": n}) for n in range(3)]
    rows.append((uuid.uuid4(), "task", uuid.uuid4(), {"n": 3}))
    _outbox(rows)
    stored = {m.pk: (m.object_type, m.object_id, m.payload) for m in OutboxMessage.objects.all()}
    assert stored == {pk: (kind, oid, payload) for pk, kind, oid, payload in rows}


COLUMNS = (
    "id",
    "object_type",
    "object_id",
    "payload",
    "published_at",
    "last_error",
    "attempts",
    "next_attempt_at",
)


def test_insert_rows_sends_each_type_of_varying_column_as_written():
    """Varying columns travel as JSON text cast to the column's type."""
    now = timezone.now()
    rows = [
        (uuid.uuid4(), "case", uuid.uuid4(), {}, now, 'it\'s "quoted" ក', 3, None),
        (uuid.uuid4(), "task", uuid.uuid4(), {}, None, "", 0, now - dt.timedelta(days=1)),
    ]
    _outbox(rows, COLUMNS)
    stored = {
        m.pk: (m.object_id, m.published_at, m.last_error, m.attempts, m.next_attempt_at)
        for m in OutboxMessage.objects.all()
    }
    assert stored == {row[0]: (row[2], *row[4:]) for row in rows}


def test_ids_in_selects_the_rows_with_those_ids():
    rows = [(uuid.uuid4(), "case", uuid.uuid4(), {}) for _ in range(4)]
    _outbox(rows)
    two = list(OutboxMessage.objects.values_list("pk", flat=True)[:2])
    OutboxMessage.objects.filter(pk__in=two).update(attempts=7)

    assert OutboxMessage.objects.filter(ids_in("attempts", [7, 9])).count() == 2
    assert not OutboxMessage.objects.filter(ids_in("attempts", [])).exists()


def test_ids_in_refuses_anything_but_integers():
    with pytest.raises(TypeError):
        ids_in("attempts", ["1); DROP TABLE x; --"])
