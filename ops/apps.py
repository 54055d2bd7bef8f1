from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Database roles, backup and restore (management commands only, no models)."""

    name = "ops"
