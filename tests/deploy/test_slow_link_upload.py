"""Evidence over a slow, broken link, against the production web command.

A real gunicorn (the web service's command: deploy/gunicorn.conf.py) with
DEBUG off and the HTTPS redirect on, on PostgreSQL, behind the proxy
(deploy/nginx.conf as shipped, TLS included: tests/proxy.py). Clients speak
HTTPS to the proxy only. One client sends a file through `/api/v1/uploads/`
held to a slow rate, in 8 MiB chunks; the link breaks in the middle of a
chunk at 60 %; the client asks where it stands (HEAD) and resumes to a
verified document. The proxy reads each chunk to the end before the app sees
it, so the chunk the link broke in never reaches the app: the upload
resumes at that chunk's start, and nothing before it is sent twice.
Meanwhile other clients call `/healthz` and `/api/v1/me/` and must be
answered within 1 s, every time; the workers' memory must not grow with the
file.

Size and rate: the issue's figure by default, 300 MB at 2 MB/s (~150 s);
UPLOAD_TEST_MB / UPLOAD_TEST_MBPS change them for a local run.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from agencies.tokens import issue_api_token
from gate.roles import Role
from tests.factories import make_agency, make_case, make_user
from tests.proxy import Proxy, require_nginx, running_proxy

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000
CHUNK = 8 * 1024 * 1024
PIECE = 64 * 1024
HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
PATTERN = hashlib.sha256(b"casebridge").digest() * (PIECE // 32)  # 64 KiB, not all zeros

pytestmark = pytest.mark.django_db(transaction=True)


def content(offset: int, n: int) -> bytes:
    """Bytes [offset, offset+n) of the test file: a PDF header, then a pattern,
    so any part can be produced again without keeping the file in memory."""
    out = bytearray()
    while len(out) < n:
        p = offset + len(out)
        if p < len(HEADER):
            out += HEADER[p : p + n - len(out)]
        else:
            start = p % PIECE
            out += PATTERN[start : start + n - len(out)]
    return bytes(out)


def file_sha256(size: int) -> str:
    digest = hashlib.sha256()
    for offset in range(0, size, PIECE):
        digest.update(content(offset, min(PIECE, size - offset)))
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
            "config.wsgi:application"]  # fmt: skip


@pytest.fixture
def server(tmp_path):
    """gunicorn behind nginx: yields the proxy and gunicorn's master process."""
    require_nginx()
    db = connection.settings_dict
    port = free_port()
    # Not SECURE_SSL_REDIRECT: on, as in production, whatever the
    # environment running the tests says.
    env = {k: v for k, v in os.environ.items() if k != "SECURE_SSL_REDIRECT"}
    env |= {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "0",
        "SECRET_KEY": "slow-link-test",
        "AUDIT_HMAC_KEY": "slow-link-test",
        "DECONFLICTION_HMAC_KEY": os.environ.get("DECONFLICTION_HMAC_KEY", "t"),
        "ALLOWED_HOSTS": "127.0.0.1",
        # As the compose file sets them: only the proxy reaches gunicorn.
        "TRUST_X_FORWARDED_PROTO": "true",
        "AUDIT_TRUST_X_FORWARDED_FOR": "true",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EVIDENCE_MAX_UPLOAD_SIZE": str(512 * 1024 * 1024),
        "LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_ACCESS_LOG": "/dev/null",
    }
    env.pop("CELERY_BROKER_URL", None)  # notifications in-process
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
        GUNICORN, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        with running_proxy(port, tmp_path / "nginx.log", host="127.0.0.1") as proxy:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    conn = connect(proxy, timeout=2)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.3)
            else:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}{proxy.tail()}")
            yield proxy, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def connect(proxy: Proxy, timeout: float) -> http.client.HTTPSConnection:
    """A new HTTPS connection to the proxy, trusting its certificate only."""
    return http.client.HTTPSConnection(
        "127.0.0.1", proxy.https_port, timeout=timeout, context=proxy.ssl_context()
    )


