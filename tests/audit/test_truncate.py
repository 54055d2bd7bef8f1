"""A wipe of the audit log is refused, and one that got through is noticed."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit import services as audit
from tests.conftest import AUDIT_TABLES

from .conftest import trigger_bypassed

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the truncate trigger is PostgreSQL's"
)


def _record(n: int) -> None:
    for i in range(n):
        audit.record(action="update", actor=None, object_type="cases.case", object_id=f"o{i}")


@postgres_only
@pytest.mark.parametrize("table", ["audit_auditevent", "audit_auditcheckpoint"])
def test_truncate_of_an_audit_table_is_refused(db, table):
    _record(2)
    with transaction.atomic(), connection.cursor() as cursor:
        # The suite switches the refusal off for its flush; switch it on again here.
        for name in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {name} ENABLE TRIGGER {name}_no_truncate")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(f"TRUNCATE {table} CASCADE")
        transaction.set_rollback(True)


def test_verify_audit_fails_when_no_checkpoint_vouches_for_the_log(db):
    _record(3)
    with pytest.raises(CommandError, match="no signed checkpoint"):
        call_command("verify_audit")


@postgres_only
def test_verify_audit_fails_after_a_wipe_of_rows_and_checkpoints(db):
    _record(3)
    audit.record_checkpoint()
    call_command("verify_audit")
    with trigger_bypassed() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
        cursor.execute("DELETE FROM audit_auditcheckpoint")
        cursor.execute("UPDATE audit_auditchainhead SET last_seq = 0, last_hash = %s", ["0" * 64])
    with pytest.raises(CommandError, match="no signed checkpoint"):
        call_command("verify_audit")


def test_a_checkpoint_older_than_allowed_is_reported_with_its_age(db):
    _record(2)
    checkpoint = audit.record_checkpoint()
    later = checkpoint.created_at + dt.timedelta(hours=3)
    assert audit.checkpoint_problem(max_age=dt.timedelta(hours=4), now=later) == ""
    problem = audit.checkpoint_problem(max_age=dt.timedelta(hours=2), now=later)
    assert "10800 s old" in problem and "7200 s allowed" in problem


def test_verify_audit_passes_with_a_recent_checkpoint(db, capsys):
    _record(2)
    audit.record_checkpoint()
    call_command("verify_audit")
    assert "intact: 2 rows" in capsys.readouterr().out
