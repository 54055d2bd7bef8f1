"""Gunicorn settings for the web service (`gunicorn -c deploy/gunicorn.conf.py
config.wsgi:application`).

The proxy in front (deploy/nginx.conf) reads each request body to the end
before it opens a connection here, so a slow client never holds a worker;
what stays slow is the work itself: streaming a large evidence file to the
storage while hashing it, and re-hashing it on download. Hence threads (one
stuck request does not block its process's other requests, and a probe
always finds a free thread), and a timeout long enough for a 512 MiB file
written to a slow volume. Every value can be overridden from the
environment (`GUNICORN_*`).
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # in a container, behind the proxy
workers = _int("GUNICORN_WORKERS", 2)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 8)
# A worker silent this long is killed: long enough to hash and store the
# largest evidence file (EVIDENCE_MAX_UPLOAD_SIZE) on a slow disk.
timeout = _int("GUNICORN_TIMEOUT", 180)
# On a restart, requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 60)
# Above the proxy's keepalive_timeout to upstreams, so it never reuses a
# connection this side has just closed.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Recycle workers now and then (with jitter, not all at once) so that a slow
# leak in a library never grows without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)
# The compose file points the heartbeat file at /dev/shm (memory): a busy or
# slow container disk must not make the arbiter think a worker hung.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None
# Django decides what X-Forwarded-Proto means (TRUST_X_FORWARDED_PROTO);
# gunicorn trusts forwarded headers only from the addresses listed here.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Behind the proxy, headers are already limited there; keep gunicorn's own
# limits as the second fence.
limit_request_line = 8190
limit_request_fields = 100
