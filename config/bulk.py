"""Writing many rows in one statement, without building a model instance per row.

`insert_rows` is what the writers at agency scale use (a webhook fan-out to
1,250 users, sharing 10,000 cases with one agency): Django's `bulk_create`
builds and prepares a model instance per row, which costs more than the
INSERT itself at that size, and cannot say which rows `ignore_conflicts`
skipped.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.db.models import F, Lookup

#: Bind parameters per SQLite statement stay under its limit (32,766).
_SQLITE_MAX_PARAMS = 30_000


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    same: dict[str, Any] | None = None,
    unique: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple]:
    """INSERT `rows` (values of `columns`, in order; `same` holds the columns
    equal in every row) into `model`'s table in one statement (SQLite: one per
    a few thousand rows); with `unique`, rows whose unique key exists are
    skipped; return the `returning` columns of the rows this call inserted,
    and of no others, in the order of `rows`.

    Every column without a database default must be given: nothing here
    applies the model's Python defaults. On PostgreSQL each varying column
    travels as one JSON array (`INSERT ... SELECT ... FROM ROWS FROM`, each
    element cast to the column's type) and each constant once, so the
    statement and its parameters stay small whatever the number of rows.
    ON CONFLICT DO NOTHING RETURNING is PostgreSQL's and SQLite's (3.35+).
    """
    if not rows:
        return []
    same = same or {}
    opts = model._meta
    qn = connection.ops.quote_name
    fields = [opts.get_field(c) for c in columns]
    constants = [(opts.get_field(c), v) for c, v in same.items()]
    if connection.vendor == "postgresql":
        fields, rows, constants = _columns_the_same_as_constants(fields, rows, constants)
    names = ", ".join(qn(f.column) for f in [*(f for f, _ in constants), *fields])
    head = f"INSERT INTO {qn(opts.db_table)} ({names}) "
    tail = ""
    if unique:
        tail += f" ON CONFLICT ({', '.join(qn(c) for c in unique)}) DO NOTHING"
    if returning:
        tail += f" RETURNING {', '.join(qn(opts.get_field(c).column) for c in returning)}"
    # Only quoted table and column names and the fields' own type names are
    # spliced in; every value is bound.
    if connection.vendor == "postgresql":
        scalars = "".join(f"{_pg_param(f)}, " for f, _ in constants)
        sources = ", ".join(_pg_source(f) for f in fields)
        selected = ", ".join(_pg_column(f, f"u.c{i}") for i, f in enumerate(fields))
        aliases = ", ".join(f"c{i}" for i in range(len(fields)))
        params = [_pg_constant(f, v) for f, v in constants]
        params += [
            _pg_column_value(f, column)
            for f, column in zip(fields, zip(*rows, strict=True), strict=True)
        ]
        sql = f"{head}SELECT {scalars}{selected} FROM ROWS FROM ({sources}) AS u({aliases}){tail}"  # noqa: S608  # nosec B608
        statements = [(sql, params)]
    else:
        fixed = [f.get_db_prep_save(_plain(v), connection) for f, v in constants]
        width = len(constants) + len(fields)
        per_statement = max(1, _SQLITE_MAX_PARAMS // width)
        row_sql = "(" + ", ".join(["%s"] * width) + ")"
        statements = [
            (
                f"{head}VALUES {', '.join([row_sql] * len(chunk))}{tail}",
                [
                    value
                    for row in chunk
                    for value in (
                        *fixed,
                        *(
                            f.get_db_prep_save(_plain(v), connection)
                            for f, v in zip(fields, row, strict=True)
                        ),
                    )
                ],
            )
            for chunk in (rows[i : i + per_statement] for i in range(0, len(rows), per_statement))
        ]
    result: list[tuple] = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if returning:
                result += cursor.fetchall()
    return result


class _AnyOf(Lookup):
    """`column = ANY('{1,2,…}'::bigint[])`: a list of integer ids as one
    parameter. Django's `__in` sends one parameter per id, which the driver
    splices into the statement one by one in Python: slow for the
    thousands of ids of a bulk share."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            literal = "{" + ",".join(map(str, self.rhs)) + "}"
            return f"{lhs} = ANY(%s::bigint[])", (*lhs_params, literal)
        marks = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({marks})", (*lhs_params, *self.rhs)


def ids_in(field: str, ids) -> Lookup:
    """A filter: `field` (an integer id column) is one of `ids`. Refuses
    anything but integers, since they travel as the text of one array."""
    ids = tuple(ids)
    if not all(type(i) is int for i in ids):
        raise TypeError("ids_in takes integer ids only")
    return _AnyOf(F(field), ids)


def _columns_the_same_as_constants(fields, rows, constants):
    """Move the varying columns that hold one value in every row to the
    constants: sent once instead of as an array the driver dumps element by
    element in Python (an audit event's actor, action, object type…)."""
    columns = list(zip(*rows, strict=True))
    varying = []
    constants = list(constants)
    for index, (field, column) in enumerate(zip(fields, columns, strict=True)):
        first = column[0]
        # (C-speed tests: this runs over every value of 10,000-row writes.)
        if (
            not _is_json(field)
            and set(map(type, column)) == {type(first)}
            and column.count(first) == len(column)
        ):
            constants.append((field, first))
        else:
            varying.append(index)
    if len(varying) == len(fields) or not varying:
        # Nothing moved, or nothing would vary: ROWS FROM needs one array to
        # give the number of rows.
        return fields, rows, constants[: len(constants) - (len(fields) - len(varying))]
    return (
        [fields[i] for i in varying],
        [tuple(row[i] for i in varying) for row in rows],
        constants,
    )


def _plain(value: Any) -> Any:
    """Choices members as the plain strings the driver knows how to send."""
    return str(value) if isinstance(value, enum.Enum) else value


def _is_json(field: models.Field) -> bool:
    return isinstance(field, models.JSONField)


# PostgreSQL: each column is one parameter, one JSON array document, read
# back in lockstep by ROWS FROM (row order kept) and cast to the column's
# type. Not a typed array (`%s::uuid[]`): the driver would quote every element
# of every array in Python (a second per 10,000 audit events), where a JSON
# document is written by the C encoder and sent as one string.


def _pg_source(field: models.Field) -> str:
    if _is_json(field):
        return "jsonb_array_elements(%s::jsonb)"
    return "jsonb_array_elements_text(%s::jsonb)"


def _pg_column(field: models.Field, expression: str) -> str:
    # Python's None is SQL NULL in a JSONField, as Django writes it.
    if _is_json(field):
        return f"NULLIF({expression}, 'null'::jsonb)"
    return f"{expression}::{field.db_type(connection)}"


def _pg_column_value(field: models.Field, column: Sequence[Any]) -> Any:
    if _is_json(field):
        return json.dumps(list(column), cls=field.encoder)
    return json.dumps(list(column), default=_as_text)


def _as_text(value: Any) -> str:
    """How PostgreSQL reads the value as text (UUIDs, times, decimals)."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    raise TypeError(f"insert_rows cannot send {type(value).__name__} values")


def _pg_param(field: models.Field) -> str:
    return f"%s::{field.db_type(connection)}"


def _pg_constant(field: models.Field, value: Any) -> Any:
    if _is_json(field):
        return None if value is None else json.dumps(value, cls=field.encoder)
    return _plain(value)
