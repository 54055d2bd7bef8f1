"""Deadlines as clocks: decide within 30 days of receipt, execute within 90
days of accepting (EIO), configurable per legal basis, shortened on request,
urgent in 7 days, and one delay notice."""

import datetime as dt
import zoneinfo

import pytest
from django.test import override_settings
from django.utils import timezone

from cases import mla
from cases.choices import LegalBasis, MLAStatus, Urgency
from cases.models import MLARequest
from gate.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from .helpers import draft

DAY = dt.timedelta(days=1)


def _submitted(actor, request):
    return mla.submit_mla_request(actor=actor, request=request)


def test_submission_starts_the_30_day_decision_clock(in_state):
    submitted = in_state(MLAStatus.SUBMITTED)

    assert submitted.received_at is not None
    assert submitted.decision_due == submitted.received_at + 30 * DAY


def test_acceptance_starts_the_90_day_execution_clock(in_state):
    executing = in_state(MLAStatus.IN_EXECUTION)

    assert executing.accepted_at is not None
    assert executing.execution_due == executing.accepted_at + 90 * DAY


@override_settings(
    MLA_DEADLINES={
        "default": {"decision_days": 30, "execution_days": 90},
        LegalBasis.ASEAN_MLAT: {"decision_days": 45},
    }
)
def test_deadlines_are_configurable_per_legal_basis(case, knp_coordinator, kh_moj, in_state):
    asean = in_state(
        MLAStatus.IN_EXECUTION,
        draft(knp_coordinator, case, kh_moj, legal_basis=LegalBasis.ASEAN_MLAT),
    )

    assert asean.decision_due == asean.received_at + 45 * DAY
    assert asean.execution_due == asean.accepted_at + 90 * DAY


def test_urgent_request_is_due_within_7_days(case, knp_coordinator, kh_moj, in_state):
    urgent = in_state(
        MLAStatus.IN_EXECUTION,
        draft(
            knp_coordinator,
            case,
            kh_moj,
            urgency=Urgency.URGENT,
            urgency_reason="Data deleted after 10 days.",
        ),
    )

    assert urgent.decision_due == urgent.received_at + 7 * DAY
    assert urgent.execution_due == urgent.accepted_at + 7 * DAY


def test_urgent_request_with_a_set_date_is_due_that_day(case, knp_coordinator, kh_moj):
    wanted = timezone.now().date() + 12 * DAY
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        urgency=Urgency.URGENT,
        urgency_reason="Trial opens soon.",
        response_due_date=wanted,
        response_due_reason="Trial opens on that date.",
    )

    submitted = _submitted(knp_coordinator, request)

    local = submitted.decision_due.astimezone(zoneinfo.ZoneInfo(kh_moj.timezone))
    assert local.date() == wanted + DAY
    assert (local.hour, local.minute) == (0, 0)


def test_shorter_deadline_asked_with_reasons_shortens_the_clock(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        response_due_date=timezone.now().date() + 10 * DAY,
        response_due_reason="Suspects due to leave the country.",
    )

    submitted = _submitted(knp_coordinator, request)

    assert submitted.decision_due < submitted.received_at + 12 * DAY


def test_later_date_asked_does_not_lengthen_the_clock(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        response_due_date=timezone.now().date() + 100 * DAY,
        response_due_reason="No hurry.",
    )

    submitted = _submitted(knp_coordinator, request)

    assert submitted.decision_due == submitted.received_at + 30 * DAY


def test_past_date_asked_blocks_submission(case, knp_coordinator, kh_moj):
    request = draft(
        knp_coordinator,
        case,
        kh_moj,
        response_due_date=timezone.now().date() - 3 * DAY,
        response_due_reason="Too late.",
    )

    with pytest.raises(ValidationFailed) as exc:
        _submitted(knp_coordinator, request)

    assert "response_due_date" in exc.value.errors


# --- overdue flags ------------------------------------------------------------


def _age(request, **fields):
    """Move clocks into the past, as the passing of time would."""
    MLARequest.objects.filter(pk=request.pk).update(**fields)
    request.refresh_from_db()
    return request


def test_decision_is_overdue_once_its_clock_passes(in_state):
    submitted = in_state(MLAStatus.ACKNOWLEDGED)
    assert not submitted.decision_overdue

    _age(submitted, decision_due=timezone.now() - DAY)

    assert submitted.decision_overdue
    assert MLARequest.objects.decision_overdue().filter(pk=submitted.pk).exists()


def test_overdue_flags_are_annotated_for_lists(in_state):
    submitted = in_state(MLAStatus.SUBMITTED)
    later = timezone.now() + 31 * DAY

    row = MLARequest.objects.with_clock_flags(at=later).get(pk=submitted.pk)

    assert row.is_decision_overdue is True
    assert row.is_execution_overdue is False


