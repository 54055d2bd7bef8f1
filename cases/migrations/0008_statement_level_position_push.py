"""Push a case's list position to its participations once per statement.

Migration 0007's triggers did it row by row, and each pushed participation
fired the copy trigger again to read back the case it had just been given:
touching many cases at once (sharing them with one agency in one call,
`cases.sharing`) cost a case lookup per participation and an UPDATE per
case. Now one UPDATE per statement joins the
statement's changed cases (transition tables), and the copy trigger skips
writes made by a trigger (the push already writes the case's own values);
every write from a session still copies. PostgreSQL only: SQLite (the demo)
keeps 0007's row triggers, which are right, only slower.
"""

from django.db import migrations

POSTGRESQL = [
    "DROP TRIGGER cases_case_push_position ON cases_case",
    "DROP FUNCTION cases_case_push_position()",
    """
    CREATE FUNCTION cases_case_push_positions() RETURNS trigger AS $$
    BEGIN
        UPDATE cases_caseparticipation p
        SET case_updated_at = n.updated_at, case_public_id = n.public_id
        FROM cb_new_cases n JOIN cb_old_cases o ON o.id = n.id
        WHERE p.case_id = n.id
          AND (o.updated_at IS DISTINCT FROM n.updated_at
               OR o.public_id IS DISTINCT FROM n.public_id);
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER cases_case_push_positions
    AFTER UPDATE ON cases_case
    REFERENCING OLD TABLE AS cb_old_cases NEW TABLE AS cb_new_cases
    FOR EACH STATEMENT EXECUTE FUNCTION cases_case_push_positions()
    """,
    "DROP TRIGGER cases_participation_copy_case ON cases_caseparticipation",
    """
    CREATE TRIGGER cases_participation_copy_case
    BEFORE INSERT OR UPDATE ON cases_caseparticipation
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cases_participation_copy_case()
    """,
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER cases_participation_copy_case ON cases_caseparticipation",
    """
    CREATE TRIGGER cases_participation_copy_case
    BEFORE INSERT OR UPDATE ON cases_caseparticipation
    FOR EACH ROW EXECUTE FUNCTION cases_participation_copy_case()
    """,
    "DROP TRIGGER cases_case_push_positions ON cases_case",
    "DROP FUNCTION cases_case_push_positions()",
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
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_participation_case_order")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL}),
            _run({"postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
