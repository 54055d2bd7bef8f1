"""A real OpenID Connect provider for the tests, on 127.0.0.1.

`oidc_provider/provider.mjs` runs panva's `oidc-provider` (the npm package,
certified by the OpenID Foundation) with Node.js. `npm ci` installs it from
`oidc_provider/package-lock.json` the first time (as `tests/system/contract`
does for its TypeScript client), so a clean clone's `make test` needs only
Node.js and npm, which the machine has (Debian's `nodejs` and `npm`
otherwise, installed like Chromium).

The tests drive the provider as an agency's IT department would: register
Casebridge as a client (dynamic client registration, RFC 7591), add and
remove people (a control endpoint of the script), and sign in on its login
page (`sign_in_at_provider`, or Chromium in the browser test).
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from tests.debian import ensure_debian_packages

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"


def npm_ci() -> None:
    ensure_debian_packages(
        {"nodejs": lambda: shutil.which("node"), "npm": lambda: shutil.which("npm")}
    )
    if (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    done = subprocess.run(  # noqa: S603  # fixed argv
        [npm or "npm", "ci", "--no-audit", "--no-fund"],
        cwd=PROVIDER_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"npm ci failed ({done.returncode}):\n{done.stderr[-3000:]}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str


class TestProvider:
    """One running provider process: its issuer URL and what the tests may ask of it."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self) -> None:
        npm_ci()
        self.port = _free_port()
        self.control_token = secrets.token_urlsafe(24)
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603  # fixed argv
            [shutil.which("node") or "node", "provider.mjs", str(self.port), self.control_token],
            cwd=PROVIDER_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline() if self.process.stdout else ""
            if line.startswith("ready "):
                return
            if self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"the OpenID Connect provider did not start: {self.stderr()}")

    def stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read()[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def _control(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.control_token}"}

    def register_client(self, *redirect_uris: str, public: bool = False) -> Client:
        """Casebridge as a client of this provider (RFC 7591 registration)."""
        response = requests.post(
            f"{self.issuer}/reg",
            json={
                "redirect_uris": list(redirect_uris),
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none" if public else "client_secret_basic",
            },
            headers=self._control(),
            timeout=10,
        )
        response.raise_for_status()
        body = response.json()
        return Client(body["client_id"], body.get("client_secret", ""))

    def put_account(self, login: str, *, password: str, otp: str = "", **claims) -> None:
        """Add a person (or change their claims): `login` is their subject."""
        response = requests.put(
            f"{self.issuer}/__test__/accounts/{login}",
            data=json.dumps({"password": password, "otp": otp, "claims": claims}),
            headers=self._control(),
            timeout=10,
        )
        response.raise_for_status()

    def delete_account(self, login: str) -> None:
        """The person leaves the agency: the provider no longer knows them."""
        response = requests.delete(
            f"{self.issuer}/__test__/accounts/{login}", headers=self._control(), timeout=10
        )
        response.raise_for_status()


def sign_in_at_provider(authorize_url: str, login: str, password: str, otp: str = "") -> str:
    """Play the browser at the provider: open `authorize_url`, fill its login
    page, and return the URL the provider sends the browser back to (the
    relying party's callback, with `code` and `state`), without opening it."""
    provider_host = urlsplit(authorize_url).netloc
    browser = requests.Session()
    url, method, data = authorize_url, "GET", None
    for _ in range(15):
        response = browser.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            target = urljoin(url, response.headers["Location"])
            if urlsplit(target).netloc != provider_host:
                return target
            url, method, data = target, "GET", None
            continue
        if 'id="idp-login"' in response.text and data is None:
            form_action = response.text.split('action="', 1)[1].split('"', 1)[0]
            url = urljoin(url, form_action)
            method, data = "POST", {"login": login, "password": password, "otp": otp}
            continue
        raise AssertionError(f"the provider answered {response.status_code}: {response.text[:500]}")
    raise AssertionError("the provider never sent the browser back")
