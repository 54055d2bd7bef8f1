from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from gate import port


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # Here, not at the top: these modules import models, which Django
        # allows only once every app's models are loaded. `checks` registers
        # the system checks; `audiences` and `reminders` tell notifications
        # about the case domain's objects, audiences and deadlines.
        from . import access, audiences, checks, reminders  # noqa: F401

        # The layers below `cases` reach the gate through `gate.port`.
        port.install(access)
