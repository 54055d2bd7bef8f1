"""`case.access_revoked`: the agency that lost a case is told by webhook, with ids only."""

import json

import pytest

from cases import services
from notifications import dispatch
from notifications.models import OutboxMessage
from notifications.services import create_webhook_endpoint
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("eager")


def test_the_agency_that_lost_access_receives_a_signed_event_naming_its_tombstone(
    shared_case, knp_coordinator, ccos, kh_admin, receiver
):
    theirs = receiver()
    lead = receiver()
    create_webhook_endpoint(actor=kh_admin, url=theirs.url)
    create_webhook_endpoint(actor=make_user(knp_coordinator.membership.agency, "agency_admin"),
                            url=lead.url)  # fmt: skip
    participation = shared_case.participations.get(agency=ccos, revoked_at__isnull=True)
    services.revoke_case(actor=knp_coordinator, participation=participation)

    message = OutboxMessage.objects.get(event_type="case.access_revoked")
    result = dispatch.deliver_message(str(message.pk))
    for delivery_id in result.webhook_ids:
        dispatch.send_webhook(delivery_id)

    [request] = theirs.requests
    body = json.loads(request["body"])
    assert body["type"] == "case.access_revoked"
    assert body["object"]["type"] == "case_tombstone"
    assert body["object"]["url"].endswith(f"/api/v1/cases/tombstones/{body['object']['id']}/")
    assert shared_case.title not in request["body"].decode()
    assert "X-Casebridge-Signature" in request["headers"]
    assert lead.requests == []  # the lead still sees the case: nothing to tell


def test_no_event_is_sent_once_the_case_is_shared_again(
    shared_case, knp_coordinator, ccos, kh_admin, receiver
):
    hook = receiver()
    create_webhook_endpoint(actor=kh_admin, url=hook.url)
    participation = shared_case.participations.get(agency=ccos, revoked_at__isnull=True)
    services.revoke_case(actor=knp_coordinator, participation=participation)
    services.share_case(actor=knp_coordinator, case=shared_case, agency=ccos, level="view")

    message = OutboxMessage.objects.get(event_type="case.access_revoked")
    assert dispatch.deliver_message(str(message.pk)).webhook_ids == ()
    assert hook.requests == []
