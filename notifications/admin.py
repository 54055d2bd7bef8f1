"""Admin pages: your notifications (with the unread badge in the header) and
your agency's webhook endpoints (agency administrators only).

Both follow `config.admin_base`: rows from a selector, permissions from the
owner rule (a notification is its recipient's; an endpoint its agency
administrators'), writes through `notifications.services`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpResponseRedirect
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.admin_base import GatedModelAdmin
from gate import port
from gate.roles import Role

from . import rendering, services
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


class KindFilter(admin.SimpleListFilter):
    """Kinds by their translated names, only those found in your notifications."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        queryset = model_admin.get_queryset(request).order_by()
        kinds = queryset.values_list("kind", flat=True).distinct()
        labelled = [(kind, rendering.kind_label(kind)) for kind in kinds]
        return sorted(labelled, key=lambda pair: str(pair[1]))

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(GatedModelAdmin):
    """Your notifications, each in words in your language, with a link to its
    object when you may open it; opening one (its page, or its link in the
    list) marks it read."""

    selector = services.visible_notifications
    list_display = ("summary", "kind_label", "created_at", "is_read")
    list_display_links = ("created_at",)
    list_filter = (UnreadFilter, KindFilter)
    fields = ("text_now", "kind_label", "target", "created_at", "read_at")
    readonly_fields = fields
    actions = ["mark_read"]

    def gate_allows(self, request, action, obj) -> bool:
        return action == "view" and obj.recipient_id == request.user.pk

    # --- the reader's view of each notification (`rendering.present`) -----

    def get_object(self, request, object_id, from_field=None):
        notification = super().get_object(request, object_id, from_field)
        notification.cb_shown = rendering.present_one(notification, request.user)
        return notification

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # The page's rows, evaluated once (the template iterates the same
        # cached rows), shown in one pass: a gate query per object type.
        rows = list(changelist.result_list)
        shown = rendering.present(rows, request.user)
        for row in rows:
            row.cb_shown = shown[row.pk]
        return changelist

    @staticmethod
    def _shown(notification: Notification) -> rendering.Shown:
        shown = getattr(notification, "cb_shown", None)
        return shown or rendering.present_one(notification, notification.recipient)

    @admin.display(description=_("notification"))
    def summary(self, notification: Notification):
        shown = self._shown(notification)
        link = format_html(
            '<a class="cb-notification-link{}" href="{}">{}</a>',
            " cb-unread" if shown.unread else "",
            shown.open_url,
            shown.text,
        )
        return format_html("<strong>{}</strong>", link) if shown.unread else link

    @admin.display(description=_("notification"))
    def text_now(self, notification: Notification) -> str:
        return self._shown(notification).text

    @admin.display(description=_("kind"))
    def kind_label(self, notification: Notification):
        return self._shown(notification).kind_label

    @admin.display(description=_("link"))
    def target(self, notification: Notification):
        shown = self._shown(notification)
        if not shown.url:
            return gettext("You can no longer open what this notification is about.")
        return format_html(
            '<a class="cb-notification-target" href="{}">{}</a>', shown.url, shown.link_label
        )

    @admin.display(boolean=True, description=_("read"))
    def is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None

    # --- pages ----------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/open/",
                self.admin_site.admin_view(self.open_view),
                name="notifications_notification_open",
            ),
            *super().get_urls(),
        ]

    def open_view(self, request, object_id):
        """The list's and the landing page's link: mark read, then go to the
        object (or to the notification, if its object can no longer be opened)."""
        notification = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, notification):
            raise Http404(gettext("Not found."))
        services.mark_read(actor=request.user, notification=notification)
        shown = notification.cb_shown
        return HttpResponseRedirect(shown.url or shown.detail_url)

    def changelist_view(self, request, extra_context=None):
        # Not Django's "Select notification to view": a title of its own.
        extra_context = {"title": gettext("Your notifications"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening a notification reads it (before the page, so the page and
        # the header's count already say so).
        notification = self.get_object(request, unquote(object_id))
        services.mark_read(actor=request.user, notification=notification)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda n: services.mark_read(actor=request.user, notification=n),
            gettext("Marked %(count)d notification(s) read."),
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
    membership = port.membership_of(request.user)
    return membership is not None and membership.role == Role.AGENCY_ADMIN


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(GatedModelAdmin):
    selector = services.visible_webhook_endpoints
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
