"""Deconfliction fixtures: a key for the HMAC, the audit hooks captured, and
the notification outbox read back.
"""

import pytest

from cases import deconfliction
from notifications.models import OutboxMessage


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
        "audit_deconfliction_search",
        "audit_identifier_added",
        "audit_contact_requested",
    ):
        monkeypatch.setattr(
            deconfliction, name, lambda _name=name, **kwargs: calls.append((_name, kwargs))
        )
    return calls


def told(event_type: str) -> list[dict]:
    """The outbox messages of `event_type`: who is told (`agency`, a public id),
    by whom (`by`, an agency code), about which object."""
    return [
        {**m.payload["ids"], "object": m.payload["object"], "payload": m.payload}
        for m in OutboxMessage.objects.filter(event_type=event_type).order_by("created_at")
    ]
