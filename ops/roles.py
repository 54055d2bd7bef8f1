"""The application's database role: it may change case data, and only append
to the audit log.

PostgreSQL's own privilege model is the fence (the triggers of audit 0002 and
0005 are the second one): migrations run as an *owner* role that owns every
table, and web, worker and beat connect as an *app* role that owns nothing,
so it can neither alter a table, nor switch a trigger off, nor grant itself
more. On the audit tables it may read and append (and advance the chain
head), never UPDATE, DELETE or TRUNCATE; everywhere else it has the plain
DML a Django application needs.

`grant_app_role(role)` runs as the owner right after `migrate` (the compose
file's `migrate` service): it resets the role's table privileges to exactly
that, so running it twice changes nothing and a wider grant made by hand is
taken back, and it sets default privileges so that tables a later migration
creates are usable before the next run. PostgreSQL only.
"""

from __future__ import annotations

import re

from django.db import connection, transaction
from psycopg import sql

from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent

DML = ("SELECT", "INSERT", "UPDATE", "DELETE")

# What the app role may do on each audit table. The chain head is one row the
# append path locks and moves forward (`SELECT ... FOR UPDATE` needs UPDATE);
# rewriting it alone is caught by the signed checkpoints (verify_audit).
AUDIT_PRIVILEGES: dict[str, tuple[str, ...]] = {
    AuditEvent._meta.db_table: ("SELECT", "INSERT"),
    AuditCheckpoint._meta.db_table: ("SELECT", "INSERT"),
    AuditChainHead._meta.db_table: ("SELECT", "INSERT", "UPDATE"),
}

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleProblem(Exception):
    """The role named cannot serve as the application's role."""


def role_problem(role: str) -> str:
    """Why `role` must not be the app role here ("" when it may be)."""
    if not _ROLE_NAME.match(role):
        return f"{role!r} is not a plain lower-case PostgreSQL role name"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, "
            "pg_has_role(%s, current_user, 'MEMBER'), "
            "(SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid "
            " AND c.relnamespace = current_schema()::regnamespace) "
            "FROM pg_roles r WHERE rolname = %s",
            [role, role],
        )
        found = cursor.fetchone()
    if found is None:
        return f"role {role} does not exist (create it first: deploy/postgres-init/)"
    superuser, bypass_rls, create_role, create_db, owner_member, owned = found
    if superuser or bypass_rls or create_role or create_db:
        return f"role {role} has superuser, BYPASSRLS, CREATEROLE or CREATEDB"
    if owner_member:
        return f"role {role} is (or is a member of) the owner role running this command"
    if owned:
        return f"role {role} owns {owned} relations in this schema"
    return ""


def grant_app_role(role: str) -> None:
    """Give `role` exactly the application's privileges in the current
    database and schema (see the module docstring). Raises `RoleProblem`."""
    if connection.vendor != "postgresql":
        raise RoleProblem("database roles are PostgreSQL's; this database is not")
    problem = role_problem(role)
    if problem:
        raise RoleProblem(problem)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
    names = {
        "role": sql.Identifier(role),
        "database": sql.Identifier(database),
        "schema": sql.Identifier(schema),
    }
    statements = [
        "GRANT CONNECT ON DATABASE {database} TO {role}",
        "GRANT USAGE ON SCHEMA {schema} TO {role}",
        # Start from nothing, so the result does not depend on the past.
        "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        f"GRANT {', '.join(DML)} ON ALL TABLES IN SCHEMA {{schema}} TO {{role}}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {{schema}} GRANT {', '.join(DML)} "
        "ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            _execute(cursor, sql.SQL(statement).format(**names))
        for table, allowed in AUDIT_PRIVILEGES.items():
            taken = sql.SQL(", ").join(sql.SQL(p) for p in (*DML, "TRUNCATE") if p not in allowed)
            _execute(
                cursor,
                sql.SQL("REVOKE {taken} ON {schema}.{table} FROM {role}").format(
                    taken=taken, table=sql.Identifier(table), **names
                ),
            )


def _execute(cursor, statement: sql.Composable) -> None:
    # Rendered by psycopg (identifiers quoted), then run through Django's cursor.
    cursor.execute(statement.as_string(cursor.connection))
