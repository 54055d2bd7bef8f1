"""The columns investigators filter the case list by, copied onto the grant
row beside the list position, by the same two triggers (which replace those
of 0018: this is again the one place that keeps them). A filtered page is
then read from the agency's index, entries filtered in the index, instead of
visiting every case walked past. And the rule asked of one case is answered from an
index alone, for the child lists that ask it of each row they walk.
"""

import importlib

from django.db import migrations, models

TRIGGERS = {
    "postgresql": [
        """
        CREATE FUNCTION cases_grant_position() RETURNS trigger AS $$
        BEGIN
            SELECT GREATEST(c.updated_at, NEW.granted_at), c.public_id,
                   c.status, c.handling_code, c.lead_agency_id
            INTO NEW.list_updated_at, NEW.list_public_id,
                 NEW.list_status, NEW.list_handling_code, NEW.list_lead_agency_id
            FROM cases_case c WHERE c.id = NEW.content_object_id;
            RETURN NEW;
        END
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER cases_grant_position
        BEFORE INSERT OR UPDATE OF content_object_id, granted_at ON cases_casegroupobjectpermission
        FOR EACH ROW EXECUTE FUNCTION cases_grant_position()
        """,
        """
        CREATE FUNCTION cases_case_moves_grants() RETURNS trigger AS $$
        BEGIN
            UPDATE cases_casegroupobjectpermission g
            SET list_updated_at = GREATEST(NEW.updated_at, g.granted_at),
                list_public_id = NEW.public_id,
                list_status = NEW.status,
                list_handling_code = NEW.handling_code,
                list_lead_agency_id = NEW.lead_agency_id
            WHERE g.content_object_id = NEW.id;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER cases_case_moves_grants
        AFTER UPDATE OF updated_at, public_id, status, handling_code, lead_agency_id ON cases_case
        FOR EACH ROW WHEN ((OLD.updated_at, OLD.public_id, OLD.status, OLD.handling_code,
                            OLD.lead_agency_id)
                           IS DISTINCT FROM
                           (NEW.updated_at, NEW.public_id, NEW.status, NEW.handling_code,
                            NEW.lead_agency_id))
        EXECUTE FUNCTION cases_case_moves_grants()
        """,
    ],
    "sqlite": [
        """
        CREATE TRIGGER cases_grant_position AFTER INSERT ON cases_casegroupobjectpermission
        BEGIN
            UPDATE cases_casegroupobjectpermission SET
                list_updated_at = max(
                    (SELECT updated_at FROM cases_case WHERE id = NEW.content_object_id),
                    NEW.granted_at),
                list_public_id =
                    (SELECT public_id FROM cases_case WHERE id = NEW.content_object_id),
                list_status = (SELECT status FROM cases_case WHERE id = NEW.content_object_id),
                list_handling_code =
                    (SELECT handling_code FROM cases_case WHERE id = NEW.content_object_id),
                list_lead_agency_id =
                    (SELECT lead_agency_id FROM cases_case WHERE id = NEW.content_object_id)
            WHERE id = NEW.id;
        END
        """,
        """
        CREATE TRIGGER cases_case_moves_grants
        AFTER UPDATE OF updated_at, public_id, status, handling_code, lead_agency_id ON cases_case
        BEGIN
            UPDATE cases_casegroupobjectpermission
            SET list_updated_at = max(NEW.updated_at, granted_at), list_public_id = NEW.public_id,
                list_status = NEW.status, list_handling_code = NEW.handling_code,
                list_lead_agency_id = NEW.lead_agency_id
            WHERE content_object_id = NEW.id;
        END
        """,
    ],
}

BACKFILL = {
    "postgresql": [
        """
        UPDATE cases_casegroupobjectpermission g
        SET list_status = c.status, list_handling_code = c.handling_code,
            list_lead_agency_id = c.lead_agency_id
        FROM cases_case c WHERE c.id = g.content_object_id
        """
    ],
    "sqlite": [
        """
        UPDATE cases_casegroupobjectpermission SET
            list_status = (SELECT status FROM cases_case WHERE id = content_object_id),
            list_handling_code =
                (SELECT handling_code FROM cases_case WHERE id = content_object_id),
            list_lead_agency_id =
                (SELECT lead_agency_id FROM cases_case WHERE id = content_object_id)
        """
    ],
}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


# 0018's triggers go before the columns are added (SQLite rebuilds the table
# to add one, which a trigger naming it forbids) and come back on reversal.
_0018 = importlib.import_module("cases.migrations.0018_one_access_row")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("cases", "0019_share_proposal"),
    ]

    operations = [
        migrations.RunPython(_run(_0018.DROP_NEW), _run(_0018.POSITION)),
        migrations.RemoveIndex(
            model_name="casegroupobjectpermission",
            name="case_grant_list_order",
        ),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="list_handling_code",
            field=models.CharField(db_default="", editable=False, max_length=12),
        ),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="list_lead_agency_id",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="list_status",
            field=models.CharField(db_default="", editable=False, max_length=12),
        ),
        migrations.RunPython(_run(TRIGGERS), _run(_0018.DROP_NEW)),
        migrations.RunPython(_run(BACKFILL), migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="casegroupobjectpermission",
            index=models.Index(
                fields=["group", "permission", "list_updated_at", "list_public_id"],
                include=(
                    "expires_at",
                    "content_object",
                    "list_status",
                    "list_handling_code",
                    "list_lead_agency_id",
                ),
                name="case_grant_list_order",
            ),
        ),
        migrations.AddIndex(
            model_name="casegroupobjectpermission",
            index=models.Index(
                fields=["group", "permission", "content_object"],
                include=("expires_at",),
                name="case_grant_probe",
            ),
        ),
    ]