def test_decision_clock_stops_at_acceptance(in_state):
    executing = in_state(MLAStatus.IN_EXECUTION)

    _age(executing, decision_due=timezone.now() - DAY)

    assert not executing.decision_overdue
    assert not MLARequest.objects.decision_overdue().exists()


def test_execution_is_overdue_once_its_clock_passes(in_state):
    executing = in_state(MLAStatus.IN_EXECUTION)
    assert not executing.execution_overdue

    assert MLARequest.objects.execution_overdue(at=timezone.now() + 91 * DAY).exists()
    _age(executing, execution_due=timezone.now() - DAY)
    assert executing.execution_overdue


def test_finished_request_is_never_overdue(in_state):
    executed = in_state(MLAStatus.EXECUTED)

    _age(executed, execution_due=timezone.now() - DAY, decision_due=timezone.now() - DAY)

    assert not executed.execution_overdue
    assert not executed.decision_overdue


def test_selector_lists_visible_requests_with_flags(in_state, moj_coordinator, outsider):
    submitted = in_state(MLAStatus.SUBMITTED)
    _age(submitted, decision_due=timezone.now() - DAY)

    rows = list(mla.mla_requests_for(moj_coordinator))

    assert [(r.pk, r.is_decision_overdue) for r in rows] == [(submitted.pk, True)]
    assert list(mla.mla_requests_for(outsider)) == []


# --- delay notice -------------------------------------------------------------


def test_delay_notice_extends_the_decision_clock(in_state, moj_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)
    new_due = acknowledged.decision_due + 20 * DAY

    noticed = mla.file_delay_notice(
        actor=moj_coordinator, request=acknowledged, reason="Bank is slow.", new_due=new_due
    )

    assert noticed.decision_due == new_due
    assert noticed.delay_notice_reason == "Bank is slow."
    row = noticed.history.latest("id")
    assert (row.event, row.from_status, row.to_status) == (
        "file-delay-notice",
        MLAStatus.ACKNOWLEDGED,
        MLAStatus.ACKNOWLEDGED,
    )


def test_delay_notice_in_execution_extends_the_execution_clock(in_state, moj_coordinator):
    executing = in_state(MLAStatus.IN_EXECUTION)
    decision_due = executing.decision_due
    new_due = executing.execution_due + 30 * DAY

    noticed = mla.file_delay_notice(
        actor=moj_coordinator, request=executing, reason="Witness abroad.", new_due=new_due
    )

    assert noticed.execution_due == new_due
    assert noticed.decision_due == decision_due


def test_delay_notice_is_allowed_once(in_state, moj_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)
    first = mla.file_delay_notice(
        actor=moj_coordinator,
        request=acknowledged,
        reason="Bank is slow.",
        new_due=acknowledged.decision_due + 10 * DAY,
    )

    with pytest.raises(Conflict):
        mla.file_delay_notice(
            actor=moj_coordinator,
            request=first,
            reason="Still slow.",
            new_due=first.decision_due + 10 * DAY,
        )

    first.refresh_from_db()
    assert first.history.filter(event="file-delay-notice").count() == 1


def test_delay_notice_must_move_the_deadline_later(in_state, moj_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)

    with pytest.raises(ValidationFailed) as exc:
        mla.file_delay_notice(
            actor=moj_coordinator,
            request=acknowledged,
            reason="",
            new_due=acknowledged.decision_due - DAY,
        )

    assert set(exc.value.errors) == {"reason", "new_due"}
    acknowledged.refresh_from_db()
    assert acknowledged.delay_notice_at is None


def test_requesting_side_cannot_file_a_delay_notice(in_state, knp_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)

    with pytest.raises(PermissionDenied):
        mla.file_delay_notice(
            actor=knp_coordinator,
            request=acknowledged,
            reason="x",
            new_due=acknowledged.decision_due + DAY,
        )


def test_delay_notice_on_a_finished_request_is_a_conflict(in_state, moj_coordinator):
    executed = in_state(MLAStatus.EXECUTED)

    with pytest.raises(Conflict):
        mla.file_delay_notice(
            actor=moj_coordinator,
            request=executed,
            reason="x",
            new_due=executed.execution_due + DAY,
        )


def test_non_party_gets_not_found_on_delay_notice(in_state, outsider):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)

    with pytest.raises(NotFound):
        mla.file_delay_notice(
            actor=outsider,
            request=acknowledged,
            reason="x",
            new_due=acknowledged.decision_due + DAY,
        )
