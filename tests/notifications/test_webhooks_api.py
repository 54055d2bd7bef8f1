"""`/api/v1/webhooks/` and `/api/v1/events/catalogue/`: agency administrators
manage their agency's endpoints through the API; deliveries are listed,
re-sent, signed and described by the catalogue."""

from __future__ import annotations

import json

import jsonschema
import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from notifications import dispatch, webhooks
from notifications.catalogue import BY_TYPE
from notifications.choices import DeliveryStatus, EventType
from notifications.models import Delivery, WebhookEndpoint
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


def create(admin, url: str, **body):
    return client_for(admin).post("/api/v1/webhooks/", {"url": url, **body}, format="json")


def share_event(shared_case, knp_coordinator, ccos):
    message = emit("case.shared", obj=shared_case, actor=knp_coordinator, agency=ccos.public_id)
    return message, dispatch.deliver_message(str(message.pk))


def test_agency_admin_creates_an_endpoint_and_sees_its_secret_once(kh_admin, ccos):
    response = create(kh_admin, "https://kh.example/hook", events=["case.shared"])

    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(public_id=body["id"])
    assert body["secret"] == endpoint.secret and endpoint.agency == ccos
    assert response["Location"].endswith(f"/api/v1/webhooks/{body['id']}/")
    again = client_for(kh_admin).get(f"/api/v1/webhooks/{body['id']}/")
    assert again.status_code == 200 and "secret" not in again.json()
    listed = client_for(kh_admin).get("/api/v1/webhooks/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]] and "secret" not in listed[0]


def test_creating_an_endpoint_is_audited_without_its_secret(kh_admin):
    body = create(kh_admin, "https://kh.example/hook").json()

    event = AuditEvent.objects.get(object_type="notifications.webhookendpoint", action="create")
    assert event.object_id == body["id"]
    assert body["secret"] not in json.dumps(event.changes)


def test_a_coordinator_cannot_create_or_see_endpoints(kh_admin, kh_coordinator):
    endpoint = create(kh_admin, "https://kh.example/hook").json()

    client = client_for(kh_coordinator)
    assert create(kh_coordinator, "https://kh.example/other").status_code == 403
    assert client.get("/api/v1/webhooks/").json()["results"] == []
    assert client.get(f"/api/v1/webhooks/{endpoint['id']}/").status_code == 404
    assert WebhookEndpoint.objects.count() == 1


def test_another_agencys_admin_gets_404_and_changes_nothing(kh_admin, unodc_admin):
    endpoint = create(kh_admin, "https://kh.example/hook").json()

    client = client_for(unodc_admin)
    url = f"/api/v1/webhooks/{endpoint['id']}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"active": False}, format="json").status_code == 404
    assert client.post(f"{url}rotate-secret/").status_code == 404
    assert client.delete(url).status_code == 404
    assert WebhookEndpoint.objects.get().active


def test_plain_http_url_is_400_with_the_field_named_outside_development(kh_admin, settings):
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_HTTP = False

    response = create(kh_admin, "http://kh.example/hook")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["url"]
    assert not WebhookEndpoint.objects.exists()


def test_unknown_event_type_is_400(kh_admin):
    response = create(kh_admin, "https://kh.example/hook", events=["case.exploded"])

    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_rotating_the_secret_signs_the_next_delivery_with_the_new_one(
    kh_admin, shared_case, knp_coordinator, ccos, receiver
):
    hook = receiver()
    created = create(kh_admin, hook.url)
    old = created.json()
    response = client_for(kh_admin).post(
        f"/api/v1/webhooks/{old['id']}/rotate-secret/", HTTP_IF_MATCH=created["ETag"]
    )
    assert response.status_code == 200, response.content
    new_secret = response.json()["secret"]
    assert new_secret != old["secret"]

    _message, result = share_event(shared_case, knp_coordinator, ccos)
    dispatch.send_webhook(result.webhook_ids[0])

    [request] = hook.requests
    headers = request["headers"]
    timestamp, signature = headers["X-Casebridge-Timestamp"], headers["X-Casebridge-Signature"]
    assert webhooks.verify(new_secret, timestamp, request["body"], signature)
    assert not webhooks.verify(old["secret"], timestamp, request["body"], signature)


def test_a_paused_endpoint_gets_nothing_and_resuming_clears_its_failures(
    kh_admin, shared_case, knp_coordinator, ccos, receiver
):
    hook = receiver()
    created = create(kh_admin, hook.url)
    url = f"/api/v1/webhooks/{created.json()['id']}/"
    paused = client_for(kh_admin).patch(
        url, {"active": False}, format="json", HTTP_IF_MATCH=created["ETag"]
    )
    assert paused.status_code == 200 and paused.json()["active"] is False

    _message, result = share_event(shared_case, knp_coordinator, ccos)
    assert result.webhook_ids == ()

    WebhookEndpoint.objects.update(consecutive_failures=3)
    resumed = (
        client_for(kh_admin)
        .patch(url, {"active": True}, format="json", HTTP_IF_MATCH=paused["ETag"])
        .json()
    )
    assert resumed["active"] is True and resumed["consecutive_failures"] == 0


def test_a_stale_if_match_is_412_and_changes_nothing(kh_admin):
    created = create(kh_admin, "https://kh.example/hook")
    url = f"/api/v1/webhooks/{created.json()['id']}/"
    client = client_for(kh_admin)
    first = client.patch(
        url, {"events": ["task.assigned"]}, format="json", HTTP_IF_MATCH=created["ETag"]
    )
    assert first.status_code == 200

    stale = client.patch(
        url, {"active": False}, format="json", headers={"If-Match": created["ETag"]}
    )

    assert stale.status_code == 412
    assert WebhookEndpoint.objects.get().active


def test_deliveries_list_status_attempts_and_the_partners_answer(
    kh_admin, shared_case, knp_coordinator, ccos, receiver
):
    hook = receiver(default=503)
    endpoint = create(kh_admin, hook.url).json()
    message, result = share_event(shared_case, knp_coordinator, ccos)
    dispatch.send_webhook(result.webhook_ids[0])

    response = client_for(kh_admin).get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/")

    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == str(message.pk) and row["event_type"] == "case.shared"
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, 503)


