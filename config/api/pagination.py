"""Keyset ("cursor") pagination that a partner system can sync with.

Rows are ordered by (`sync_field`, `public_id`) and a page continues strictly
after the last row of the previous one, so no COUNT(*) and no OFFSET: the
cost of a page does not grow with the position, and concurrent inserts or
updates never shift rows between pages.

Why a *horizon*: `updated_at` is written by the application inside a
transaction, which commits later. A reader that has moved its cursor past
time T would never see a row stamped T-ε whose transaction commits after the
read. So in the sync order (`sync_field` ascending) a page only contains rows
stamped before the horizon:

    horizon = min(now, start of the oldest open transaction in this database)
              - API_SYNC_CLOCK_MARGIN

Every service stamps `updated_at` after its transaction has started (its first
query is the permission check), so every row that can still be committed
carries a stamp >= that oldest start: it lies beyond the horizon and will be
returned by a later poll, in order, after the rows already seen. The margin
covers clock skew between the application servers and PostgreSQL. A row that
changes again gets a new stamp and reappears further on: the feed is "latest
state of every changed row", never a missed one. On SQLite (development
only) the horizon is `now - margin`.

Pages carry `next` (null when caught up) and `resume`: the link to store and
poll later, which continues after the last row received.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

_OLDEST_TRANSACTION_SQL = """
SELECT LEAST(clock_timestamp(), MIN(xact_start))
FROM pg_stat_activity
WHERE datname = current_database()
  AND backend_type = 'client backend'
  AND pid <> pg_backend_pid()
  AND xact_start IS NOT NULL
"""


def sync_horizon(using: str = "default") -> dt.datetime:
    """The instant before which every row that will ever be committed already is."""
    margin = dt.timedelta(seconds=settings.API_SYNC_CLOCK_MARGIN)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return timezone.now() - margin
    with connection.cursor() as cursor:
        cursor.execute(_OLDEST_TRANSACTION_SQL)
        (oldest,) = cursor.fetchone()
    return oldest - margin


def _read(row: Any, column: str) -> Any:
    """A column of a row read as an object or, for lists shaped with
    `.values()`, as a dict."""
    return row[column] if isinstance(row, dict) else getattr(row, column)


class InvalidCursor(exceptions.ValidationError):
    pass


def page_size_from(request, param: str, *, default: int, maximum: int) -> int:
    """The requested page size; anything but a whole number from 1 to
    `maximum` is a 400 on the parameter (never silently the default)."""
    raw = request.query_params.get(param)
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= maximum:
        raise exceptions.ValidationError(
            {param: [_("Give a whole number from 1 to %(max)d.") % {"max": maximum}]}
        )
    return size


class SyncCursorPagination(BasePagination):
    """Keyset pagination on (`view.sync_field`, public_id); see the module docstring."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    ordering_query_param = "ordering"

    def __init__(self) -> None:
        self.next_position: tuple[str, Any, str] | None = None
        self.resume_position: tuple[str, Any, str] | None = None

    # --- configuration --------------------------------------------------------

    def orderings(self, view) -> list[str]:
        fields = [view.sync_field, *getattr(view, "extra_ordering_fields", ())]
        return [o for f in fields for o in (f, f"-{f}")]

    def get_ordering(self, request, view) -> str:
        value = request.query_params.get(self.ordering_query_param, view.sync_field)
        if value not in self.orderings(view):
            raise exceptions.ValidationError(
                {self.ordering_query_param: [_("Unknown ordering.")]}, code="invalid"
            )
        return value

    def get_page_size(self, request) -> int:
        return page_size_from(
            request,
            self.page_size_query_param,
            default=settings.API_PAGE_SIZE,
            maximum=settings.API_MAX_PAGE_SIZE,
        )

    # --- cursor encoding ------------------------------------------------------

    @staticmethod
    def encode_cursor(ordering: str, value: Any, public_id: str) -> str:
        if isinstance(value, dt.datetime):
            typed = ["dt", value.isoformat()]
        elif isinstance(value, dt.date):
            typed = ["d", value.isoformat()]
        else:
            typed = ["s", str(value)]
        raw = json.dumps({"o": ordering, "v": typed, "id": str(public_id)})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _decode_value(typed: Any) -> Any:
        kind, text = typed
        if kind == "dt":
            value = parse_datetime(text)
            if value is None or timezone.is_naive(value):
                raise ValueError
            return value
        if kind == "d":
            value = parse_date(text)
            if value is None:
                raise ValueError
            return value
        if kind == "s" and isinstance(text, str):
            return text
        raise ValueError

    def decode_cursor(self, request, ordering: str) -> tuple[Any, uuid.UUID] | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            if data["o"] != ordering:
                raise ValueError
            value = self._decode_value(data["v"])
            public_id = uuid.UUID(data["id"])
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
            raise exceptions.ValidationError(
                {self.cursor_query_param: [_("Invalid cursor.")]}
            ) from None
        return value, public_id

    # --- paging -----------------------------------------------------------------

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list[Any]:
        self.request = request
        ordering = self.get_ordering(request, view)
        page_size = self.get_page_size(request)
        field = ordering.lstrip("-")
        descending = ordering.startswith("-")
        position = self.decode_cursor(request, ordering)
        # A view may name other columns holding the same values, better
        # indexed for its queryset (the case list: `access.in_list_order`).
        key_columns = getattr(view, "keyset_columns", None)
        column, id_column = key_columns(field) if key_columns else (field, "public_id")

        if position is not None:
            value, public_id = position
            op = "lt" if descending else "gt"
            queryset = queryset.filter(
                Q(**{f"{column}__{op}": value})
                | Q(**{column: value, f"{id_column}__{op}": public_id})
            )
        if not descending and field == view.sync_field:
            queryset = queryset.filter(**{f"{column}__lt": sync_horizon(queryset.db)})
        prefix = "-" if descending else ""
        rows = list(queryset.order_by(f"{prefix}{column}", f"{prefix}{id_column}")[: page_size + 1])

        has_next = len(rows) > page_size
        rows = rows[:page_size]
        self.ordering = ordering
        if rows:
            last = rows[-1]
            # From the columns paged on: a view's keyset columns may hold a
            # position other than the field's value (the case list: a case
            # shared after its last change lies at the share).
            last_position = (ordering, _read(last, column), str(_read(last, id_column)))
            self.next_position = last_position if has_next else None
            self.resume_position = last_position
        else:
            self.next_position = None
            self.resume_position = (ordering, position[0], str(position[1])) if position else None
        return rows

    def _link(self, position) -> str:
        url = self.request.build_absolute_uri()
        if position is None:
            return remove_query_param(url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, self.encode_cursor(*position))

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            OrderedDict(
                [
                    ("next", self._link(self.next_position) if self.next_position else None),
                    ("resume", self._link(self.resume_position)),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "resume", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "The next page; null when you have caught up.",
                },
                "resume": {
                    "type": "string",
                    "format": "uri",
                    "description": (
                        "Store this and poll it later: it continues after the last row "
                        "of this page (sync ordering)."
                    ),
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` or `resume` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Rows per page (default {settings.API_PAGE_SIZE}, "
                    f"at most {settings.API_MAX_PAGE_SIZE})."
                ),
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": settings.API_MAX_PAGE_SIZE,
                },
            },
            {
                "name": self.ordering_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Default `{view.sync_field}` (the sync order: rows changed in the last "
                    "seconds appear on the next poll, so none is ever skipped)."
                ),
                "schema": {"type": "string", "enum": self.orderings(view)},
            },
        ]
