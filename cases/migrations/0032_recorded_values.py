"""Each value recorded, its first agency, and whether another agency
recorded it too (`RecordedValue`), kept by a trigger on the identifiers: the
pooled statistics count the values that link agencies among the shared ones
(35,521 of 3.1 million values at 1M cases) instead of grouping four million
identifiers by value (2 s).

The trigger upserts the value's row. Two agencies recording the same value at
once do not miss each other: the second insert waits on the first's
uncommitted row, then updates it. (A per-value advisory lock would do the
same, but takes a slot of the server's lock table per value until commit: a
CSV import creating thousands of wallets in one transaction would run out.)
Rows are never removed: the statistics narrow `shared` down with the
identifiers themselves.
"""

from django.db import migrations, models

UPSERT = """
    INSERT INTO cases_recordedvalue (value_hash, agency_id, shared)
    VALUES (NEW.value_hash, NEW.agency_id, false)
    ON CONFLICT (value_hash) DO UPDATE SET shared = true
    WHERE NOT cases_recordedvalue.shared
      AND cases_recordedvalue.agency_id <> excluded.agency_id
"""

TRIGGERS = {
    "postgresql": [
        f"""
        CREATE FUNCTION cases_identifier_recorded_value() RETURNS trigger AS $$
        BEGIN
            {UPSERT};
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER cases_identifier_recorded_value
        AFTER INSERT OR UPDATE OF value_hash, agency_id ON cases_identifier
        FOR EACH ROW EXECUTE FUNCTION cases_identifier_recorded_value()
        """,
    ],
    "sqlite": [
        f"""
        CREATE TRIGGER cases_identifier_recorded_value_{event}
        AFTER {event_sql} ON cases_identifier
        BEGIN
            {UPSERT};
        END
        """
        for event, event_sql in (
            ("insert", "INSERT"),
            ("update", "UPDATE OF value_hash, agency_id"),
        )
    ],
}

DROP = {
    "postgresql": [
        "DROP TRIGGER cases_identifier_recorded_value ON cases_identifier",
        "DROP FUNCTION cases_identifier_recorded_value()",
    ],
    "sqlite": [
        "DROP TRIGGER cases_identifier_recorded_value_insert",
        "DROP TRIGGER cases_identifier_recorded_value_update",
    ],
}

#: The same statement as `bench.generate.refresh_recorded_values`.
BACKFILL = """
    INSERT INTO cases_recordedvalue (value_hash, agency_id, shared)
    SELECT value_hash, MIN(agency_id), MIN(agency_id) < MAX(agency_id)
    FROM cases_identifier GROUP BY value_hash
"""


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0031_identifier_case_copies")]

    operations = [
        migrations.CreateModel(
            name="RecordedValue",
            fields=[
                (
                    "value_hash",
                    models.BinaryField(
                        editable=False, max_length=32, primary_key=True, serialize=False
                    ),
                ),
                ("agency_id", models.BigIntegerField(editable=False)),
                ("shared", models.BooleanField(default=False, editable=False)),
            ],
            options={
                "verbose_name": "recorded value",
                "verbose_name_plural": "recorded values",
                "indexes": [
                    models.Index(
                        condition=models.Q(("shared", True)),
                        fields=["value_hash"],
                        name="value_shared",
                    )
                ],
            },
        ),
        migrations.RunPython(
            _run({"postgresql": [BACKFILL], "sqlite": [BACKFILL]}), migrations.RunPython.noop
        ),
        migrations.RunPython(_run(TRIGGERS), _run(DROP)),
    ]
