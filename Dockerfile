# Production image: one image, four roles (migrate, web, worker, beat) chosen
# by command (docker-compose.yml). The code is owned by root and read-only to
# the app's user; only the evidence directory is its own.
FROM python:3.11.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The PostgreSQL 15 client programs for `manage.py backup` / `restore` (the
# server's major version). Translations are compiled in the repository.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
# Dependencies first: a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install .
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --no-input
# A fresh named volume mounted on the evidence directory takes this owner
# and mode, so the app can write evidence from the first start.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin casebridge \
    && install -d -o casebridge -g casebridge -m 0750 /var/lib/casebridge/media
USER casebridge
EXPOSE 8000
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"]
