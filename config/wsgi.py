"""The WSGI application (gunicorn's `config.wsgi:application`)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What is loaded now (Django, the apps, the URLconf and the views it
# imports) lives as long as the process: frozen out of the garbage
# collector's full passes, which otherwise walk all of it again while a large
# answer (a case's picture: tens of thousands of short-lived objects) is being
# built; those passes were the slowest requests (bench/README, `graph`).
get_resolver().url_patterns  # noqa: B018 (imports the URLconf before freezing)
gc.freeze()
