"""The audit trail in the admin: agency administrators read their agency's.

Read-only by construction (no add, change or delete; the table refuses
them anyway); rows come from `cases.access.visible_audit_events`.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.admin_base import GatedModelAdmin
from gate import port
from gate.roles import Role

from .export import csv_response
from .models import AuditEvent

FIELDS = (
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


@admin.register(AuditEvent)
class AuditEventAdmin(GatedModelAdmin):
    selector = "visible_audit_events"
    fields = FIELDS
    readonly_fields = FIELDS
    list_display = (
        "seq",
        "occurred_at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "outcome",
        "ip",
    )
    list_filter = ("action", "outcome", "object_type", "occurred_at")
    search_fields = ("actor_label", "object_id", "request_id")
    date_hierarchy = "occurred_at"
    ordering = ("-seq",)
    actions = ["export_csv"]
    show_full_result_count = False

    def _is_agency_admin(self, request) -> bool:
        membership = port.membership_of(request.user)
        return membership is not None and membership.role == Role.AGENCY_ADMIN

    def has_module_permission(self, request) -> bool:
        return self._is_agency_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self._is_agency_admin(request):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    @admin.action(description=_("Export selected events as CSV"))
    def export_csv(self, request, queryset):
        return csv_response(queryset, actor=request.user)
