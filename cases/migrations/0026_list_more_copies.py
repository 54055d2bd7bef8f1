"""More of the case copied onto its grant rows, beside the copies of 0021 and
by the same two triggers (which replace 0021's: this is again the one place
that keeps them): its crime types, its creation time and its own last change
(the list position is the later of that and the share). The list's
`crime_type`, `created_after`/`_before` and `updated_after`/`_before` filters
read them in the agency's list-order index, which now carries them, instead
of fetching the case of each entry walked past; and the list by creation
(`ordering=created_at`) is read from an index of the agency's grants keyed by
the copy of the creation time, instead of walking every agency's cases.
"""

import importlib

from django.db import migrations, models

TRIGGERS = {
    "postgresql": [
        """
        CREATE FUNCTION cases_grant_position() RETURNS trigger AS $$
        BEGIN
            SELECT GREATEST(c.updated_at, NEW.granted_at), c.public_id,
                   c.status, c.handling_code, c.lead_agency_id,
                   c.crime_types, c.created_at, c.updated_at
            INTO NEW.list_updated_at, NEW.list_public_id,
                 NEW.list_status, NEW.list_handling_code, NEW.list_lead_agency_id,
                 NEW.list_crime_types, NEW.list_created_at, NEW.list_case_updated_at
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
                list_lead_agency_id = NEW.lead_agency_id,
                list_crime_types = NEW.crime_types,
                list_created_at = NEW.created_at,
                list_case_updated_at = NEW.updated_at
            WHERE g.content_object_id = NEW.id;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER cases_case_moves_grants
        AFTER UPDATE OF updated_at, public_id, status, handling_code, lead_agency_id,
                        crime_types, created_at ON cases_case
        FOR EACH ROW WHEN ((OLD.updated_at, OLD.public_id, OLD.status, OLD.handling_code,
                            OLD.lead_agency_id, OLD.crime_types, OLD.created_at)
                           IS DISTINCT FROM
                           (NEW.updated_at, NEW.public_id, NEW.status, NEW.handling_code,
                            NEW.lead_agency_id, NEW.crime_types, NEW.created_at))
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
                    (SELECT lead_agency_id FROM cases_case WHERE id = NEW.content_object_id),
                list_crime_types =
                    (SELECT crime_types FROM cases_case WHERE id = NEW.content_object_id),
                list_created_at =
                    (SELECT created_at FROM cases_case WHERE id = NEW.content_object_id),
                list_case_updated_at =
                    (SELECT updated_at FROM cases_case WHERE id = NEW.content_object_id)
            WHERE id = NEW.id;
        END
        """,
        """
        CREATE TRIGGER cases_case_moves_grants
        AFTER UPDATE OF updated_at, public_id, status, handling_code, lead_agency_id,
                        crime_types, created_at ON cases_case
        BEGIN
            UPDATE cases_casegroupobjectpermission
            SET list_updated_at = max(NEW.updated_at, granted_at), list_public_id = NEW.public_id,
                list_status = NEW.status, list_handling_code = NEW.handling_code,
                list_lead_agency_id = NEW.lead_agency_id, list_crime_types = NEW.crime_types,
                list_created_at = NEW.created_at, list_case_updated_at = NEW.updated_at
            WHERE content_object_id = NEW.id;
        END
        """,
    ],
}

# Set-based: one statement over every grant (10.5M rows at 1M cases), the
# list-order index dropped before it and built after it.
BACKFILL = {
    "postgresql": [
        """
        UPDATE cases_casegroupobjectpermission g
        SET list_crime_types = c.crime_types, list_created_at = c.created_at,
            list_case_updated_at = c.updated_at
        FROM cases_case c WHERE c.id = g.content_object_id
        """
    ],
    "sqlite": [
        """
        UPDATE cases_casegroupobjectpermission SET
            list_crime_types = (SELECT crime_types FROM cases_case WHERE id = content_object_id),
            list_created_at = (SELECT created_at FROM cases_case WHERE id = content_object_id),
            list_case_updated_at =
                (SELECT updated_at FROM cases_case WHERE id = content_object_id)
        """
    ],
}



def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


_0018 = importlib.import_module("cases.migrations.0018_one_access_row")
_0021 = importlib.import_module("cases.migrations.0021_list_filter_copies")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0025_created_orders"),
    ]

    operations = [
        # 0021's triggers go first (they name the columns of the table that
        # changes) and come back on reversal.
        migrations.RunPython(_run(_0018.DROP_NEW), _run(_0021.TRIGGERS)),
        migrations.RemoveIndex(
            model_name="casegroupobjectpermission",
            name="case_grant_list_order",
        ),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="list_case_updated_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="list_created_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="list_crime_types",
            field=models.JSONField(editable=False, null=True),
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
                    "list_crime_types",
                    "list_created_at",
                    "list_case_updated_at",
                ),
                name="case_grant_list_order",
            ),
        ),
        migrations.AddIndex(
            model_name="casegroupobjectpermission",
            index=models.Index(
                fields=["group", "permission", "list_created_at", "list_public_id"],
                include=("expires_at", "content_object"),
                name="case_grant_created_order",
            ),
        ),
    ]
