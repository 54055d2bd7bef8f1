"""Production-like security switches for the tests in this folder."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

LOGIN_URL = "/admin/login/"


@pytest.fixture
def production_security(settings):
    """What DEBUG=0 gives, minus the HTTPS redirect (the test client speaks HTTP)."""
    settings.AXES_ENABLED = True
    settings.REQUIRE_2FA_FOR_PRIVILEGED = True
    settings.REQUIRE_2FA_FOR_ALL = False
    return settings


@pytest.fixture
def demo_security(settings):
    """What `make run` (DEBUG=1) gives."""
    settings.AXES_ENABLED = True
    settings.REQUIRE_2FA_FOR_PRIVILEGED = False
    settings.REQUIRE_2FA_FOR_ALL = False
    return settings


def make_staff(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def admin_login(client, username, password=PASSWORD, otp_token="", **extra):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "otp_token": otp_token, "next": "/admin/"},
        **extra,
    )


def admin_index_url():
    return reverse("admin:index")
