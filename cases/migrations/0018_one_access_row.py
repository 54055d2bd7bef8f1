"""One source of truth for access: the guardian grant row.

A grant now carries its expiry and the case's position in its agency's list,
so the gate reads one table; the participation is only the record of the
share. This migration is also the one place where the position is kept: the
triggers below (PostgreSQL and SQLite) replace those of migrations 0007, 0008,
0010 and 0011, which kept copies on the participations.
"""

import django.utils.timezone
from django.db import migrations, models

DROP_OLD = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS cases_case_push_positions ON cases_case",
        "DROP FUNCTION IF EXISTS cases_case_push_positions()",
        "DROP FUNCTION IF EXISTS cases_push_positions_of(bigint[])",
        "DROP TRIGGER IF EXISTS cases_participation_recopy_case ON cases_caseparticipation",
        "DROP TRIGGER IF EXISTS cases_participation_copy_case ON cases_caseparticipation",
        "DROP FUNCTION IF EXISTS cases_participation_copy_case()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS cases_participation_copy_case_ins",
        "DROP TRIGGER IF EXISTS cases_participation_copy_case_upd",
        "DROP TRIGGER IF EXISTS cases_case_push_position",
    ],
}

POSITION = {
    # A grant takes its position when written; a change to the case's
    # `updated_at` moves every grant of the case (an index probe on
    # content_object_id per changed case).
    "postgresql": [
        """
        CREATE FUNCTION cases_grant_position() RETURNS trigger AS $$
        BEGIN
            SELECT GREATEST(c.updated_at, NEW.granted_at), c.public_id
            INTO NEW.list_updated_at, NEW.list_public_id
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
                list_public_id = NEW.public_id
            WHERE g.content_object_id = NEW.id;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER cases_case_moves_grants
        AFTER UPDATE OF updated_at, public_id ON cases_case
        FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at
                           OR OLD.public_id IS DISTINCT FROM NEW.public_id)
        EXECUTE FUNCTION cases_case_moves_grants()
        """,
    ],
    # SQLite (the demo): datetimes are ISO text in UTC, so max() compares
    # them in time order.
    "sqlite": [
        """
        CREATE TRIGGER cases_grant_position AFTER INSERT ON cases_casegroupobjectpermission
        BEGIN
            UPDATE cases_casegroupobjectpermission SET
                list_updated_at = max(
                    (SELECT updated_at FROM cases_case WHERE id = NEW.content_object_id),
                    NEW.granted_at),
                list_public_id = (SELECT public_id FROM cases_case WHERE id = NEW.content_object_id)
            WHERE id = NEW.id;
        END
        """,
        """
        CREATE TRIGGER cases_case_moves_grants AFTER UPDATE OF updated_at, public_id ON cases_case
        BEGIN
            UPDATE cases_casegroupobjectpermission
            SET list_updated_at = max(NEW.updated_at, granted_at), list_public_id = NEW.public_id
            WHERE content_object_id = NEW.id;
        END
        """,
    ],
}

DROP_NEW = {
    "postgresql": [
        "DROP TRIGGER cases_case_moves_grants ON cases_case",
        "DROP FUNCTION cases_case_moves_grants()",
        "DROP TRIGGER cases_grant_position ON cases_casegroupobjectpermission",
        "DROP FUNCTION cases_grant_position()",
    ],
    "sqlite": [
        "DROP TRIGGER cases_case_moves_grants",
        "DROP TRIGGER cases_grant_position",
    ],
}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


def backfill(apps, schema_editor):
    """Each existing grant takes the expiry and time of its agency's open
    participation; the trigger then gives it its position."""
    Grant = apps.get_model("cases", "CaseGroupObjectPermission")
    Participation = apps.get_model("cases", "CaseParticipation")
    Agency = apps.get_model("agencies", "Agency")
    open_share = Participation.objects.filter(
        case_id=models.OuterRef("content_object_id"),
        agency_id=models.Subquery(
            Agency.objects.filter(group_id=models.OuterRef(models.OuterRef("group_id"))).values(
                "pk"
            )[:1]
        ),
        revoked_at__isnull=True,
    )
    Grant.objects.update(
        expires_at=models.Subquery(open_share.values("expires_at")[:1]),
        granted_at=models.functions.Coalesce(
            models.Subquery(open_share.values("granted_at")[:1]), django.utils.timezone.now()
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0002_idempotency_records"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("cases", "0017_case_tombstone"),
    ]

    operations = [
        migrations.RunPython(_run(DROP_OLD), migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="caseparticipation",
            name="participation_open_agency_case",
        ),
        migrations.RemoveIndex(
            model_name="caseparticipation",
            name="participation_agency_order",
        ),
        migrations.RemoveField(model_name="caseparticipation", name="case_public_id"),
        migrations.RemoveField(model_name="caseparticipation", name="case_updated_at"),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="expires at"),
        ),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="granted_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="granted at"
            ),
        ),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="list_public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="list_updated_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(_run(POSITION), _run(DROP_NEW)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="casegroupobjectpermission",
            index=models.Index(
                fields=["group", "permission", "list_updated_at", "list_public_id"],
                include=["expires_at"],
                name="case_grant_list_order",
            ),
        ),
    ]
