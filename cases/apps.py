from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from django.contrib.auth.models import Permission
        from django.db.models.signals import post_delete, post_migrate, post_save

        from . import checks  # noqa: F401 (registers the system checks)
        from .access import forget_permission_ids

        # The gate keeps permission ids per process (`access.case_permission_id`).
        post_migrate.connect(forget_permission_ids, dispatch_uid="cases.permission_ids")
        for signal in (post_save, post_delete):
            signal.connect(forget_permission_ids, sender=Permission, dispatch_uid="cases.perm_ids")
