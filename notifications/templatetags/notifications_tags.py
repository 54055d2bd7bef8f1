from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .. import rendering, services

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications_badge(context) -> str:
    """The header link to your notifications, with the unread count."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(user, "membership"):
        return ""
    count = services.unread_count(user)
    url = reverse("admin:notifications_notification_changelist") + "?unread=1"
    label = _("Notifications")
    if count:
        return format_html(
            '<a href="{}" class="cb-notifications">{} <span class="cb-badge">{}</span></a> /',
            url,
            label,
            count,
        )
    return format_html('<a href="{}" class="cb-notifications">{}</a> /', url, label)


@register.simple_tag(takes_context=True)
def latest_notifications(context, limit: int = 8) -> dict:
    """Your latest unread notifications, shown for you (`rendering.present`):
    the landing page's panel, each with a link that marks it read."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(user, "membership"):
        return {"items": [], "unread": 0}
    unread = services.visible_notifications(user).filter(read_at__isnull=True)
    rows = list(unread[:limit])
    shown = rendering.present(rows, user)
    return {
        "items": [shown[row.pk] for row in rows],
        "unread": services.unread_count(user),
        "list_url": reverse("admin:notifications_notification_changelist"),
    }
