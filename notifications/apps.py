from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # `audiences` registers the case-domain object types and audiences;
        # `worker` records what a Celery worker would otherwise drop.
        from . import audiences, worker  # noqa: F401
