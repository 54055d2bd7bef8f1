"""Superuser pages for the second factor and the lockout record.

django-otp and django-axes register admins of their own; they are replaced
by read-mostly platform pages (the admin's conventions: no deletes, superuser
only). Resetting a lost phone: untick "confirmed" on the user's device; at
the next login the user enrols a new one (a fresh key, new recovery codes).
Unlocking early: `manage.py axes_reset_username USERNAME`.
"""

from axes.models import AccessAttempt
from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.admin_base import PlatformModelAdmin

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(PlatformModelAdmin):
    list_display = ["user", "name", "confirmed", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed", "last_used_at"]
    readonly_fields = ["user", "name", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False  # a device is enrolled by its owner, never handed a key


@admin.register(AccessAttempt)
class AccessAttemptAdmin(PlatformModelAdmin):
    list_display = ["attempt_time", "username", "ip_address", "failures_since_start"]
    search_fields = ["username", "ip_address"]
    fields = list_display
    readonly_fields = list_display

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
