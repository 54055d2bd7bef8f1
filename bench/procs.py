"""Processes the load and fan-out benchmarks start: a private Redis, a Celery
worker, a database to seed. Kept apart from tests/ so bench/ stands alone.

Everything here is started by the benchmark and stopped by it (by pid), so a
run never touches the shared broker's queues or another run's processes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cb_bench"


def bench_environment() -> None:
    """Defaults a benchmark needs before Django is set up (DEBUG stays off)."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DECONFLICTION_HMAC_KEY", "bench-only-hmac-key")
    os.environ.setdefault("AUDIT_HMAC_KEY", "bench-only-audit-key")
    os.environ.setdefault("DEBUG", "0")


def http_bench_environment() -> None:
    """`bench_environment` for a benchmark that serves the app (gunicorn, the
    test client): plain HTTP on the local names, no throttling, no log line
    per request."""
    bench_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("API_THROTTLE_RATE", "")
    os.environ.setdefault("API_ANON_THROTTLE_RATE", "")
    os.environ.setdefault("LOG_LEVEL", "ERROR")


def ensure_database(url: str) -> None:
    """Create the benchmark's database if it does not exist yet (never drops one)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], bool], timeout: float = 30, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """A redis-server of our own on a free port, so no other run shares its queues."""

    def __init__(self, tmp: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary, self.tmp, self.port = binary, tmp, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(lambda: port_answers(self.port), timeout=10):
            raise RuntimeError(f"private redis-server did not start on port {self.port}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class CeleryWorker:
    """`celery -A config worker` in a subprocess, logging to `log` at INFO."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        queue: str,
        log: Path,
        pool: str = "prefork",
        concurrency: int = 2,
        include: str = "bench.noop",
    ):
        self.env, self.queue, self.log = env, queue, log
        self.pool, self.concurrency, self.include = pool, concurrency, include
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        self.log.write_text("")
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--pool={self.pool}",
                f"--concurrency={self.concurrency}",
                "-Q",
                self.queue,
                "--include",
                self.include,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{self.queue}-{time.monotonic_ns()}@%h",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        if not wait_until(lambda: "ready." in self.log.read_text() or self.exited, timeout=60):
            raise RuntimeError(f"Celery worker did not start:\n{self.log.read_text()[-3000:]}")
        if self.exited:
            raise RuntimeError(f"Celery worker exited:\n{self.log.read_text()[-3000:]}")
        return self

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        """SIGKILL of the main process and its pool children: nothing acknowledged."""
        assert self.process is not None
        for pid in _children(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
