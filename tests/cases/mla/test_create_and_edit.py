"""Drafting a request: who may, and what a draft accepts."""

import pytest

from cases import mla, services
from cases.choices import AccessLevel, CaseStatus, LegalBasis, MLAStatus
from cases.models import MLARequest
from gate.errors import Conflict, NotFound, PermissionDenied, PreconditionFailed, ValidationFailed
from gate.roles import Role
from tests.factories import make_agency, make_user

from .helpers import draft


def test_coordinator_of_the_lead_agency_drafts_a_request(knp_coordinator, case, kh_moj, knp):
    request = draft(knp_coordinator, case, kh_moj)

    assert request.status == MLAStatus.DRAFT
    assert request.requesting_agency == knp
    assert request.requested_agency == kh_moj
    assert request.version == 1
    assert request.history.count() == 0


def test_coordinator_of_a_contributing_agency_drafts_a_request(
    shared_case, kh_coordinator, kh_moj, ccos
):
    request = draft(kh_coordinator, shared_case, kh_moj)

    assert request.requesting_agency == ccos


def test_investigator_cannot_draft_a_request(shared_case, kh_investigator, kh_moj):
    with pytest.raises(PermissionDenied):
        draft(kh_investigator, shared_case, kh_moj)

    assert MLARequest.objects.count() == 0


def test_agency_with_view_only_cannot_draft_a_request(case, knp_coordinator, unodc, kh_moj):
    """Sending a case's facts abroad needs at least contribute on the case."""
    services.share_case(actor=knp_coordinator, case=case, agency=unodc, level=AccessLevel.VIEW)
    viewer_agency_coordinator = make_user(unodc, Role.COORDINATOR)

    with pytest.raises(PermissionDenied):
        draft(viewer_agency_coordinator, case, kh_moj)

    assert MLARequest.objects.count() == 0


def test_non_participant_gets_not_found_on_the_case(case, outsider, kh_moj):
    with pytest.raises(NotFound):
        draft(outsider, case, kh_moj)

    assert MLARequest.objects.count() == 0


def test_request_to_own_agency_is_refused(case, knp_coordinator, knp):
    with pytest.raises(ValidationFailed) as exc:
        draft(knp_coordinator, case, knp)

    assert "requested_agency" in exc.value.errors
    assert MLARequest.objects.count() == 0


def test_request_to_an_inactive_agency_is_refused(case, knp_coordinator):
    dormant = make_agency("XX-OLD", country="KH")
    dormant.active = False
    dormant.save()

    with pytest.raises(ValidationFailed) as exc:
        draft(knp_coordinator, case, dormant)

    assert "requested_agency" in exc.value.errors


def test_unknown_assistance_type_is_refused(case, knp_coordinator, kh_moj):
    with pytest.raises(ValidationFailed) as exc:
        draft(knp_coordinator, case, kh_moj, assistance_types=["bank_records", "telepathy"])

    assert "assistance_types" in exc.value.errors
    assert MLARequest.objects.count() == 0


def test_assistance_types_must_be_a_list(case, knp_coordinator, kh_moj):
    with pytest.raises(ValidationFailed) as exc:
        draft(knp_coordinator, case, kh_moj, assistance_types="bank_records")

    assert "assistance_types" in exc.value.errors


def test_unknown_legal_basis_is_refused(case, knp_coordinator, kh_moj):
    with pytest.raises(ValidationFailed) as exc:
        draft(knp_coordinator, case, kh_moj, legal_basis="goodwill")

    assert "legal_basis" in exc.value.errors
    assert MLARequest.objects.count() == 0


def test_unknown_details_section_is_refused(case, knp_coordinator, kh_moj):
    with pytest.raises(ValidationFailed) as exc:
        draft(knp_coordinator, case, kh_moj, details={"gossip": {"who": "x"}})

    assert "details" in exc.value.errors


def test_fields_outside_the_draft_cannot_be_set(case, knp_coordinator, kh_moj):
    with pytest.raises(ValidationFailed) as exc:
        draft(knp_coordinator, case, kh_moj, status=MLAStatus.EXECUTED)

    assert "status" in exc.value.errors
    assert MLARequest.objects.count() == 0


def test_closed_case_cannot_send_a_request(case, knp_coordinator, kh_moj):
    services.change_case_status(actor=knp_coordinator, case=case, status=CaseStatus.CLOSED)

    with pytest.raises(Conflict):
        draft(knp_coordinator, case, kh_moj)


def test_draft_is_edited_and_versioned(mla_draft, knp_coordinator):
    updated = mla.update_mla_draft(
        actor=knp_coordinator,
        request=mla_draft,
        expected_version=1,
        facts="Revised facts.",
        legal_basis=LegalBasis.ASEAN_MLAT,
    )

    assert updated.version == 2
    mla_draft.refresh_from_db()
    assert (mla_draft.facts, mla_draft.legal_basis) == ("Revised facts.", LegalBasis.ASEAN_MLAT)


def test_stale_draft_edit_is_refused(mla_draft, knp_coordinator):
    mla.update_mla_draft(actor=knp_coordinator, request=mla_draft, facts="First.")

    with pytest.raises(PreconditionFailed):
        mla.update_mla_draft(
            actor=knp_coordinator, request=mla_draft, expected_version=1, facts="Second."
        )

    mla_draft.refresh_from_db()
    assert mla_draft.facts == "First."


def test_submitted_request_cannot_be_edited(in_state, knp_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    with pytest.raises(Conflict):
        mla.update_mla_draft(actor=knp_coordinator, request=submitted, facts="Changed.")

    submitted.refresh_from_db()
    assert submitted.facts != "Changed."


def test_requested_side_cannot_edit_a_submitted_request(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    with pytest.raises(PermissionDenied):
        mla.update_mla_draft(actor=moj_coordinator, request=submitted, facts="Changed.")


def test_investigator_of_the_requesting_agency_cannot_edit(mla_draft, knp_investigator):
    with pytest.raises(PermissionDenied):
        mla.update_mla_draft(actor=knp_investigator, request=mla_draft, facts="Changed.")

    mla_draft.refresh_from_db()
    assert mla_draft.version == 1
