"""Sessions: idle timeout, absolute lifetime, rotation at login, end on deactivation."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from agencies import services as agency_services
from agencies.models import ApiToken
from agencies.tokens import issue_api_token
from gate.errors import PermissionDenied
from gate.roles import Role
from security.signals import AUTH_TIME_KEY, LAST_ACTIVITY_KEY
from tests.factories import make_user

from .conftest import admin_login

pytestmark = pytest.mark.django_db


def _age_session(client, **seconds_ago):
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[key] = now - ago
    session.save()


def _logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_session_idle_for_more_than_the_timeout_is_ended(client, knp_viewer):
    client.force_login(knp_viewer)
    _age_session(client, **{LAST_ACTIVITY_KEY: 31 * 60})
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in client.session


def test_session_used_within_the_timeout_stays(client, knp_viewer):
    client.force_login(knp_viewer)
    _age_session(client, **{LAST_ACTIVITY_KEY: 29 * 60})
    assert _logged_in(client)


def test_idle_timeout_follows_the_setting(client, settings, knp_viewer):
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    client.force_login(knp_viewer)
    _age_session(client, **{LAST_ACTIVITY_KEY: 6 * 60})
    assert not _logged_in(client)


def test_activity_moves_the_idle_clock_forward(client, knp_viewer):
    client.force_login(knp_viewer)
    _age_session(client, **{LAST_ACTIVITY_KEY: 20 * 60})
    assert _logged_in(client)
    assert int(time.time()) - client.session[LAST_ACTIVITY_KEY] < 5


def test_session_older_than_the_absolute_lifetime_is_ended_even_if_active(client, knp_viewer):
    client.force_login(knp_viewer)
    _age_session(client, **{AUTH_TIME_KEY: 12 * 60 * 60 + 1, LAST_ACTIVITY_KEY: 10})
    assert not _logged_in(client)


def test_login_rotates_the_session_key(client, knp_viewer):
    anonymous = client.session
    anonymous["planted"] = "by an attacker"
    anonymous.save()
    before = anonymous.session_key
    assert admin_login(client, knp_viewer.username).status_code == 302
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def _two_sessions(user):
    clients = [Client(), Client()]
    for c in clients:
        c.force_login(user)
    return clients


def _a_token_for(user) -> ApiToken:
    return ApiToken.objects.create(
        user=user, name="laptop script", prefix="cb_x", key_hash="a" * 64
    )


def test_deactivating_a_member_ends_their_sessions_and_revokes_their_tokens(knp, knp_viewer):
    admin_user = make_user(knp, Role.AGENCY_ADMIN)
    clients = _two_sessions(knp_viewer)
    keys = [c.session.session_key for c in clients]
    token = _a_token_for(knp_viewer)
    agency_services.deactivate_member(actor=admin_user, membership=knp_viewer.membership)
    assert not Session.objects.filter(session_key__in=keys).exists()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not any(_logged_in(c) for c in clients)


def test_deactivating_a_member_leaves_colleagues_signed_in(knp, knp_viewer, knp_coordinator):
    admin_user = make_user(knp, Role.AGENCY_ADMIN)
    colleague = Client()
    colleague.force_login(knp_coordinator)
    agency_services.deactivate_member(actor=admin_user, membership=knp_viewer.membership)
    assert _logged_in(colleague)


def test_deactivating_an_agency_ends_every_members_sessions_and_tokens(client, knp, knp_viewer):
    root = get_user_model().objects.create_superuser("root", password="x" * 20)
    clients = _two_sessions(knp_viewer)
    _token, plaintext = issue_api_token(agency=knp, role=Role.VIEWER, name="KNP case system")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    assert client.get("/api/v1/cases/", **auth).status_code == 200
    agency_services.deactivate_agency(actor=root, agency=knp)
    assert not any(_logged_in(c) for c in clients)
    assert not ApiToken.objects.filter(user__membership__agency=knp, revoked_at=None).exists()
    assert client.get("/api/v1/cases/", **auth).status_code == 401


def test_only_a_superuser_may_deactivate_an_agency(knp):
    agency_admin = make_user(knp, Role.AGENCY_ADMIN)
    with pytest.raises(PermissionDenied):
        agency_services.deactivate_agency(actor=agency_admin, agency=knp)
    knp.refresh_from_db()
    assert knp.active


def test_switching_a_user_off_by_any_other_path_still_ends_sessions(knp_viewer):
    (c,) = _two_sessions(knp_viewer)[:1]
    knp_viewer.is_active = False
    knp_viewer.save()
    assert not _logged_in(c)
    assert not Session.objects.filter(session_key=c.session.session_key).exists()


def test_agency_switched_off_through_update_agency_revokes_tokens(knp):
    issue_api_token(agency=knp, role=Role.VIEWER, name="KNP case system")
    agency_services.update_agency(agency=knp, active=False)
    assert not ApiToken.objects.filter(user__membership__agency=knp, revoked_at=None).exists()


def test_logout_removes_the_session_from_the_index(client, knp_viewer):
    from security.models import UserSession

    client.force_login(knp_viewer)
    assert UserSession.objects.filter(user=knp_viewer).count() == 1
    client.post("/admin/logout/")
    assert not UserSession.objects.filter(user=knp_viewer).exists()


def test_ending_access_is_in_the_audit_log(knp, knp_viewer):
    from audit.models import AuditAction, AuditEvent

    admin_user = make_user(knp, Role.AGENCY_ADMIN)
    _two_sessions(knp_viewer)
    _a_token_for(knp_viewer)
    agency_services.deactivate_member(actor=admin_user, membership=knp_viewer.membership)
    event = AuditEvent.objects.get(action=AuditAction.REVOKE, object_id=str(knp_viewer.pk))
    assert event.changes == {"sessions_ended": 2, "api_clients_revoked": 1}
