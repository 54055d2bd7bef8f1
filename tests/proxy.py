"""The production proxy, deploy/nginx.conf, in front of a gunicorn a test started.

The shipped file runs as it is, TLS server block included; `render()`
substitutes only what differs between a container and a test on a shared
machine (listed in `substitutions()`): the upstream's address, the ports it
listens on, its pid file, its request-body spool and its certificate (a
self-signed one made here with the `openssl` command, for 127.0.0.1 and
the test's host name). Each shipped line must be found exactly once, so an
edit to deploy/nginx.conf that a substitution no longer matches fails the
test instead of running something else. Logs stay where the shipped file
sends them (stdout and stderr), which the test sends to a file; `-g "daemon
off;"` keeps nginx in the foreground, a child of the test. Temporary paths
that the shipped file does not name (the response buffers' spool) stay
nginx's compiled-in ones: /var/cache/nginx in the image, /var/lib/nginx in
Debian's package.

nginx is Debian's package, installed when missing (tests/debian.py); where
it cannot be, a test that needs it fails with CI=true and is skipped
otherwise, with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.debian import PackagesUnavailable, ensure_debian_packages

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "deploy" / "nginx.conf"
NGINX = "/usr/sbin/nginx"
PACKAGES = {
    "nginx": lambda: Path(NGINX).exists(),
    "openssl": lambda: shutil.which("openssl"),
}


def require_nginx() -> None:
    """Install nginx and openssl when missing; where that is impossible, fail
    under CI=true (a clean CI machine must be able to) and skip elsewhere."""
    try:
        ensure_debian_packages(PACKAGES)
    except PackagesUnavailable as exc:
        message = f"the TLS proxy (Debian's nginx) cannot be installed here: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def substitutions(
    *, upstream: str, http_port: int, https_port: int, directory: Path
) -> list[tuple[str, str]]:
    """(line as shipped, line as run here): everything the test changes."""
    return [
        # The compose service `web` is gunicorn on this machine.
        ("server web:8000;", f"server {upstream};"),
        # Free ports on the loopback interface instead of 80 and 443.
        ("listen 80 default_server;", f"listen 127.0.0.1:{http_port} default_server;"),
        (
            "listen 443 ssl http2 default_server;",
            f"listen 127.0.0.1:{https_port} ssl http2 default_server;",
        ),
        # This run's own files, not the container's paths.
        ("pid /tmp/nginx.pid;", f"pid {directory}/nginx.pid;"),
        (
            "client_body_temp_path /var/cache/nginx/client_temp 1 2;",
            f"client_body_temp_path {directory}/client_temp 1 2;",
        ),
        (
            "ssl_certificate /etc/nginx/tls/fullchain.pem;",
            f"ssl_certificate {directory}/fullchain.pem;",
        ),
        (
            "ssl_certificate_key /etc/nginx/tls/privkey.pem;",
            f"ssl_certificate_key {directory}/privkey.pem;",
        ),
    ]


def render(*, upstream: str, http_port: int, https_port: int, directory: Path) -> str:
    """deploy/nginx.conf with `substitutions()` applied, each exactly once."""
    text = SHIPPED.read_text()
    for shipped, here in substitutions(
        upstream=upstream, http_port=http_port, https_port=https_port, directory=directory
    ):
        found = text.count(shipped)
        assert found == 1, f"deploy/nginx.conf has {found} of {shipped!r}: update tests/proxy.py"
        text = text.replace(shipped, here)
    return text


def make_certificate(directory: Path, host: str) -> Path:
    """A self-signed certificate for `host` and 127.0.0.1 (fullchain.pem and
    privkey.pem in `directory`); clients trust it as their only CA."""
    names = f"DNS:{host},IP:127.0.0.1" if host != "127.0.0.1" else "IP:127.0.0.1"
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", f"/CN={host}",
            "-addext", f"subjectAltName={names}",
            "-keyout", str(directory / "privkey.pem"),
            "-out", str(directory / "fullchain.pem")]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True)  # noqa: S603 (Debian's openssl, no shell)
    return directory / "fullchain.pem"


@dataclass
class Proxy:
    """A running nginx: `base` is its HTTPS address, `cafile` the certificate
    that clients trust, `log` what it wrote (access and error log)."""

    https_port: int
    http_port: int
    cafile: Path
    log: Path
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@contextmanager
def running_proxy(
    upstream_port: int, log: Path, *, host: str = "casebridge.test"
) -> Iterator[Proxy]:
    """nginx with the rendered deploy/nginx.conf in front of 127.0.0.1:`upstream_port`,
    its output in `log` (kept), stopped and its other files removed afterwards."""
    require_nginx()
    # Not under pytest's 0700 tmp dirs: nginx's workers run as another user
    # (nobody) when the master is root, and must reach the body spool.
    directory = Path(tempfile.mkdtemp(prefix="casebridge-nginx-"))
    directory.chmod(0o755)
    process = None
    try:
        cafile = make_certificate(directory, host)
        http_port, https_port = free_port(), free_port()
        conf = directory / "nginx.conf"
        conf.write_text(
            render(
                upstream=f"127.0.0.1:{upstream_port}",
                http_port=http_port,
                https_port=https_port,
                directory=directory,
            )
        )
        with log.open("w") as out:
            process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
                [NGINX, "-p", str(directory), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        proxy = Proxy(https_port, http_port, cafile, log, process)
        deadline = time.monotonic() + 20
        while not _listening(https_port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nginx did not start:\n{proxy.tail()}")
            time.sleep(0.1)
        yield proxy
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # nginx's fast shutdown
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
