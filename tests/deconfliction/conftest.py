"""Deconfliction fixtures: a key for the HMAC, and the hooks captured.

The notification outbox (issue 7) and audit log (issue 6) are built in
parallel; until then the hooks are no-ops, so the tests record what each
hook was called with and assert on those payloads.
"""

import pytest

from cases import deconfliction


@pytest.fixture(autouse=True)
def deconfliction_settings(settings):
    settings.DECONFLICTION_HMAC_KEY = "test-deconfliction-key"
    # The personas' passwords are never checked here; PBKDF2 only slows the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class HookCalls(list):
    def of(self, name: str) -> list[dict]:
        return [kwargs for hook, kwargs in self if hook == name]


@pytest.fixture
def hooks(monkeypatch):
    calls = HookCalls()
    for name in (
        "notify_identifier_matched",
        "notify_undiscoverable_searched",
        "notify_contact_requested",
        "audit_deconfliction_search",
        "audit_identifier_added",
        "audit_contact_requested",
    ):
        monkeypatch.setattr(
            deconfliction, name, lambda _name=name, **kwargs: calls.append((_name, kwargs))
        )
    return calls
