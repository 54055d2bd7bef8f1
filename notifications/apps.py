from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Here, not at the top: these modules import models, which Django
        # allows only once every app's models are loaded. `audiences`
        # registers the webhook endpoints' object type and audience; `tasks`
        # registers the Celery tasks the outbox sends by name, in every
        # process; `worker` records what a Celery worker would otherwise drop.
        from . import audiences, tasks, worker  # noqa: F401
