"""A real broker, a real Celery worker and a local webhook receiver for tests.

* `RedisBroker` runs a private `redis-server` on a free port: no other run
  on this machine shares its queues, and a test can stop and restart it for
  real (stopping the shared broker would disrupt everybody else).
* `Worker` is `celery -A config worker` in a subprocess, restarted when it
  exits on its own as production's supervisor would, with DATABASE_URL
  pointing at pytest-django's test database; tests use `transactional_db`,
  so what they write is committed and visible to it.
* `Receiver` is an http.server on 127.0.0.1 answering a scripted list of
  status codes and recording every request.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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


class RedisBroker:
    """A private redis-server; with `password`, one that refuses clients without it."""

    def __init__(self, tmp: Path, *, password: str | None = None):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: the notification integration tests run "
                "a private Redis broker (apt-get install redis-server)."
            )
        self.binary, self.tmp, self.port = binary, tmp, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.password = password
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
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
                *(["--requirepass", self.password] if self.password else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self._answers, timeout=10):
            raise RuntimeError(f"private redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """SIGKILL: what was queued and not persisted is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                # Without the password Redis answers NOAUTH: up, refusing.
                return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False


class Worker:
    """A Celery worker run the way production runs it: under a supervisor
    that starts it again when it exits on its own (docker-compose's
    `restart: unless-stopped`). Celery 5.7.0 can exit with "Unrecoverable
    error: AttributeError" when the Redis broker goes away while tasks are
    unacknowledged; the system's guarantee (nothing lost, nothing doubled)
    must hold across such a restart, and `restarts` says how many there were.
    `kill()` and `stop()` are deliberate: no restart until `start()`."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        queue: str = "",
        log: Path,
        concurrency: int = 4,
        argv: list[str] | None = None,
        ready: str = "ready.",
    ):
        """`argv` runs another command under the same supervision (beat, or the
        worker exactly as docker-compose.yml starts it); `ready` is the log
        line that says it started."""
        self.env, self.queue, self.log, self.concurrency = env, queue, log, concurrency
        self.argv, self.ready = argv, ready
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._held = True  # not supervised until started
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self.log.write_text("")

    def start(self) -> Worker:
        with self._lock:
            if self.process is None or self.exited:  # the supervisor may have been first
                self._spawn()
            self._held = False
        if not self._supervisor.is_alive():
            self._supervisor.start()
        return self

    def _spawn(self) -> None:
        offset = self.log.stat().st_size
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            self.argv
            or [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=threads",
                f"--concurrency={self.concurrency}",
                "-Q",
                self.queue,
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
        if not wait_until(lambda: self.ready in self.log_since(offset) or self.exited, timeout=40):
            raise RuntimeError(f"Celery worker did not start:\n{self.tail()}")
        if self.exited:
            raise RuntimeError(f"Celery worker exited:\n{self.tail()}")

    def _supervise(self) -> None:
        while not self._closing.wait(0.5):
            with self._lock:
                if not self._held and self.exited:
                    self.restarts += 1
                    self._spawn()

    def log_since(self, offset: int) -> str:
        with self.log.open() as f:
            f.seek(offset)
            return f.read()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text()[-chars:]

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, nothing acknowledged, nothing cleaned up."""
        with self._lock:
            self._held = True
            assert self.process is not None
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, how: int = signal.SIGTERM) -> None:
        """SIGTERM: Celery's warm shutdown; SIGQUIT: its cold one, at once."""
        self._closing.set()
        with self._lock:
            self._held = True
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(how)
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)


class Receiver:
    """Answers POSTs with `script` status codes in turn, then `default`."""

    def __init__(self, script: list[int] | None = None, default: int = 200):
        self.script, self.default = list(script or []), default
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "status": status}
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]
