"""The benchmark data set is what the app accepts.

`bench.generate` writes rows with COPY rather than through the services, so
these tests run it at a tiny size and check the app's own selectors and
audit verifier against the generator's independent record of who should see
what (`--expected`). The other benchmark commands: tests/bench/test_bench_commands.py.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count

from audit.services import verify_chain
from cases import access
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    Identifier,
    RecordedValue,
    Transaction,
)
from tests.bench.bench_subprocess import generated_world, run_bench

pytestmark = pytest.mark.django_db

AGENCIES, CASES = 5, 300


@pytest.fixture(scope="module")
def expected(django_db_setup, django_db_blocker):
    """Agency id -> the case ids the generator shared with it; 100 cases a
    batch, so rows cross batch boundaries."""
    with generated_world(
        django_db_blocker, agencies=AGENCIES, cases=CASES, users=40, batch=100
    ) as world:
        yield world


def _member(agency_id):
    return (
        get_user_model()
        .objects.filter(membership__agency_id=agency_id, membership__role="viewer")
        .first()
    )


def test_every_agency_sees_exactly_the_cases_the_generator_shared_with_it(expected):
    assert Case.objects.count() == CASES
    assert len(expected) == AGENCIES
    for agency_id, shared in expected.items():
        user = _member(agency_id)
        visible = set(access.visible_cases(user).values_list("id", flat=True))
        assert visible == shared, agency_id


def test_generated_shares_include_ones_the_selector_must_hide(expected):
    """Revoked and expired-but-unswept participations exist, so the check above bites."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FILTER (WHERE revoked_at IS NOT NULL),"
            " COUNT(*) FILTER (WHERE revoked_at IS NULL AND expires_at < now())"
            " FROM cases_caseparticipation"
        )
        revoked, expired = cursor.fetchone()
    assert revoked > 0 and expired > 0


def test_generated_rows_reference_existing_rows(expected):
    """Foreign keys are not checked during the COPY: check the main ones here."""
    checks = [
        "SELECT COUNT(*) FROM cases_caseparticipation p"
        " LEFT JOIN cases_case c ON c.id = p.case_id WHERE c.id IS NULL",
        "SELECT COUNT(*) FROM cases_caseparticipation p"
        " LEFT JOIN agencies_agency a ON a.id = p.agency_id WHERE a.id IS NULL",
        "SELECT COUNT(*) FROM cases_casegroupobjectpermission g"
        " LEFT JOIN cases_case c ON c.id = g.content_object_id WHERE c.id IS NULL",
        "SELECT COUNT(*) FROM cases_note n"
        " LEFT JOIN auth_user u ON u.id = n.author_id WHERE u.id IS NULL",
        "SELECT COUNT(*) FROM cases_task t"
        " LEFT JOIN cases_case c ON c.id = t.case_id WHERE c.id IS NULL",
    ]
    with connection.cursor() as cursor:
        for sql in checks:
            cursor.execute(sql)
            assert cursor.fetchone()[0] == 0, sql


def _grants() -> list[tuple]:
    columns = [field.attname for field in CaseGroupObjectPermission._meta.concrete_fields]
    return list(CaseGroupObjectPermission.objects.order_by("id").values_list(*columns))


def test_generated_grants_carry_what_the_triggers_would_write(expected):
    """The triggers keeping the grant's list position and copies of the case
    (migration 0026) are off during the load: the generator writes their
    rule itself. Each grant is rewritten here by the trigger (in a savepoint
    rolled back), and must come out as the generator wrote it."""
    generated = _grants()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_casegroupobjectpermission SET granted_at = granted_at")
        rewritten = _grants()
        transaction.set_rollback(True)
    assert generated and generated == rewritten


def _identifier_copies() -> list[tuple]:
    return list(
        Identifier.objects.order_by("id").values_list(
            "id", "case_lead_agency_id", "case_discoverable"
        )
    )


def test_generated_identifiers_carry_what_the_triggers_would_write(expected):
    """Migration 0031's trigger copying the case onto an identifier is off
    during the load too: rewritten by it, each identifier is unchanged."""
    generated = _identifier_copies()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_identifier SET case_id = case_id")
        rewritten = _identifier_copies()
        transaction.set_rollback(True)
    assert generated and generated == rewritten


def test_generated_audit_chain_verifies(expected):
    result = verify_chain()
    assert result.ok, result


def test_generated_money_stays_on_its_case_and_crosses_cases_by_hash(expected):
    """`bench.generate_network` on the generated world: each transaction's two
    ends are accounts of its own case, with their hashes copied, and some
    account values are held on several cases (so a trace crosses cases)."""
    run_bench(
        "bench.generate_network",
        *("--cases", "60", "--transactions", "600", "--big-case-transactions", "50"),
    )
    transactions = Transaction.objects.select_related("from_identifier", "to_identifier")
    assert transactions.count() >= 600
    for t in transactions:
        assert t.from_identifier.case_id == t.to_identifier.case_id == t.case_id
        assert bytes(t.from_hash) == bytes(t.from_identifier.value_hash)
        assert bytes(t.to_hash) == bytes(t.to_identifier.value_hash)
    shared = (
        Identifier.objects.values("value_hash")
        .annotate(cases=Count("case", distinct=True))
        .filter(cases__gt=1)
    )
    assert shared.exists()
    # Migration 0032's trigger is off during the load: the generator keeps
    # `RecordedValue` as it would: shared, the values two agencies recorded.
    held_by = Identifier.objects.values("value_hash").annotate(
        agencies=Count("agency", distinct=True)
    )
    by_agencies = {bytes(row["value_hash"]) for row in held_by if row["agencies"] > 1}
    kept = RecordedValue.objects.filter(shared=True).values_list("value_hash", flat=True)
    assert by_agencies and {bytes(v) for v in kept} == by_agencies
    assert RecordedValue.objects.count() == held_by.count()