def worker_peak_rss(master: int) -> int:
    """Highest resident memory (bytes) any gunicorn worker has had."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    peak = 0
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) * 1024)
    return peak


class Prober(threading.Thread):
    """Other clients: `/healthz` and `/api/v1/me/` five times a second each."""

    def __init__(self, proxy: Proxy, token: str):
        super().__init__(daemon=True)
        self.proxy, self.token = proxy, token
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.log: list[tuple[float, str, float]] = []
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            for path, headers in (
                ("/healthz", {}),
                ("/api/v1/me/", {"Authorization": f"Bearer {self.token}"}),
            ):
                started = time.monotonic()
                try:
                    conn = connect(self.proxy, timeout=10)
                    conn.request("GET", path, headers=headers)
                    status = conn.getresponse().status
                    conn.close()
                except OSError as exc:
                    status = repr(exc)
                self.latencies.append(time.monotonic() - started)
                self.log.append((started, path, self.latencies[-1]))
                if status != 200:
                    self.failures.append(f"{path}: {status}")
            self.stop.wait(0.2)


class SlowClient:
    """A tus client on a link of `rate` bytes/s that can break mid-chunk."""

    def __init__(self, proxy: Proxy, token: str, size: int, rate: float):
        self.proxy, self.size, self.rate = proxy, size, rate
        self.auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
        self.sent = 0
        self.broke_at: int | None = None
        self.started = time.monotonic()

    def request(self, method: str, path: str, headers: dict) -> http.client.HTTPResponse:
        conn = connect(self.proxy, timeout=120)
        conn.request(method, path, headers={**self.auth, **headers})
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    def offset(self, location: str) -> int:
        response = self.request("HEAD", location, {})
        assert response.status == 200, response.status
        return int(response.getheader("Upload-Offset"))

    def patch(self, location: str, offset: int, n: int, break_at: int | None = None):
        """Send bytes [offset, offset+n) at the link's rate; with `break_at`,
        the link dies once that many bytes of the file have gone."""
        conn = connect(self.proxy, timeout=120)
        conn.putrequest("PATCH", location)
        for name, value in {
            **self.auth,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(n),
        }.items():
            conn.putheader(name, value)
        conn.endheaders()
        position = offset
        while position < offset + n:
            if break_at is not None and position >= break_at:
                # What was sent still arrives at the proxy; then the
                # connection is gone (no TLS close_notify, as on a dead link).
                conn.sock.shutdown(socket.SHUT_WR)
                conn.close()
                self.broke_at = position
                return None
            piece = min(PIECE, offset + n - position)
            if break_at is not None and position < break_at:
                piece = min(piece, break_at - position)
            conn.send(content(position, piece))
            position += piece
            self.sent += piece
            ahead = self.sent / self.rate - (time.monotonic() - self.started)
            if ahead > 0:
                time.sleep(ahead)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response


def test_slow_upload_breaks_at_60_percent_resumes_and_others_are_answered_in_time(server):
    size = int(float(os.environ.get("UPLOAD_TEST_MB", "300")) * MB)
    rate = float(os.environ.get("UPLOAD_TEST_MBPS", "2")) * MB
    proxy, process = server
    knp = make_agency("KR-KNP", country="KR")
    case = make_case(make_user(knp, Role.COORDINATOR, "knp.coordinator"), title="Compound raid")
    _, uploader = issue_api_token(agency=knp, role=Role.INVESTIGATOR, name="field kit")
    _, prober_token = issue_api_token(agency=knp, role=Role.VIEWER, name="case system")
    expected = file_sha256(size)
    client = SlowClient(proxy, uploader, size, rate)

    def b64(value: str) -> str:
        return base64.b64encode(value.encode()).decode()

    created = client.request(
        "POST",
        "/api/v1/uploads/",
        {
            "Upload-Length": str(size),
            "Upload-Metadata": f"case {b64(str(case.public_id))},title {b64('Raid video')},"
            f"filename {b64('raid.pdf')},handling_code {b64('GREEN')},sha256 {b64(expected)}",
        },
    )
    assert created.status == 201, created.status
    # An absolute https:// address (the proxy said HTTPS) on the default port.
    assert created.getheader("Location").startswith("https://127.0.0.1/api/v1/uploads/")
    location = urlsplit(created.getheader("Location")).path

    prober = Prober(proxy, prober_token)
    # Each worker's first API request loads what Django loads lazily (URL
    # resolvers, DRF, the schema classes): warm them before measuring.
    # In parallel, so that every worker gets some.
    warmers = [Prober(proxy, prober_token) for _ in range(6)]
    for warmer in warmers:
        warmer.start()
    time.sleep(5)
    for warmer in warmers:
        warmer.stop.set()
        warmer.join(timeout=15)
    prober.start()
    break_at = size * 60 // 100
    resumed_at = None
    final = None
    started = client.started = time.monotonic()
    try:
        offset = 0
        while offset < size:
            n = min(CHUNK, size - offset)
            response = client.patch(location, offset, n, break_at=break_at)
            if response is None:  # the link broke: ask where we stand, then go on
                break_at = None
                offset = resumed_at = client.offset(location)
                continue
            assert response.status == 204, (response.status, response.read())
            offset = int(response.getheader("Upload-Offset"))
            final = response
        elapsed = time.monotonic() - started
    finally:
        prober.stop.set()
        prober.join(timeout=15)

    peak = worker_peak_rss(process.pid)
    for at, path, took in sorted(prober.log, key=lambda e: -e[2])[:5]:
        print(f"  {path} at {at - started:.1f} s took {took * 1000:.0f} ms")
    slowest = max(prober.latencies)
    print(
        f"\nupload {size / MB:.0f} MB at {rate / MB:.1f} MB/s: {elapsed:.1f} s, "
        f"broke at {client.broke_at} B, resumed at {resumed_at} B; "
        f"{len(prober.latencies)} probes, slowest {slowest * 1000:.0f} ms; "
        f"worker peak RSS {peak / 2**20:.0f} MiB"
    )
    assert client.broke_at == size * 60 // 100
    # The proxy drops the chunk the link broke in (it never had all of it);
    # every chunk before it was kept: only that chunk's start is sent twice.
    assert resumed_at == client.broke_at // CHUNK * CHUNK
    from cases.models import Document

    doc = Document.objects.get()
    assert final.getheader("Document-Location").endswith(f"/api/v1/documents/{doc.public_id}/")
    assert (doc.size, doc.sha256) == (size, expected)
    assert doc.custody_events.get().action == "upload"
    assert prober.failures == []
    assert slowest < 1.0, f"slowest answer {slowest:.2f} s"
    assert peak < 300 * 2**20, f"a worker grew to {peak / 2**20:.0f} MiB"
