"""MLA and deconfliction writes go on the audit log too: one event per change,
none for a refusal, and never an identifier's value."""

import pytest
from django.db.models import Max

from agencies.choices import AgencyKind
from audit.models import AuditEvent
from cases import deconfliction, mla
from gate.errors import DomainError
from gate.roles import Role
from tests.cases.mla.helpers import draft
from tests.factories import make_agency, make_user


def _new_events(call):
    last = AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0
    call()
    return list(
        AuditEvent.objects.filter(seq__gt=last).order_by("seq").values_list("action", "reason")
    )


@pytest.fixture
def kh_moj(db):
    return make_agency(
        "KH-MOJ", name="Ministry of Justice", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY
    )


def test_mla_draft_and_submission_are_one_event_each(knp_coordinator, case, kh_moj):
    holder = {}
    events = _new_events(lambda: holder.setdefault("r", draft(knp_coordinator, case, kh_moj)))
    assert events == [("create", "")]
    request = holder["r"]
    events = _new_events(lambda: mla.submit_mla_request(actor=knp_coordinator, request=request))
    assert events == [("transition", "submit")]


def test_refused_mla_transition_writes_nothing(knp_coordinator, case, kh_moj):
    request = draft(knp_coordinator, case, kh_moj)
    stranger = make_user(kh_moj, Role.COORDINATOR)

    def refused():
        with pytest.raises(DomainError):
            mla.acknowledge_mla_request(actor=stranger, request=request)

    assert _new_events(refused) == []


def test_identifier_is_audited_without_its_value(knp_coordinator, case, settings):
    settings.DECONFLICTION_HMAC_KEY = "test-deconfliction-key"
    phone = "+82 10 9876 5432"
    events = _new_events(
        lambda: deconfliction.add_identifier(
            actor=knp_coordinator, case=case, kind="phone", value=phone
        )
    )
    assert ("create", "") in events
    logged = str(list(AuditEvent.objects.values_list("changes", flat=True)))
    assert "9876" not in logged and "5432" not in logged
