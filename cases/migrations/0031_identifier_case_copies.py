"""The case's lead agency and `discoverable`, copied onto each identifier by
triggers (as the grant row carries the case's list columns, 0021), and an
index of the discoverable identifiers by value and agency that carries them:
the pooled statistics count the values held by two contributing agencies
from that index alone, where they joined four million identifiers to a
million cases and spilled the hash to disk (5.4 s at 1M cases).
"""

from django.db import migrations, models

TRIGGERS = {
    "postgresql": [
        """
        CREATE FUNCTION cases_identifier_case_copies() RETURNS trigger AS $$
        BEGIN
            SELECT c.lead_agency_id, c.discoverable
            INTO NEW.case_lead_agency_id, NEW.case_discoverable
            FROM cases_case c WHERE c.id = NEW.case_id;
            RETURN NEW;
        END
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER cases_identifier_case_copies
        BEFORE INSERT OR UPDATE OF case_id, case_lead_agency_id, case_discoverable
        ON cases_identifier
        FOR EACH ROW EXECUTE FUNCTION cases_identifier_case_copies()
        """,
        """
        CREATE FUNCTION cases_case_moves_identifiers() RETURNS trigger AS $$
        BEGIN
            UPDATE cases_identifier
            SET case_lead_agency_id = NEW.lead_agency_id, case_discoverable = NEW.discoverable
            WHERE case_id = NEW.id;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER cases_case_moves_identifiers
        AFTER UPDATE OF lead_agency_id, discoverable ON cases_case
        FOR EACH ROW WHEN ((OLD.lead_agency_id, OLD.discoverable)
                           IS DISTINCT FROM (NEW.lead_agency_id, NEW.discoverable))
        EXECUTE FUNCTION cases_case_moves_identifiers()
        """,
    ],
    "sqlite": [
        """
        CREATE TRIGGER cases_identifier_case_copies AFTER INSERT ON cases_identifier
        BEGIN
            UPDATE cases_identifier SET
                case_lead_agency_id = (SELECT lead_agency_id FROM cases_case WHERE id = NEW.case_id),
                case_discoverable = (SELECT discoverable FROM cases_case WHERE id = NEW.case_id)
            WHERE id = NEW.id;
        END
        """,
        """
        CREATE TRIGGER cases_identifier_case_moves
        AFTER UPDATE OF case_id ON cases_identifier
        BEGIN
            UPDATE cases_identifier SET
                case_lead_agency_id = (SELECT lead_agency_id FROM cases_case WHERE id = NEW.case_id),
                case_discoverable = (SELECT discoverable FROM cases_case WHERE id = NEW.case_id)
            WHERE id = NEW.id;
        END
        """,
        """
        CREATE TRIGGER cases_case_moves_identifiers
        AFTER UPDATE OF lead_agency_id, discoverable ON cases_case
        BEGIN
            UPDATE cases_identifier
            SET case_lead_agency_id = NEW.lead_agency_id, case_discoverable = NEW.discoverable
            WHERE case_id = NEW.id;
        END
        """,
    ],
}

DROP = {
    "postgresql": [
        "DROP TRIGGER cases_case_moves_identifiers ON cases_case",
        "DROP FUNCTION cases_case_moves_identifiers()",
        "DROP TRIGGER cases_identifier_case_copies ON cases_identifier",
        "DROP FUNCTION cases_identifier_case_copies()",
    ],
    "sqlite": [
        "DROP TRIGGER cases_case_moves_identifiers",
        "DROP TRIGGER cases_identifier_case_moves",
        "DROP TRIGGER cases_identifier_case_copies",
    ],
}

BACKFILL = {
    "postgresql": [
        """
        UPDATE cases_identifier i
        SET case_lead_agency_id = c.lead_agency_id, case_discoverable = c.discoverable
        FROM cases_case c WHERE c.id = i.case_id
        """
    ],
    "sqlite": [
        """
        UPDATE cases_identifier SET
            case_lead_agency_id = (SELECT lead_agency_id FROM cases_case WHERE id = case_id),
            case_discoverable = (SELECT discoverable FROM cases_case WHERE id = case_id)
        """
    ],
}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0030_deconfliction_by_agency")]

    operations = [
        migrations.AddField(
            model_name="identifier",
            name="case_discoverable",
            field=models.BooleanField(db_default=True, editable=False),
        ),
        migrations.AddField(
            model_name="identifier",
            name="case_lead_agency_id",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(_run(BACKFILL), migrations.RunPython.noop),
        migrations.RunPython(_run(TRIGGERS), _run(DROP)),
        migrations.AddIndex(
            model_name="identifier",
            index=models.Index(
                condition=models.Q(("case_discoverable", True)),
                fields=["value_hash", "agency"],
                include=("case_lead_agency_id", "created_at"),
                name="identifier_linking",
            ),
        ),
    ]
