from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        # Here, not at the top: `signals` imports models, which Django allows
        # only once every app's models are loaded.
        from . import signals  # noqa: F401  (connects the login receivers)
