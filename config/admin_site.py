"""The admin site: the investigators' workplace.

Access to the site is decided by membership, not by Django's `is_staff`
flag or model permissions: an active member of an active agency (not a
service account) may enter, and so may a platform superuser. What each may
see and do inside is decided object by object by `cases.access`, through
the base classes in `cases.admin.base`.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def may_enter_admin(user) -> bool:
    """Active superusers and active, human members of an active agency."""
    from cases.access import membership_of

    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    membership = membership_of(user)
    return membership is not None and not membership.is_service_account


class MembershipAuthenticationForm(AdminAuthenticationForm):
    """Django's admin login refuses non-staff; ours refuses non-members instead."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the correct %(username)s and password of an active member "
            "account. Both fields may be case-sensitive."
        ),
    }

    def confirm_login_allowed(self, user):
        # Skip AdminAuthenticationForm's is_staff check on purpose.
        super(AdminAuthenticationForm, self).confirm_login_allowed(user)
        if not may_enter_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class CasebridgeAdminSite(admin.AdminSite):
    site_header = _("Casebridge")
    site_title = _("Casebridge")
    index_title = _("My work")
    login_form = MembershipAuthenticationForm
    enable_nav_sidebar = True
    site_url = None

    def has_permission(self, request) -> bool:
        return may_enter_admin(request.user)

    def index(self, request, extra_context=None):
        """The landing page is "My work", not a list of models."""
        from cases.admin.views import my_work

        return my_work(self, request, extra_context)

    def get_urls(self):
        from django.urls import path

        from cases.admin.views import preferences

        return [
            path(
                "preferences/",
                self.admin_view(lambda request: preferences(self, request)),
                name="preferences",
            ),
            *super().get_urls(),
        ]
