"""Brute-force protection: 5 failures lock username+address for 15 minutes."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from gate.roles import Role
from tests.factories import make_user

from .conftest import admin_login, make_staff

pytestmark = pytest.mark.django_db


def _fail(client, username, times):
    return [admin_login(client, username, password="wrong-password") for _ in range(times)]


@pytest.fixture
def staff_viewer(knp, production_security):
    return make_staff(make_user(knp, Role.VIEWER))


def test_five_failures_lock_out_a_known_user_even_with_the_right_password(client, staff_viewer):
    responses = _fail(client, staff_viewer.username, 5)
    assert [r.status_code for r in responses[:4]] == [200] * 4
    response = admin_login(client, staff_viewer.username)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_unknown_and_known_usernames_get_the_same_lockout_answer(client, staff_viewer):
    known = _fail(client, staff_viewer.username, 6)
    unknown = _fail(client, "nobody.at.all", 6)
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert known[0].context["form"].errors == unknown[0].context["form"].errors
    assert known[-1].content == unknown[-1].content


def test_lockout_is_per_username_and_address(client, staff_viewer):
    _fail(client, staff_viewer.username, 5)
    response = admin_login(client, staff_viewer.username, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302


def test_lockout_ends_after_the_cool_off_window(client, staff_viewer):
    _fail(client, staff_viewer.username, 5)
    assert admin_login(client, staff_viewer.username).status_code == 429
    # Time travel: the failures happened 16 minutes ago.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = admin_login(client, staff_viewer.username)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_viewer.pk)


def test_lockout_still_holds_just_inside_the_window(client, staff_viewer):
    _fail(client, staff_viewer.username, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert admin_login(client, staff_viewer.username).status_code == 429


def test_every_failure_and_the_lockout_are_recorded(client, staff_viewer, caplog):
    with caplog.at_level(logging.WARNING, logger="casebridge.security"):
        _fail(client, staff_viewer.username, 5)
    events = [r.event for r in caplog.records if hasattr(r, "event")]
    assert events.count("auth.login_failed") == 5
    assert events.count("auth.locked_out") == 1
    assert {r.username for r in caplog.records if hasattr(r, "event")} == {staff_viewer.username}


def test_one_address_spraying_many_usernames_is_throttled(client, settings, staff_viewer):
    settings.LOGIN_IP_RATE_LIMIT = 8
    codes = [admin_login(client, f"user{i}", password="guess").status_code for i in range(9)]
    assert codes[:8] == [200] * 8
    assert codes[8] == 429


def test_a_successful_login_resets_the_failure_count(client, staff_viewer):
    _fail(client, staff_viewer.username, 4)
    assert admin_login(client, staff_viewer.username).status_code == 302
    client.logout()
    _fail(client, staff_viewer.username, 4)
    assert admin_login(client, staff_viewer.username).status_code == 302


def test_failures_and_the_lockout_are_in_the_audit_log(client, staff_viewer):
    from audit.models import AuditAction, AuditEvent

    _fail(client, staff_viewer.username, 5)
    failed = list(AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED))
    assert sum(1 for e in failed if e.changes.get("locked_out")) == 1
    assert sum(1 for e in failed if not e.changes.get("locked_out")) == 5
    assert {e.changes["username"] for e in failed} == {staff_viewer.username}
    assert all(e.ip == "127.0.0.1" and e.request_id for e in failed)
