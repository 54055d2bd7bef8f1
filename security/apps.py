from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    """Authentication, session and deployment hardening (see SECURITY.md)."""

    name = "security"
    verbose_name = _("Security")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at the top: the admin and these modules import models,
        # which Django allows only once every app's models are loaded.
        from django.contrib import admin

        from . import signals  # noqa: F401  (connects the receivers)
        from .forms import AdminLoginForm

        # The admin's own login asks for the one-time code. If the admin moves
        # to a custom AdminSite, set these two attributes there instead.
        admin.site.login_form = AdminLoginForm
        admin.site.login_template = "security/admin_login.html"
