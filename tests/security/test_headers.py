"""Browser-side defences in every response, and request ids."""

import json
import logging

import pytest

from config.requestid import RequestIdLogFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def login_page(client):
    return client.get("/admin/login/")


def test_content_security_policy_allows_only_own_scripts_and_styles(login_page):
    policy = login_page["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_framing_is_denied(login_page):
    assert login_page["X-Frame-Options"] == "DENY"


def test_referrer_and_opener_policies_are_set(login_page):
    assert login_page["Referrer-Policy"] == "same-origin"
    assert login_page["Cross-Origin-Opener-Policy"] == "same-origin"
    assert login_page["X-Content-Type-Options"] == "nosniff"


def test_every_response_carries_a_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32
    assert first != second


def test_a_plain_request_id_from_the_proxy_is_kept(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-1234abcd")
    assert response["X-Request-ID"] == "edge-1234abcd"


def test_a_request_id_that_could_forge_log_lines_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="x\nlevel=ERROR forged")
    assert "\n" not in response["X-Request-ID"]
    assert response["X-Request-ID"] != "x\nlevel=ERROR forged"


def test_json_log_lines_carry_the_request_id(client, settings):
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter(
        **{k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
    )
    captured = []

    class Capture(logging.Handler):
        def emit(self, record):
            captured.append(formatter.format(record))

    handler = Capture()
    handler.addFilter(RequestIdLogFilter())
    logger = logging.getLogger("casebridge.security")
    logger.addHandler(handler)
    try:
        response = client.post("/admin/login/", {"username": "nobody", "password": "x"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(captured[-1])
    assert line["request_id"] == response["X-Request-ID"]
    assert line["event"] == "auth.login_failed"
    assert line["level"] == "WARNING"


def test_the_audit_log_and_the_response_share_one_request_id(client):
    from audit.models import AuditEvent

    response = client.post("/admin/login/", {"username": "nobody", "password": "x"})
    event = AuditEvent.objects.latest("seq")
    assert event.request_id == response["X-Request-ID"]
