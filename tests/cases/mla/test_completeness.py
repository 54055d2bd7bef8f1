"""Submission is refused while a request lacks what the requested side needs
to act on it (the UNODC Request Writer's prompts), listing every gap."""

import datetime as dt

import pytest
from django.utils import timezone

from cases import mla
from cases.choices import AssistanceType, LegalBasis, MLAKind, MLAStatus, Urgency
from cases.models import MLARequest, MLARequestGroupObjectPermission
from gate.errors import ValidationFailed

from .helpers import draft


def _submit_refused(actor, request) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as exc:
        mla.submit_mla_request(actor=actor, request=request)
    row = MLARequest.objects.get(pk=request.pk)
    assert row.status == MLAStatus.DRAFT
    assert row.version == request.version
    assert row.history.count() == 0
    assert MLARequestGroupObjectPermission.objects.filter(content_object=row).count() == 1
    return exc.value.errors


def test_complete_request_is_submitted(mla_draft, knp_coordinator):
    submitted = mla.submit_mla_request(actor=knp_coordinator, request=mla_draft)

    assert submitted.status == MLAStatus.SUBMITTED


def test_search_and_seizure_needs_grounds_for_the_evidence_location(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        assistance_types=[AssistanceType.SEARCH_AND_SEIZURE],
        details={AssistanceType.SEARCH_AND_SEIZURE: {"premises": "Building B, floor 3"}},
    )

    errors = _submit_refused(knp_coordinator, request)

    assert set(errors) == {"details.search_and_seizure.evidence_grounds"}


def test_bank_records_need_accounts_banks_and_period(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        assistance_types=[AssistanceType.BANK_RECORDS],
        details={},
    )

    errors = _submit_refused(knp_coordinator, request)

    assert set(errors) == {
        "details.bank_records.account_identifiers",
        "details.bank_records.bank_identifiers",
        "details.bank_records.period_start",
        "details.bank_records.period_end",
    }


def test_bank_records_period_must_not_end_before_it_starts(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        assistance_types=[AssistanceType.BANK_RECORDS],
        details={
            AssistanceType.BANK_RECORDS: {
                "account_identifiers": ["123"],
                "bank_identifiers": ["ACLEDA"],
                "period_start": "2025-06-30",
                "period_end": "2025-01-01",
            }
        },
    )

    errors = _submit_refused(knp_coordinator, request)

    assert set(errors) == {"details.bank_records.period_end"}


def test_subscriber_data_needs_identifiers_and_time_window(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        assistance_types=[AssistanceType.SUBSCRIBER_DATA],
        details={AssistanceType.SUBSCRIBER_DATA: {"identifiers": ["+85512345678"]}},
    )

    errors = _submit_refused(knp_coordinator, request)

    assert set(errors) == {
        "details.subscriber_data.period_start",
        "details.subscriber_data.period_end",
    }


def test_witness_statement_needs_the_person_and_the_questions(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        assistance_types=[AssistanceType.WITNESS_STATEMENT],
        details={AssistanceType.WITNESS_STATEMENT: {"person": "", "questions": [" "]}},
    )

    errors = _submit_refused(knp_coordinator, request)

    assert set(errors) == {
        "details.witness_statement.person",
        "details.witness_statement.questions",
    }


def test_every_gap_is_listed_at_once(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        facts="",
        offences="",
        assistance_sought="",
        urgency=Urgency.URGENT,
        legal_basis=LegalBasis.BILATERAL_TREATY,
        assistance_types=[],
        details={},
    )

    errors = _submit_refused(knp_coordinator, request)

    assert set(errors) == {
        "facts",
        "offences",
        "assistance_sought",
        "urgency_reason",
        "legal_basis_detail",
        "assistance_types",
    }


def test_asked_deadline_needs_reasons(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        response_due_date=timezone.now().date() + dt.timedelta(days=20),
    )

    errors = _submit_refused(knp_coordinator, request)

    assert set(errors) == {"response_due_reason"}


def test_preservation_request_needs_the_data_and_its_custodian(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        kind=MLAKind.PRESERVATION,
        assistance_types=[AssistanceType.SUBSCRIBER_DATA],
        assistance_sought="",
        details={},
    )

    errors = _submit_refused(knp_coordinator, request)

    assert set(errors) == {"details.preservation.stored_data", "details.preservation.custodian"}