def test_redeliver_sends_a_dead_delivery_again_and_is_audited(
    kh_admin, shared_case, knp_coordinator, ccos, receiver, django_capture_on_commit_callbacks
):
    hook = receiver(script=[500])
    created = create(kh_admin, hook.url)
    endpoint = created.json()
    message, result = share_event(shared_case, knp_coordinator, ccos)
    dispatch.send_webhook(result.webhook_ids[0])
    Delivery.objects.filter(pk=result.webhook_ids[0]).update(status=DeliveryStatus.DEAD)

    url = f"/api/v1/webhooks/{endpoint['id']}/deliveries/{message.pk}/redeliver/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(kh_admin).post(url, HTTP_IF_MATCH=created["ETag"])

    assert response.status_code == 202, response.content
    assert [r["status"] for r in hook.requests] == [500, 200]
    assert Delivery.objects.get(pk=result.webhook_ids[0]).status == DeliveryStatus.SENT
    assert AuditEvent.objects.filter(
        object_type="notifications.webhookendpoint", changes__redelivered__event=str(message.pk)
    ).exists()


def test_redeliver_of_an_event_the_endpoint_never_had_is_404(kh_admin):
    created = create(kh_admin, "https://kh.example/hook")
    endpoint = created.json()
    url = f"/api/v1/webhooks/{endpoint['id']}/deliveries/{endpoint['id']}/redeliver/"

    assert client_for(kh_admin).post(url, HTTP_IF_MATCH=created["ETag"]).status_code == 404


def test_a_signed_delivery_carries_type_version_id_and_time_as_the_catalogue_says(
    kh_admin, shared_case, knp_coordinator, ccos, receiver
):
    hook = receiver()
    create(kh_admin, hook.url)
    message, result = share_event(shared_case, knp_coordinator, ccos)
    dispatch.send_webhook(result.webhook_ids[0])

    [request] = hook.requests
    body = json.loads(request["body"])
    catalogue = client_for(kh_admin).get("/api/v1/events/catalogue/").json()
    [spec] = [e for e in catalogue["events"] if e["type"] == "case.shared"]
    jsonschema.validate(body, spec["schema"])
    assert body["id"] == str(message.pk) and body["version"] == spec["version"]
    assert request["headers"]["X-Casebridge-Event"] == "case.shared"
    assert request["headers"]["X-Casebridge-Event-Id"] == str(message.pk)
    assert request["headers"]["X-Casebridge-Event-Version"] == str(spec["version"])


def test_catalogue_lists_every_event_type_and_access_revoked(kh_coordinator):
    response = client_for(kh_coordinator).get("/api/v1/events/catalogue/")

    assert response.status_code == 200
    types = {e["type"] for e in response.json()["events"]}
    assert types == set(EventType.values)
    assert set(BY_TYPE) == types
    for event in response.json()["events"]:
        jsonschema.Draft202012Validator.check_schema(event["schema"])


def test_deleting_an_endpoint_is_audited(kh_admin):
    created = create(kh_admin, "https://kh.example/hook")
    endpoint = created.json()

    response = client_for(kh_admin).delete(
        f"/api/v1/webhooks/{endpoint['id']}/", HTTP_IF_MATCH=created["ETag"]
    )

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(object_id=endpoint["id"], action="delete").exists()


def test_an_endpoint_may_subscribe_to_every_catalogued_event(kh_admin):
    response = create(kh_admin, "https://kh.example/hook", events=sorted(BY_TYPE))

    assert response.status_code == 201, response.content
    assert set(response.json()["events"]) == set(BY_TYPE)
