"""A deployment made the way docker-compose.yml makes one, on this machine's
PostgreSQL: the db service's init script creates the owner and app roles,
the migrate service's command migrates as the owner and grants the app role,
and the app's own code then runs as the app role. Roles and databases get
unique names and are dropped afterwards.

Everything here runs the production commands as subprocesses (pg_dump and
a second role need committed data and their own connections), so it lives
outside pytest-django's test database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
import pytest
import yaml
from django.db import connection
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
KEYS = {
    "SECRET_KEY": "test-only-secret-key",
    "AUDIT_HMAC_KEY": "test-only-audit-key",
    "DECONFLICTION_HMAC_KEY": "test-deconfliction-key",
}


def compose_command(service: str) -> list[str]:
    """The service's command as its container runs it (compose's `$$` is `$`)."""
    return [part.replace("$$", "$") for part in COMPOSE["services"][service]["command"]]


@dataclass
class Deployment:
    host: str
    port: int
    superuser: str
    superuser_password: str
    database: str
    owner: str
    app: str
    password: str
    media: Path
    created: list[str] = field(default_factory=list)

    def url(self, role: str, database: str | None = None) -> str:
        password = self.superuser_password if role == self.superuser else self.password
        auth = quote(role) + (f":{quote(password)}" if password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{database or self.database}"

    def connect(self, role: str, database: str | None = None) -> psycopg.Connection:
        return psycopg.connect(self.url(role, database))

    def env(self, role: str, database: str | None = None, **extra: str) -> dict[str, str]:
        """The app containers' environment: production settings, this role's URL."""
        env = {
            k: v
            for k, v in os.environ.items()
            # SECURE_SSL_REDIRECT too, whatever the environment running the
            # tests says: production redirects.
            if k
            not in (
                "DATABASE_URL",
                "CELERY_BROKER_URL",
                "CACHE_URL",
                "MEDIA_ROOT",
                "SECURE_SSL_REDIRECT",
            )
        }
        env.update(KEYS)
        env.update(
            DATABASE_URL=self.url(role, database),
            DEBUG="false",
            MEDIA_ROOT=str(self.media),
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        env.update(extra)
        return env

    def run(self, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603  # the project's own commands
            args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
        )

    def manage(self, role: str, *args: str, database: str | None = None, **extra: str):
        return self.run([sys.executable, "manage.py", *args], self.env(role, database, **extra))

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database owned by the owner role (a restore target)."""
        name = name or f"{self.database}_{len(self.created)}"
        with psycopg.connect(self.url(self.superuser, "postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(self.owner)
                )
            )
        self.created.append(name)
        return name


def _check(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, f"{done.args}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def deployment(tmp_path_factory) -> Deployment:
    if connection.vendor != "postgresql":
        pytest.skip("database roles, pg_dump and pg_restore are PostgreSQL's")
    base = urlsplit(os.environ["DATABASE_URL"])
    suffix = uuid.uuid4().hex[:8]
    deployment = Deployment(
        host=base.hostname or "127.0.0.1",
        port=base.port or 5432,
        superuser=base.username or "postgres",
        superuser_password=base.password or "",
        database=f"cb_deploy_drill_{suffix}",
        owner=f"cb_owner_{suffix}",
        app=f"cb_app_{suffix}",
        password=uuid.uuid4().hex,
        media=tmp_path_factory.mktemp("media"),
    )
    admin = psycopg.connect(deployment.url(deployment.superuser, "postgres"), autocommit=True)
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(deployment.database)))
        deployment.created.append(deployment.database)
        # The db service's first start: its init script, as the superuser.
        init_env = {
            **os.environ,
            "PGHOST": deployment.host,
            "PGPORT": str(deployment.port),
            "PGPASSWORD": deployment.superuser_password,
            "POSTGRES_USER": deployment.superuser,
            "POSTGRES_DB": deployment.database,
            "OWNER_DB_ROLE": deployment.owner,
            "OWNER_DB_PASSWORD": deployment.password,
            "APP_DB_ROLE": deployment.app,
            "APP_DB_PASSWORD": deployment.password,
        }
        _check(deployment.run(["sh", "deploy/postgres-init/10-roles.sh"], init_env))
        # The migrate service: migrate, grant, first checkpoint, as the owner.
        migrate_env = deployment.env(deployment.owner, APP_DB_ROLE=deployment.app)
        _check(deployment.run(compose_command("migrate"), migrate_env))
        yield deployment
    finally:
        for name in deployment.created:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        for role in (deployment.app, deployment.owner):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.close()


@pytest.fixture(scope="session")
def seeded(deployment) -> dict:
    """A few agencies, a shared case and three evidence documents, written by
    the real services connected as the app role (tests/ops/seed.py)."""
    done = _check(
        deployment.run([sys.executable, "-m", "tests.ops.seed"], deployment.env(deployment.app))
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
