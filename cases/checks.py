"""System checks of the cases app's configuration."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def deconfliction_key_is_set(app_configs, **kwargs):
    """Without the HMAC key no identifier can be recorded or searched: say so at start-up."""
    if getattr(settings, "DECONFLICTION_HMAC_KEY", ""):
        return []
    return [
        Error(
            "DECONFLICTION_HMAC_KEY is not set.",
            hint="Set it in the environment (required when DEBUG is off); never change it "
            "once identifiers are stored without re-hashing them.",
            id="cases.E001",
        )
    ]
