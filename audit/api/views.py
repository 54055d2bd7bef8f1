"""`/api/v1/audit-events/`: an agency administrator's view of their agency's trail.

Read-only. Newest first, cursor-paginated on the chain sequence; filters by
actor, object, action, outcome and time; `export/` streams the same
selection as CSV (and the export is itself audited).
"""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from config.api.base import GatedViewSet, ListMixin
from config.api.filters import DateTimeFilter
from config.api.pagination import page_size_from
from gate import port
from gate.roles import Role

from ..export import csv_response
from ..models import AuditAction, AuditEvent, AuditOutcome


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)
    agency = serializers.CharField(source="agency_code", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "actor",
            "agency",
            "action",
            "object_type",
            "object_id",
            "changes",
            "outcome",
            "reason",
            "ip",
            "request_id",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class AuditEventFilter(filters.FilterSet):
    actor = filters.CharFilter(field_name="actor_label", help_text="Username of the actor.")
    action = filters.MultipleChoiceFilter(choices=AuditAction.choices)
    outcome = filters.MultipleChoiceFilter(choices=AuditOutcome.choices)
    object_type = filters.CharFilter(help_text="e.g. cases.case, cases.document")
    object_id = filters.CharFilter(help_text="The object's public id.")
    request_id = filters.CharFilter()
    occurred_after = DateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = DateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields: list[str] = []


class NewestFirst(CursorPagination):
    ordering = "-seq"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int:
        """As every list: a bad `page_size` is a 400, not the default."""
        return page_size_from(
            request, self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )

    def decode_cursor(self, request: Request):
        """A malformed cursor is the client's error (400 on the field), not a missing page."""
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {self.cursor_query_param: [_("Invalid cursor.")]}
            ) from None


@extend_schema_view(
    list=extend_schema(summary="Your agency's audit trail, newest first (agency administrators)")
)
class AuditEventViewSet(ListMixin[AuditEvent], GatedViewSet[AuditEvent]):
    """The tamper-evident audit log, as far as your agency's administrators may read it."""

    selector = "visible_audit_events"
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = NewestFirst
    filtered_actions = ("export",)

    @extend_schema(
        summary="Export the filtered trail as CSV", responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    @action(detail=False, methods=["get"])
    def export(self, request: Request, *args: Any, **kwargs: Any):
        membership = port.membership_of(request.user)
        if membership is None or membership.role != Role.AGENCY_ADMIN:
            raise exceptions.PermissionDenied()
        return csv_response(self.filter_queryset(self.get_queryset()), actor=request.user)
