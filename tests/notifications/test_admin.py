"""Admin: own notifications with an unread badge; webhooks for agency admins only."""

import pytest
from django.test import Client

from notifications import dispatch
from notifications.models import Notification, WebhookEndpoint
from notifications.outbox import emit
from notifications.services import create_webhook_endpoint

pytestmark = pytest.mark.usefixtures("eager")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def notification(shared_case, knp_coordinator, ccos, kh_coordinator):
    message = emit("case.shared", obj=shared_case, actor=knp_coordinator, agency=ccos.public_id)
    dispatch.deliver_message(str(message.pk))
    return Notification.objects.get(recipient=kh_coordinator)


def test_header_shows_the_unread_count(notification, kh_coordinator):
    body = login(kh_coordinator).get("/admin/").content.decode()
    assert 'class="cb-badge">1<' in body


def test_opening_a_notification_marks_it_read(notification, kh_coordinator):
    client = login(kh_coordinator)
    url = f"/admin/notifications/notification/{notification.pk}/change/"
    assert client.get(url).status_code == 200
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert 'class="cb-badge"' not in client.get("/admin/").content.decode()


@pytest.mark.parametrize("persona", ["kh_investigator", "knp_coordinator", "outsider"])
def test_someone_elses_notification_is_invisible_in_the_admin(notification, persona, request):
    client = login(request.getfixturevalue(persona))
    url = f"/admin/notifications/notification/{notification.pk}/change/"
    assert client.get(url).status_code == 404
    listing = client.get("/admin/notifications/notification/").content.decode()
    assert notification.text not in listing
    notification.refresh_from_db()
    assert notification.read_at is None


def test_agency_admin_adds_a_webhook_endpoint_for_its_own_agency(kh_admin, ccos, settings):
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_HTTP = False
    response = login(kh_admin).post(
        "/admin/notifications/webhookendpoint/add/",
        {"url": "https://partner.example/hook", "events": ["case.shared"], "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.agency == ccos and endpoint.events == ["case.shared"]


def test_bad_webhook_url_is_a_form_error_and_saves_nothing(kh_admin, settings):
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_HTTP = False
    response = login(kh_admin).post(
        "/admin/notifications/webhookendpoint/add/", {"url": "http://partner.example/hook"}
    )
    assert response.status_code == 200
    assert "https" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_coordinator_cannot_manage_webhooks(kh_coordinator):
    client = login(kh_coordinator)
    assert client.get("/admin/notifications/webhookendpoint/add/").status_code == 403
    assert client.get("/admin/notifications/webhookendpoint/").status_code == 403


def test_other_agencys_admin_gets_404_on_an_endpoint(kh_admin, unodc_admin, settings):
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_HTTP = False
    endpoint = create_webhook_endpoint(actor=kh_admin, url="https://kh.example/hook")
    client = login(unodc_admin)
    url = f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/"
    assert client.get(url).status_code == 404
    listing = client.get("/admin/notifications/webhookendpoint/").content.decode()
    assert endpoint.secret not in listing
