"""One-row lookups run on every request, compiled by the ORM once per process.

Authentication reads the same row shape on every request (a token, or a
session's user, with the membership and agency): building and compiling that
four-table SELECT was most of a trivial authenticated request's CPU
(bench/request_cpu.py). `OneRowLookup` keeps the ORM's own SQL text for it,
compiled once per process and database alias with a placeholder for the one
value that varies, and turns the row into model instances exactly as
`QuerySet.__iter__` does (`ModelIterable`: the same `from_db` and related
populators, so the related objects are cached on the result).

Nothing read from the database is kept: the text names only tables and
columns, the value is its one parameter (checked when compiled, prepared by
its field as a lookup would), and every row is read afresh by each call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators


class OneRowLookup:
    """`build(value)` (a queryset of at most one row, unordered) as
    `next(iter(build(value)), None)`, for a value compared to `field`."""

    def __init__(self, build: Callable[[Any], QuerySet], field: Field, placeholder: Any) -> None:
        self._build, self._field, self._placeholder = build, field, placeholder
        self._model = field.model
        self._compiled: dict[str, tuple] = {}

    def _compile(self, alias: str) -> tuple:
        connection = connections[alias]
        compiler = self._build(self._placeholder).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        expected = self._field.get_db_prep_value(self._placeholder, connection, prepared=False)
        if list(params) != [expected]:
            raise RuntimeError(f"{self._model.__name__} lookup: unexpected parameters {params!r}")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        converters = compiler.get_converters([column[0] for column in select])
        populators = get_related_populators(klass_info, select, alias)
        return sql, klass_info["model"], start, end, init_list, converters, populators

    def get(self, value: Any) -> Model | None:
        alias = router.db_for_read(self._model)
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = self._compile(alias)
        sql, model, start, end, init_list, converters, populators = compiled
        connection = connections[alias]
        param = self._field.get_db_prep_value(value, connection, prepared=False)
        with connection.cursor() as cursor:
            cursor.execute(sql, [param])
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            row = list(row)
            for position, (functions, expression) in converters.items():
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
        obj = model.from_db(alias, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        return obj
