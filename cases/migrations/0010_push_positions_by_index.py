"""Push case positions through the participation's case index, whatever the
table's size.

Migration 0008's push joined the statement's transition tables to the
participations in one UPDATE. PostgreSQL has no statistics for transition
tables and guesses the join of old and new rows at half a million rows, so
touching many cases (sharing them with one agency, `cases.sharing`) was
planned as a merge join over the whole `case_id` index: every participation
of the database read to find those of the cases touched. The trigger now
gathers the changed case ids first, and a function whose planner settings
allow only index paths updates their participations: the work follows the
cases touched, not the table. PostgreSQL only, as 0008.
"""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE FUNCTION cases_push_positions_of(changed bigint[]) RETURNS void AS $$
        UPDATE cases_caseparticipation p
        SET case_updated_at = c.updated_at, case_public_id = c.public_id
        FROM cases_case c
        WHERE c.id = ANY(changed) AND p.case_id = c.id;
    $$ LANGUAGE sql
    SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
    """,
    """
    CREATE OR REPLACE FUNCTION cases_case_push_positions() RETURNS trigger AS $$
    DECLARE
        changed bigint[];
    BEGIN
        SELECT array_agg(n.id) INTO changed
        FROM cb_new_cases n JOIN cb_old_cases o ON o.id = n.id
        WHERE o.updated_at IS DISTINCT FROM n.updated_at
           OR o.public_id IS DISTINCT FROM n.public_id;
        IF changed IS NOT NULL THEN
            PERFORM cases_push_positions_of(changed);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
]

POSTGRESQL_REVERSE = [
    """
    CREATE OR REPLACE FUNCTION cases_case_push_positions() RETURNS trigger AS $$
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
    "DROP FUNCTION cases_push_positions_of(bigint[])",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_fewer_case_indexes")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL}),
            _run({"postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
