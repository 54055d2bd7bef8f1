"""The investigators' admin. Conventions: `config.admin_base`."""

from django.contrib import admin

from . import (  # noqa: F401  (registers the admin pages)
    cases,
    deconfliction,
    documents,
    mla,
    networks,
    search,
    statistics,
    tasks,
    views,
)

# The site's own pages (`config.admin_site`): "My work", the preferences, the
# search, the statistics.
admin.site.set_home(views.my_work)
admin.site.add_page("preferences/", views.preferences, "preferences")
admin.site.add_page("search/", search.search_page, "search")
admin.site.add_page("statistics/", statistics.statistics_page, "statistics")
