"""API test helpers: clients logged in as the standard personas."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    """Return a function giving an APIClient authenticated as `user` (session-less)."""

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture(autouse=True)
def _clear_throttle_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_sync_margin(settings):
    """Test client and database share one clock: no skew margin to wait out."""
    settings.API_SYNC_CLOCK_MARGIN = 0


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """The personas get passwords; PBKDF2 would make each test seconds slower."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
