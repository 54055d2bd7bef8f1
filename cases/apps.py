from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from gate import port


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # Here, not at the top: these modules import models, which Django
        # allows only once every app's models are loaded.
        from . import access, checks  # noqa: F401 (checks registers the system checks)

        # The layers below `cases` reach the gate through `gate.port`.
        port.install(access)
