"""The audit chain: appends link, verification finds every kind of tampering."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import services as audit
from audit.models import GENESIS_HASH, AuditChainHead, AuditCheckpoint, AuditEvent

from .conftest import trigger_bypassed

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's"
)


def _record(n: int, actor=None) -> list[AuditEvent]:
    return [
        audit.record(
            action="update",
            actor=actor,
            object_type="cases.case",
            object_id=f"obj-{i}",
            changes={"title": {"before": f"t{i}", "after": f"t{i + 1}"}, "n": i},
        )
        for i in range(n)
    ]


def test_each_event_links_to_the_one_before(db):
    first, second = _record(2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert second.seq == first.seq + 1
    assert AuditChainHead.objects.get().last_hash == second.hash


def test_intact_chain_verifies(db, capsys):
    _record(5)
    audit.record_checkpoint()
    _record(2)
    call_command("verify_audit")
    assert "intact: 7 rows" in capsys.readouterr().out


def test_verify_audit_exits_non_zero_and_names_the_edited_row(db):
    events = _record(4)
    with trigger_bypassed():
        AuditEvent.objects.filter(pk=events[2].pk).update(object_id="forged")
    with pytest.raises(CommandError, match=f"row {events[2].seq}: content does not match"):
        call_command("verify_audit")


@postgres_only
def test_update_on_the_audit_table_fails(db):
    (event,) = _record(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(outcome="refused")


@postgres_only
def test_delete_on_the_audit_table_fails(db):
    (event,) = _record(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@postgres_only
def test_checkpoints_cannot_be_rewritten(db):
    checkpoint = audit.record_checkpoint()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(seq=0)


def test_cut_tail_is_found_by_the_signed_checkpoint_even_with_the_head_rewritten(db):
    events = _record(5)
    audit.record_checkpoint()
    with trigger_bypassed():
        AuditEvent.objects.filter(seq__gte=events[3].seq).delete()
    AuditChainHead.objects.update(last_seq=events[2].seq, last_hash=events[2].hash)
    result = audit.verify_chain()
    assert not result.ok
    assert "tail cut off" in result.problem


def test_forged_checkpoint_is_refused(db):
    _record(2)
    AuditCheckpoint.objects.create(
        seq=99, hash="f" * 64, created_at=dt.datetime.now(dt.UTC), signature="0" * 64
    )
    result = audit.verify_chain()
    assert not result.ok
    assert "bad signature" in result.problem


def test_checkpoint_needs_a_key(db, settings):
    settings.AUDIT_HMAC_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        audit.record_checkpoint()


def test_secret_values_never_reach_the_log(db):
    event = audit.record(
        action="update",
        object_type="agencies.apitoken",
        changes={"key_hash": {"before": "abc", "after": "def"}, "password": "hunter2", "n": 1},
    )
    assert event.changes == {"key_hash": "[redacted]", "password": "[redacted]", "n": 1}


def test_unknown_action_is_a_programming_error(db):
    with pytest.raises(ValueError):
        audit.record(action="frobnicate")


# --- hypothesis: every tampering is found -------------------------------------

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)
EDITABLE = [
    "action",
    "object_id",
    "object_type",
    "actor_label",
    "agency_code",
    "reason",
    "request_id",
    "ip",
    "outcome",
    "changes",
    "occurred_at",
    "actor_id",
    "prev_hash",
    "hash",
]


def _edit(data, event: AuditEvent) -> None:
    field = data.draw(st.sampled_from(EDITABLE), label="field")
    old = getattr(event, field)
    if field == "occurred_at":
        delta = data.draw(st.integers(min_value=1, max_value=10**9), label="microseconds")
        new = old + dt.timedelta(microseconds=delta)
    elif field == "changes":
        new = data.draw(st.dictionaries(TEXT, st.integers(), min_size=1, max_size=2))
        new = new if new != old else {"x": 1}
    elif field == "actor_id":
        new = data.draw(st.integers(min_value=1, max_value=10**6).filter(lambda v: v != old))
    elif field in ("prev_hash", "hash"):
        new = data.draw(st.text("0123456789abcdef", min_size=64, max_size=64))
        new = new if new != old else "e" * 64
    elif field == "action":
        new = data.draw(st.sampled_from(["create", "delete", "share", "revoke"]))
    elif field == "outcome":
        new = data.draw(st.sampled_from(["refused", "failed"]))
    else:
        limit = {"ip": 45, "agency_code": 20, "object_id": 64, "request_id": 64}.get(field, 100)
        new = data.draw(TEXT.filter(lambda v: v != old))[:limit]
    AuditEvent.objects.filter(pk=event.pk).update(**{field: new})


def _shift_seq(events: list[AuditEvent], start: int) -> None:
    for event in reversed(events[start:]):
        AuditEvent.objects.filter(pk=event.pk).update(seq=event.seq + 1)


def _forge(seq: int, prev_hash: str) -> None:
    forged = AuditEvent(
        seq=seq,
        occurred_at=dt.datetime.now(dt.UTC),
        action="delete",
        object_type="cases.case",
        object_id="forged",
        prev_hash=prev_hash,
    )
    forged.hash = audit.compute_hash(prev_hash, audit.row_of(forged))  # a well-chained forgery
    forged.save(force_insert=True)


def _tamper(data, kind: str, events: list[AuditEvent]) -> None:
    n = len(events)
    if kind == "edit":
        _edit(data, events[data.draw(st.integers(0, n - 1), label="row")])
    elif kind == "delete":
        i = data.draw(st.integers(0, n - 1), label="row")
        AuditEvent.objects.filter(pk=events[i].pk).delete()
    elif kind == "insert":
        # A forged row slipped in before row i, later rows renumbered to make room.
        i = data.draw(st.integers(0, n - 1), label="position")
        _shift_seq(events, i)
        _forge(events[i].seq, events[i - 1].hash if i else events[0].prev_hash)
    elif kind == "append":
        # A forged row after the last one, without going through the head.
        _forge(events[-1].seq + 1, events[-1].hash)
    elif kind == "reorder":
        i, j = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=2, max_size=2)))
        a, b = events[i], events[j]
        AuditEvent.objects.filter(pk=a.pk).update(seq=10**12)
        AuditEvent.objects.filter(pk=b.pk).update(seq=a.seq)
        AuditEvent.objects.filter(pk=a.pk).update(seq=b.seq)
    elif kind == "cut_tail":
        k = data.draw(st.integers(1, n - 1), label="rows cut")
        AuditEvent.objects.filter(seq__gt=events[n - 1 - k].seq).delete()
        last = events[n - 1 - k]
        AuditChainHead.objects.update(last_seq=last.seq, last_hash=last.hash)


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n=st.integers(min_value=2, max_value=8),
    kind=st.sampled_from(["edit", "delete", "insert", "append", "reorder", "cut_tail"]),
    data=st.data(),
)
def test_verify_finds_every_tampering(n, kind, data):
    with transaction.atomic():
        try:
            events = _record(n)
            audit.record_checkpoint()
            assert audit.verify_chain().ok
            with trigger_bypassed():
                _tamper(data, kind, events)
            result = audit.verify_chain()
            assert not result.ok, f"{kind} went unnoticed"
            with pytest.raises(CommandError):
                call_command("verify_audit")
        finally:
            transaction.set_rollback(True)


# --- concurrency ------------------------------------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain():
    errors = []

    def writer():
        try:
            for _ in range(10):
                with transaction.atomic():
                    _record(1)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 41)
    )
    assert audit.verify_chain().ok
