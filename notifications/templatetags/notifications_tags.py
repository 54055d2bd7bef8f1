from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .. import services

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
