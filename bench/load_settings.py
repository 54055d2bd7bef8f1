"""Settings of the load benchmark's gunicorn: the application's, plus the
bench-only URLconf that adds the trivial view (`/bench/ping/`)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
