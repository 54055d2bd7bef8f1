from django.contrib.admin.apps import AdminConfig


class CasebridgeAdminConfig(AdminConfig):
    """Makes `admin.site` (and so `@admin.register`) the Casebridge site."""

    default_site = "config.admin_site.CasebridgeAdminSite"
