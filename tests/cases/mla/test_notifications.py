"""Each transition tells the other side through the outbox, in the same
transaction; a refused transition and a withdrawn draft tell nobody."""

import pytest

from cases import mla
from cases.choices import MLAStatus
from gate.errors import Conflict
from notifications.models import OutboxMessage


def messages_for(request):
    return list(OutboxMessage.objects.filter(object_id=request.public_id).order_by("created_at"))


def test_submission_tells_the_requested_agency(mla_draft, knp_coordinator, kh_moj):
    mla.submit_mla_request(actor=knp_coordinator, request=mla_draft)

    [message] = messages_for(mla_draft)
    assert message.event_type == "mla.submitted"
    assert message.payload["ids"] == {"agency": str(kh_moj.public_id), "verb": "submit"}


def test_answer_of_the_requested_side_tells_the_requesting_agency(in_state, moj_coordinator, knp):
    submitted = in_state(MLAStatus.SUBMITTED)

    mla.acknowledge_mla_request(actor=moj_coordinator, request=submitted)

    last = messages_for(submitted)[-1]
    assert last.event_type == "mla.transitioned"
    assert last.payload["ids"] == {"agency": str(knp.public_id), "verb": "acknowledge"}


def test_payload_holds_no_content(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    mla.refuse_mla_request(actor=moj_coordinator, request=submitted, grounds="Political offence.")

    assert all("Political offence" not in str(m.payload) for m in messages_for(submitted))


def test_withdrawn_draft_tells_nobody(mla_draft, knp_coordinator):
    mla.withdraw_mla_request(actor=knp_coordinator, request=mla_draft)

    assert messages_for(mla_draft) == []


def test_refused_transition_tells_nobody(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)
    before = len(messages_for(submitted))

    with pytest.raises(Conflict):
        mla.execute_mla_request(actor=moj_coordinator, request=submitted)

    assert len(messages_for(submitted)) == before


def test_delay_notice_tells_the_requesting_agency(in_state, moj_coordinator, knp):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)

    mla.file_delay_notice(
        actor=moj_coordinator,
        request=acknowledged,
        reason="Court order pending.",
        new_due=acknowledged.decision_due.replace(year=acknowledged.decision_due.year + 1),
    )

    last = messages_for(acknowledged)[-1]
    assert last.payload["ids"] == {"agency": str(knp.public_id), "verb": "file-delay-notice"}
