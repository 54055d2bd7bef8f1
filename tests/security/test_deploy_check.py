"""`manage.py check --deploy` passes with production-like environment."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check_deploy(**overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="casebridge.example.org",
        AUDIT_HMAC_KEY=secrets.token_urlsafe(32),
        DECONFLICTION_HMAC_KEY=secrets.token_urlsafe(32),
        **overrides,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = _check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_when_https_redirect_is_switched_off():
    """The check above can fail: prove it with one control switched off."""
    result = _check_deploy(SECURE_SSL_REDIRECT="0")
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_behind_a_tls_proxy_the_forwarded_header_is_trusted_and_check_passes():
    result = _check_deploy(TRUST_X_FORWARDED_PROTO="1")
    assert result.returncode == 0, result.stdout + result.stderr
