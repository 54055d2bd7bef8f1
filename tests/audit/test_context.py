"""Request context, logins, and who may read the trail."""

import pytest

from audit import services as audit
from audit.models import AuditEvent
from cases import access
from gate.roles import Role
from tests.factories import PASSWORD, make_user


def test_login_is_recorded_with_ip_and_request_id(client, knp_coordinator):
    knp_coordinator.is_staff = True  # the admin login form admits staff only
    knp_coordinator.save(update_fields=["is_staff"])
    response = client.post(
        "/admin/login/",
        {"username": knp_coordinator.username, "password": PASSWORD},
        HTTP_X_REQUEST_ID="req-from-proxy-0001",
    )
    assert response["X-Request-ID"] == "req-from-proxy-0001"
    event = AuditEvent.objects.get(action="login")
    assert event.actor_id == knp_coordinator.pk
    assert event.agency_code == "KR-KNP"
    assert event.request_id == "req-from-proxy-0001"
    assert event.ip == "127.0.0.1"


def test_failed_login_is_recorded_without_the_password(client, knp_coordinator):
    client.post("/admin/login/", {"username": knp_coordinator.username, "password": "guess-123"})
    event = AuditEvent.objects.get(action="login_failed")
    assert event.outcome == "refused"
    assert event.changes == {"username": knp_coordinator.username}
    assert "guess-123" not in str(AuditEvent.objects.values_list())


def test_malformed_request_id_is_replaced(client, db):
    response = client.get("/admin/login/", HTTP_X_REQUEST_ID="bad id\n<script>")
    assert response["X-Request-ID"] != "bad id\n<script>"
    assert len(response["X-Request-ID"]) == 32


def test_agency_admin_sees_only_their_agencys_events(knp, knp_coordinator, outsider):
    admin = make_user(knp, Role.AGENCY_ADMIN)
    mine = audit.record(action="update", actor=knp_coordinator, object_type="x", object_id="1")
    audit.record(action="update", actor=outsider, object_type="x", object_id="2")
    assert list(access.visible_audit_events(admin).filter(object_type="x")) == [mine]
    assert set(access.visible_audit_events(admin).values_list("agency_code", flat=True)) == {
        "KR-KNP"
    }


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INVESTIGATOR, Role.COORDINATOR])
def test_other_roles_see_no_audit_events(knp, knp_coordinator, role):
    audit.record(action="update", actor=knp_coordinator, object_type="x", object_id="1")
    assert not access.visible_audit_events(make_user(knp, role)).exists()
