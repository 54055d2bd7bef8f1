"""CSRF is enforced on admin forms (the test client skips it unless told)."""

import pytest
from django.test import Client

from .conftest import LOGIN_URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def test_admin_login_without_csrf_token_is_refused(csrf_client, knp_viewer):
    response = csrf_client.post(LOGIN_URL, {"username": knp_viewer.username, "password": "x"})
    assert response.status_code == 403


def test_admin_login_with_csrf_token_is_accepted(csrf_client, knp_viewer):
    from tests.factories import PASSWORD

    csrf_client.get(LOGIN_URL)
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(
        LOGIN_URL,
        {"username": knp_viewer.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_admin_form_post_without_csrf_token_is_refused(csrf_client, knp_viewer):
    csrf_client.force_login(knp_viewer)
    response = csrf_client.post("/admin/preferences/", {"language": "ko"})
    assert response.status_code == 403
    knp_viewer.membership.refresh_from_db()
    assert knp_viewer.membership.language == ""


def test_admin_logout_without_csrf_token_is_refused(csrf_client, knp_viewer):
    csrf_client.force_login(knp_viewer)
    assert csrf_client.post("/admin/logout/").status_code == 403
    assert "_auth_user_id" in csrf_client.session


def test_enrolment_post_without_csrf_token_is_refused(csrf_client, knp_viewer):
    csrf_client.force_login(knp_viewer)
    assert csrf_client.post("/account/2fa/setup/", {"token": "123456"}).status_code == 403
