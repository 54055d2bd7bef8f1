"""Copy each case's `updated_at` and `public_id` onto its participations.

An agency's case list, newest first, then reads one index on (agency,
case_updated_at, case_public_id) and stops after a page, instead of fetching
and sorting every case the agency sees.

Database triggers keep the copies in step in the same transaction, whoever
writes (services, `.update()`, admin, a migration): a participation takes
its case's values on every insert and update, and a change to a case's
`updated_at` is pushed to its participations. Existing rows are backfilled.
"""

from django.conf import settings
from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE FUNCTION cases_participation_copy_case() RETURNS trigger AS $$
    BEGIN
        SELECT c.updated_at, c.public_id INTO NEW.case_updated_at, NEW.case_public_id
        FROM cases_case c WHERE c.id = NEW.case_id;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER cases_participation_copy_case
    BEFORE INSERT OR UPDATE ON cases_caseparticipation
    FOR EACH ROW EXECUTE FUNCTION cases_participation_copy_case()
    """,
    """
    CREATE FUNCTION cases_case_push_position() RETURNS trigger AS $$
    BEGIN
        UPDATE cases_caseparticipation
        SET case_updated_at = NEW.updated_at, case_public_id = NEW.public_id
        WHERE case_id = NEW.id;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER cases_case_push_position
    AFTER UPDATE OF updated_at, public_id ON cases_case
    FOR EACH ROW
    WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at
          OR OLD.public_id IS DISTINCT FROM NEW.public_id)
    EXECUTE FUNCTION cases_case_push_position()
    """,
    """
    UPDATE cases_caseparticipation p
    SET case_updated_at = c.updated_at, case_public_id = c.public_id
    FROM cases_case c WHERE c.id = p.case_id
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS cases_case_push_position ON cases_case",
    "DROP FUNCTION IF EXISTS cases_case_push_position()",
    "DROP TRIGGER IF EXISTS cases_participation_copy_case ON cases_caseparticipation",
    "DROP FUNCTION IF EXISTS cases_participation_copy_case()",
]

# SQLite (development only): BEFORE triggers cannot change NEW, so the
# participation updates itself after the write (recursive triggers are off).
_SQLITE_COPY = """
    UPDATE cases_caseparticipation SET
        case_updated_at = (SELECT updated_at FROM cases_case WHERE id = NEW.case_id),
        case_public_id = (SELECT public_id FROM cases_case WHERE id = NEW.case_id)
    WHERE id = NEW.id;
"""
SQLITE = [
    f"CREATE TRIGGER cases_participation_copy_case_ins AFTER INSERT ON cases_caseparticipation "
    f"BEGIN {_SQLITE_COPY} END",
    f"CREATE TRIGGER cases_participation_copy_case_upd AFTER UPDATE ON cases_caseparticipation "
    f"BEGIN {_SQLITE_COPY} END",
    """
    CREATE TRIGGER cases_case_push_position AFTER UPDATE OF updated_at, public_id ON cases_case
    BEGIN
        UPDATE cases_caseparticipation
        SET case_updated_at = NEW.updated_at, case_public_id = NEW.public_id
        WHERE case_id = NEW.id;
    END
    """,
    """
    UPDATE cases_caseparticipation SET
        case_updated_at = (SELECT updated_at FROM cases_case WHERE id = case_id),
        case_public_id = (SELECT public_id FROM cases_case WHERE id = case_id)
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS cases_participation_copy_case_ins",
    "DROP TRIGGER IF EXISTS cases_participation_copy_case_upd",
    "DROP TRIGGER IF EXISTS cases_case_push_position",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0002_idempotency_records"),
        ("cases", "0006_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="caseparticipation",
            name="case_public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="caseparticipation",
            name="case_updated_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="caseparticipation",
            index=models.Index(
                condition=models.Q(("revoked_at__isnull", True)),
                fields=["agency", "case_updated_at", "case_public_id"],
                name="participation_agency_order",
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
