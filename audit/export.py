"""CSV export of audit events (admin action and API), streamed row by row."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from config.spreadsheets import safe_cell

from .models import AuditAction
from .services import record

COLUMNS = (
    "seq",
    "occurred_at",
    "actor_label",
    "agency_code",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "reason",
    "changes",
    "ip",
    "request_id",
    "prev_hash",
    "hash",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if isinstance(value, dict):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return safe_cell(value)


def csv_lines(queryset: QuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in queryset.order_by("seq").values_list(*COLUMNS).iterator(chunk_size=2000):
        yield writer.writerow([_cell(v) for v in row])


def csv_response(queryset: QuerySet, *, actor) -> StreamingHttpResponse:
    """Stream `queryset` (already gated) as CSV; the export itself is audited."""
    record(
        action=AuditAction.EXPORT,
        actor=actor,
        object_type="audit.auditevent",
        changes={"rows": queryset.count()},
    )
    name = f"audit-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(csv_lines(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
