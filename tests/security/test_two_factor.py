"""Two-factor authentication: required for privileged roles in production."""

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.tokens import issue_api_token
from gate.roles import Role
from tests.factories import make_user

from .conftest import admin_login, make_staff

pytestmark = pytest.mark.django_db

ENROL_URL = "/account/2fa/setup/"


def code_for(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def coordinator(knp):
    return make_staff(make_user(knp, Role.COORDINATOR))


@pytest.fixture
def viewer(knp):
    return make_staff(make_user(knp, Role.VIEWER))


@pytest.fixture
def enrolled_coordinator(coordinator):
    TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    return coordinator


def test_coordinator_without_a_device_is_sent_to_enrolment_in_production(
    client, production_security, coordinator
):
    admin_login(client, coordinator.username)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == ENROL_URL


def test_agency_admin_must_enrol_in_production(client, production_security, knp):
    agency_admin = make_staff(make_user(knp, Role.AGENCY_ADMIN))
    client.force_login(agency_admin)
    assert client.get("/admin/")["Location"] == ENROL_URL


def test_superuser_must_enrol_in_production(client, production_security):
    root = get_user_model().objects.create_superuser("root", password="x" * 20)
    client.force_login(root)
    assert client.get("/admin/")["Location"] == ENROL_URL


def test_viewer_is_not_held_for_2fa_in_production(client, production_security, viewer):
    client.force_login(viewer)
    assert client.get("/admin/").status_code == 200


def test_require_2fa_for_all_holds_a_viewer_too(client, production_security, viewer):
    production_security.REQUIRE_2FA_FOR_ALL = True
    client.force_login(viewer)
    assert client.get("/admin/")["Location"] == ENROL_URL


def test_2fa_is_optional_for_a_coordinator_in_the_demo(client, demo_security, coordinator):
    response = admin_login(client, coordinator.username)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_api_path_answers_403_json_instead_of_redirecting(client, production_security, coordinator):
    client.force_login(coordinator)
    response = client.get("/api/v1/cases/")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response["Cache-Control"] == "no-store"
    problem = response.json()
    assert "Two-factor" in problem["title"]
    # The API's one shape: a type and a code a client can act on, not about:blank.
    assert problem["type"] == "urn:casebridge:problem:two_factor_required"
    assert problem["code"] == "two_factor_required"


def test_enrolment_page_shows_the_secret_and_otpauth_uri(client, production_security, coordinator):
    client.force_login(coordinator)
    response = client.get(ENROL_URL)
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=coordinator, confirmed=False)
    assert device.config_url in response.content.decode().replace("&amp;", "&")


def test_wrong_code_does_not_confirm_the_device(client, production_security, coordinator):
    client.force_login(coordinator)
    client.get(ENROL_URL)
    response = client.post(ENROL_URL, {"token": "000000"})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert not TOTPDevice.objects.filter(user=coordinator, confirmed=True).exists()
    assert client.get("/admin/")["Location"] == ENROL_URL


def test_right_code_confirms_device_verifies_session_and_gives_recovery_codes(
    client, production_security, coordinator
):
    client.force_login(coordinator)
    client.get(ENROL_URL)
    device = TOTPDevice.objects.get(user=coordinator, confirmed=False)
    response = client.post(ENROL_URL, {"token": code_for(device)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert len(response.context["codes"]) == 10
    assert StaticDevice.objects.get(user=coordinator).token_set.count() == 10
    assert client.get("/admin/").status_code == 200


def test_enrolled_user_cannot_log_in_without_a_code(
    client, production_security, enrolled_coordinator
):
    response = admin_login(client, enrolled_coordinator.username)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_enrolled_user_logs_in_with_a_valid_code_and_is_verified(
    client, production_security, enrolled_coordinator
):
    device = TOTPDevice.objects.get(user=enrolled_coordinator)
    response = admin_login(client, enrolled_coordinator.username, otp_token=code_for(device))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_works_once(client, production_security, enrolled_coordinator):
    static = StaticDevice.objects.create(user=enrolled_coordinator, name="recovery")
    static.token_set.create(token="recover1")
    username = enrolled_coordinator.username
    assert admin_login(client, username, otp_token="recover1").status_code == 302
    client.logout()
    assert admin_login(client, username, otp_token="recover1").status_code == 200


def test_wrong_codes_count_towards_the_lockout(client, production_security, enrolled_coordinator):
    for _ in range(5):
        admin_login(client, enrolled_coordinator.username, otp_token="123456")
    device = TOTPDevice.objects.get(user=enrolled_coordinator)
    response = admin_login(client, enrolled_coordinator.username, otp_token=code_for(device))
    assert response.status_code == 429


def test_password_alone_cannot_add_a_second_device(
    client, production_security, enrolled_coordinator
):
    """A stolen password must not let the thief enrol their own phone."""
    client.force_login(enrolled_coordinator)  # password step only, not verified
    response = client.get(ENROL_URL)
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=enrolled_coordinator).count() == 1
    assert "_auth_user_id" not in client.session


def test_api_tokens_of_service_accounts_are_not_held_for_2fa(client, production_security, knp):
    production_security.REQUIRE_2FA_FOR_ALL = True
    _token, plaintext = issue_api_token(agency=knp, role=Role.COORDINATOR, name="KNP case system")
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 200


def test_a_reset_device_is_replaced_by_a_fresh_key_at_enrolment(
    client, production_security, enrolled_coordinator
):
    """After a lost phone the superuser unticks "confirmed"; the old key must die."""
    old = TOTPDevice.objects.get(user=enrolled_coordinator)
    TOTPDevice.objects.filter(pk=old.pk).update(confirmed=False)
    assert admin_login(client, enrolled_coordinator.username).status_code == 302
    client.get(ENROL_URL)
    new = TOTPDevice.objects.get(user=enrolled_coordinator)
    assert new.pk != old.pk
    assert new.key != old.key
