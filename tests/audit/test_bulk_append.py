"""Appending many events at once: `record_many` and `append_many` chain
exactly as one `record` after another would."""

import itertools

import pytest

from audit import services as audit
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _entries(n: int) -> list[audit.Entry]:
    return [
        audit.Entry(
            "update",
            object_type="cases.case",
            object_id=f"obj-{i}",
            changes={"title": {"before": f"t{i}", "after": f"t{i + 1}"}, "secret": "x"},
        )
        for i in range(n)
    ]


def test_record_many_returns_the_events_as_stored(knp_coordinator):
    events = audit.record_many(_entries(3), actor=knp_coordinator)
    stored = list(AuditEvent.objects.filter(object_id__startswith="obj-").order_by("seq"))
    assert [(e.pk, e.seq, e.prev_hash, e.hash, e.changes) for e in events] == [
        (e.pk, e.seq, e.prev_hash, e.hash, e.changes) for e in stored
    ]
    assert stored[0].changes["secret"] == audit.REDACTED
    assert audit.verify_chain().ok


def test_append_many_chains_each_event_onto_the_one_before(knp_coordinator):
    first = audit.record(action="update", actor=knp_coordinator, object_type="x", object_id="1")
    assert audit.append_many(_entries(4), actor=knp_coordinator) == 4
    stored = list(AuditEvent.objects.filter(seq__gte=first.seq).order_by("seq"))
    assert [e.seq for e in stored] == [first.seq + n for n in range(5)]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(stored))
    assert {e.actor_id for e in stored} == {knp_coordinator.pk}
    assert audit.verify_chain().ok


def test_append_many_of_nothing_appends_nothing(knp_coordinator, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert audit.append_many([], actor=knp_coordinator) == 0
