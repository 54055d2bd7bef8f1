"""A case's position in an agency's list is the later of the case's
`updated_at` and the time that agency's participation was granted.

Sharing no longer touches the case (`cases.sharing`): a share or a revoke
changes the participations, not the case row. Before, each share bumped the
case's `updated_at`, and migration 0007's push then rewrote the order copies
of every participation of the case (with all their indexes) so the new
agency would find the case after its sync cursor: most of the cost of
sharing many cases at once.

Now the new participation itself carries the position: its copy is
GREATEST(case.updated_at, granted_at). `granted_at` is stamped by the
service after its transaction started, so the pagination's sync horizon
(config/api/pagination.py) holds for it as for `updated_at`, and the
receiving agency's feed shows the case after any cursor it held before the
share. The other participations keep their positions. A later change to the
case pushes GREATEST(case.updated_at, granted_at) to every participation, as
before, skipping rows whose copies already hold those values.

On PostgreSQL the copy runs on UPDATE only when the case, the grant time
or the copies themselves are written (a bulk revoke ends 10,000
participations without looking their cases up again); SQLite keeps its row
triggers.

Existing data: services touched the case on every share until now, so no
participation was granted after its case's `updated_at`; the backfill only
rewrites rows where one was (data loaded around the services, e.g. the
benchmark generator), and is a no-op otherwise.
"""

from django.db import migrations

POSTGRESQL = [
    # The copy on UPDATE only when what it depends on (or the copy itself)
    # was written: ending 10,000 participations (a bulk revoke) no longer
    # runs a function and a case lookup per row to write back equal values.
    "DROP TRIGGER cases_participation_copy_case ON cases_caseparticipation",
    """
    CREATE TRIGGER cases_participation_copy_case
    BEFORE INSERT ON cases_caseparticipation
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cases_participation_copy_case()
    """,
    """
    CREATE TRIGGER cases_participation_recopy_case
    BEFORE UPDATE ON cases_caseparticipation
    FOR EACH ROW WHEN (pg_trigger_depth() < 1 AND (
        OLD.case_id IS DISTINCT FROM NEW.case_id
        OR OLD.granted_at IS DISTINCT FROM NEW.granted_at
        OR OLD.case_updated_at IS DISTINCT FROM NEW.case_updated_at
        OR OLD.case_public_id IS DISTINCT FROM NEW.case_public_id))
    EXECUTE FUNCTION cases_participation_copy_case()
    """,
    """
    CREATE OR REPLACE FUNCTION cases_participation_copy_case() RETURNS trigger AS $$
    BEGIN
        SELECT GREATEST(c.updated_at, NEW.granted_at), c.public_id
        INTO NEW.case_updated_at, NEW.case_public_id
        FROM cases_case c WHERE c.id = NEW.case_id;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION cases_push_positions_of(changed bigint[]) RETURNS void AS $$
        UPDATE cases_caseparticipation p
        SET case_updated_at = GREATEST(c.updated_at, p.granted_at), case_public_id = c.public_id
        FROM cases_case c
        WHERE c.id = ANY(changed) AND p.case_id = c.id
          AND (p.case_updated_at IS DISTINCT FROM GREATEST(c.updated_at, p.granted_at)
               OR p.case_public_id IS DISTINCT FROM c.public_id);
    $$ LANGUAGE sql
    SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
    """,
    """
    UPDATE cases_caseparticipation p
    SET case_updated_at = p.granted_at
    FROM cases_case c
    WHERE c.id = p.case_id AND p.granted_at > c.updated_at
      AND p.case_updated_at IS DISTINCT FROM p.granted_at
    """,
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER cases_participation_recopy_case ON cases_caseparticipation",
    "DROP TRIGGER cases_participation_copy_case ON cases_caseparticipation",
    """
    CREATE TRIGGER cases_participation_copy_case
    BEFORE INSERT OR UPDATE ON cases_caseparticipation
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cases_participation_copy_case()
    """,
    """
    CREATE OR REPLACE FUNCTION cases_participation_copy_case() RETURNS trigger AS $$
    BEGIN
        SELECT c.updated_at, c.public_id INTO NEW.case_updated_at, NEW.case_public_id
        FROM cases_case c WHERE c.id = NEW.case_id;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION cases_push_positions_of(changed bigint[]) RETURNS void AS $$
        UPDATE cases_caseparticipation p
        SET case_updated_at = c.updated_at, case_public_id = c.public_id
        FROM cases_case c
        WHERE c.id = ANY(changed) AND p.case_id = c.id;
    $$ LANGUAGE sql
    SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
    """,
    """
    UPDATE cases_caseparticipation p
    SET case_updated_at = c.updated_at
    FROM cases_case c
    WHERE c.id = p.case_id AND p.case_updated_at IS DISTINCT FROM c.updated_at
    """,
]

# SQLite (development only): 0007's row triggers, with the same rule. Its
# datetimes are ISO text in UTC, so max() of two compares them in time order.
_SQLITE_COPY = """
    UPDATE cases_caseparticipation SET
        case_updated_at = max(
            (SELECT updated_at FROM cases_case WHERE id = NEW.case_id), NEW.granted_at
        ),
        case_public_id = (SELECT public_id FROM cases_case WHERE id = NEW.case_id)
    WHERE id = NEW.id;
"""
_SQLITE_PUSH = """
    UPDATE cases_caseparticipation
    SET case_updated_at = max(NEW.updated_at, granted_at), case_public_id = NEW.public_id
    WHERE case_id = NEW.id;
"""
_SQLITE_OLD_COPY = """
    UPDATE cases_caseparticipation SET
        case_updated_at = (SELECT updated_at FROM cases_case WHERE id = NEW.case_id),
        case_public_id = (SELECT public_id FROM cases_case WHERE id = NEW.case_id)
    WHERE id = NEW.id;
"""
_SQLITE_OLD_PUSH = """
    UPDATE cases_caseparticipation
    SET case_updated_at = NEW.updated_at, case_public_id = NEW.public_id
    WHERE case_id = NEW.id;
"""
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cases_participation_copy_case_ins",
    "DROP TRIGGER IF EXISTS cases_participation_copy_case_upd",
    "DROP TRIGGER IF EXISTS cases_case_push_position",
]


def _sqlite(copy: str, push: str, backfill: str) -> list[str]:
    return [
        *_SQLITE_DROP,
        f"CREATE TRIGGER cases_participation_copy_case_ins AFTER INSERT ON cases_caseparticipation "
        f"BEGIN {copy} END",
        f"CREATE TRIGGER cases_participation_copy_case_upd AFTER UPDATE ON cases_caseparticipation "
        f"BEGIN {copy} END",
        "CREATE TRIGGER cases_case_push_position AFTER UPDATE OF updated_at, public_id "
        f"ON cases_case BEGIN {push} END",
        backfill,
    ]


SQLITE = _sqlite(
    _SQLITE_COPY,
    _SQLITE_PUSH,
    """
    UPDATE cases_caseparticipation SET case_updated_at = granted_at
    WHERE granted_at > (SELECT updated_at FROM cases_case WHERE id = case_id)
    """,
)
SQLITE_REVERSE = _sqlite(
    _SQLITE_OLD_COPY,
    _SQLITE_OLD_PUSH,
    """
    UPDATE cases_caseparticipation
    SET case_updated_at = (SELECT updated_at FROM cases_case WHERE id = case_id)
    """,
)


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_push_positions_by_index")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
