"""Admin pages: your notifications (with the unread badge in the header) and
your agency's webhook endpoints (agency administrators only).

Both follow `cases.admin.base`: rows from a selector, permissions from the
owner rule (a notification is its recipient's; an endpoint its agency
administrators'), writes through `notifications.services`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from agencies.choices import Role
from cases import access
from cases.admin.base import GatedModelAdmin

from . import services
from .choices import EventType
from .models import Notification, WebhookEndpoint


class UnreadFilter(admin.SimpleListFilter):
    title = _("read")
    parameter_name = "unread"

    def lookups(self, request, model_admin):
        return (("1", _("Unread")), ("0", _("Read")))

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(read_at__isnull=self.value() == "1")
        return queryset


@admin.register(Notification)
class NotificationAdmin(GatedModelAdmin):
    selector = staticmethod(services.visible_notifications)
    list_display = ("text", "kind", "created_at", "is_read")
    list_filter = (UnreadFilter, "kind")
    fields = ("text", "kind", "object_type", "object_id", "created_at", "read_at")
    readonly_fields = fields
    actions = ["mark_read"]

    def gate_allows(self, request, action, obj) -> bool:
        return action == "view" and obj.recipient_id == request.user.pk

    @admin.display(boolean=True, description=_("read"))
    def is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening a notification reads it.
        response = super().change_view(request, object_id, form_url, extra_context)
        notification = self.get_object(request, object_id)
        services.mark_read(actor=request.user, notification=notification)
        return response

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda n: services.mark_read(actor=request.user, notification=n),
            _gettext("Marked %(count)d notification(s) read."),
        )


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "events", "active")


def _is_agency_admin(request) -> bool:
    membership = access.membership_of(request.user)
    return membership is not None and membership.role == Role.AGENCY_ADMIN


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(GatedModelAdmin):
    selector = staticmethod(services.visible_webhook_endpoints)
    form = WebhookEndpointForm
    change_action = "manage"
    delete_action = "manage"
    list_display = ("url", "active", "consecutive_failures", "disabled_at")
    readonly_fields = ("secret", "consecutive_failures", "disabled_at", "recent_deliveries")

    def is_member(self, request) -> bool:
        # Every has_*_permission of the base starts here: agency admins only.
        return _is_agency_admin(request)

    def has_add_permission(self, request) -> bool:
        return _is_agency_admin(request)

    def gate_allows(self, request, action, obj) -> bool:
        return services.visible_webhook_endpoints(request.user).filter(pk=obj.pk).exists()

    def get_fields(self, request, obj=None):
        fields = ["url", "events", "active"]
        return fields + list(self.readonly_fields) if obj else fields

    @admin.display(description=_("recent deliveries"))
    def recent_deliveries(self, endpoint: WebhookEndpoint):
        rows = endpoint.log.order_by("-at")[:20]
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("at"),
            _("attempt"),
            _("status code"),
            _("error"),
            _("duration (ms)"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((r.at, r.attempt, r.status_code or "—", r.error, r.duration_ms) for r in rows),
            ),
        )

    def create_via_service(self, request, form):
        data = form.cleaned_data
        return services.create_webhook_endpoint(
            actor=request.user, url=data["url"], events=data["events"]
        )

    def update_via_service(self, request, obj, form):
        changes = self.changed_values(form)
        if not changes:
            return None
        return services.update_webhook_endpoint(actor=request.user, endpoint=obj, **changes)

    def delete_via_service(self, request, obj) -> None:
        services.delete_webhook_endpoint(actor=request.user, endpoint=obj)
