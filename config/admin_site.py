"""The admin site: the investigators' workplace.

Access to the site is decided by membership, not by Django's `is_staff`
flag or model permissions: an active member of an active agency (not a
service account) may enter, and so may a platform superuser. What each may
see and do inside is decided object by object by `cases.access`, through
the base classes in `config.admin` (which reach it through `gate.port`).
The site's own pages, "My work" and the preferences, belong to `cases.admin`,
which sets them here (`set_home`, `add_page`): the site imports no app.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import path
from django.utils.translation import gettext_lazy as _

from gate import port


def may_enter_admin(user) -> bool:
    """Active superusers and active, human members of an active agency."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    membership = port.membership_of(user)
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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._home: Callable | None = None
        self._pages: list[tuple[str, Callable, str]] = []

    def set_home(self, view: Callable) -> None:
        """The landing page, `view(site, request, extra_context)`: "My work"
        rather than Django's list of models."""
        self._home = view

    def add_page(self, route: str, view: Callable, name: str) -> None:
        """A page of the site itself, `view(site, request)`, at `route`."""
        self._pages.append((route, view, name))

    def has_permission(self, request) -> bool:
        return may_enter_admin(request.user)

    def index(self, request, extra_context=None):
        if self._home is None:
            return super().index(request, extra_context)
        return self._home(self, request, extra_context)

    def get_urls(self):
        return [
            *(
                path(route, self.admin_view(self._bind(view)), name=name)
                for route, view, name in self._pages
            ),
            *super().get_urls(),
        ]

    def _bind(self, view: Callable) -> Callable:
        return lambda request: view(self, request)
