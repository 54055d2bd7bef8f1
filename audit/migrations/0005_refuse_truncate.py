"""Refuse TRUNCATE of the audit tables, for anyone.

Row triggers (0002) do not fire on TRUNCATE, so the whole record could be
wiped with the application's own credentials and no row-level refusal. A
statement-level trigger closes that. The test suite's flush between
transactional tests truncates every table: it switches these triggers off in
its throwaway database only (tests/conftest.py). No-op on SQLite.
"""

from django.db import migrations

TABLES = ("audit_auditevent", "audit_auditcheckpoint", "audit_auditchainhead")


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_fewer_audit_indexes")]

    operations = [migrations.RunPython(install, uninstall)]
