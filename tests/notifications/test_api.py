"""`/api/v1/notifications/`: each person lists and marks only their own."""

import pytest
from rest_framework.test import APIClient

from notifications import dispatch
from notifications.models import Notification
from notifications.outbox import emit

pytestmark = pytest.mark.usefixtures("eager")


@pytest.fixture(autouse=True)
def _api_settings(settings):
    from django.core.cache import cache

    settings.API_SYNC_CLOCK_MARGIN = 0
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def notification(shared_case, knp_coordinator, ccos, kh_coordinator):
    message = emit("case.shared", obj=shared_case, actor=knp_coordinator, agency=ccos.public_id)
    dispatch.deliver_message(str(message.pk))
    return Notification.objects.get(recipient=kh_coordinator)


def test_recipient_lists_own_notification(notification, kh_coordinator, shared_case):
    response = client_for(kh_coordinator).get("/api/v1/notifications/")
    assert response.status_code == 200, response.content
    [row] = response.json()["results"]
    assert row["id"] == str(notification.public_id)
    assert row["kind"] == "case.shared"
    assert row["read"] is False
    assert row["object"]["id"] == str(shared_case.public_id)
    assert row["object"]["url"].endswith(f"/api/v1/cases/{shared_case.public_id}/")


def test_recipient_marks_notification_read(notification, kh_coordinator):
    response = client_for(kh_coordinator).post(
        f"/api/v1/notifications/{notification.public_id}/read/"
    )
    assert response.status_code == 200, response.content
    assert response.json()["read"] is True
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_unread_filter_hides_read_notifications(notification, kh_coordinator):
    client = client_for(kh_coordinator)
    client.post("/api/v1/notifications/read-all/")
    assert client.get("/api/v1/notifications/?unread=true").json()["results"] == []
    assert len(client.get("/api/v1/notifications/?unread=false").json()["results"]) == 1


def test_mark_all_read_marks_only_own(notification, kh_investigator, kh_coordinator):
    response = client_for(kh_investigator).post("/api/v1/notifications/read-all/")
    assert response.json() == {"marked": 0}
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.parametrize("persona", ["kh_investigator", "knp_coordinator", "outsider"])
def test_someone_elses_notification_is_404(notification, persona, request):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    url = f"/api/v1/notifications/{notification.public_id}/"
    assert client.get(url).status_code == 404
    assert client.post(f"{url}read/").status_code == 404
    assert client.get("/api/v1/notifications/").json()["results"] == []
    notification.refresh_from_db()
    assert notification.read_at is None


def test_anonymous_is_refused(notification):
    assert APIClient().get("/api/v1/notifications/").status_code in (401, 403)


def test_notifications_cannot_be_created_through_the_api(kh_coordinator):
    response = client_for(kh_coordinator).post("/api/v1/notifications/", {"text": "x"})
    assert response.status_code == 405
    assert not Notification.objects.exists()
