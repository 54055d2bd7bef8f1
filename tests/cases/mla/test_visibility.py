"""Who sees an MLA request: its two parties only, and the requested side
never the case behind it."""

import pytest
from django.urls import reverse

from cases import access, mla
from cases.choices import MLAStatus
from cases.models import MLARequestGroupObjectPermission
from gate.errors import NotFound, PermissionDenied
from tests.factories import PASSWORD


def test_draft_is_visible_to_the_requesting_agency(mla_draft, knp_coordinator):
    assert access.visible_mla_requests(knp_coordinator).filter(pk=mla_draft.pk).exists()


def test_draft_is_invisible_to_the_requested_agency(mla_draft, moj_coordinator):
    assert not access.visible_mla_requests(moj_coordinator).exists()
    with pytest.raises(NotFound):
        access.require(moj_coordinator, "view", mla_draft)


def test_draft_grants_only_the_requesting_agency(mla_draft, knp):
    groups = set(
        MLARequestGroupObjectPermission.objects.filter(content_object=mla_draft).values_list(
            "group_id", flat=True
        )
    )
    assert groups == {knp.group_id}


def test_submission_grants_the_requested_agency(in_state, moj_coordinator, knp, kh_moj):
    submitted = in_state(MLAStatus.SUBMITTED)

    assert access.visible_mla_requests(moj_coordinator).filter(pk=submitted.pk).exists()
    groups = set(
        MLARequestGroupObjectPermission.objects.filter(content_object=submitted).values_list(
            "group_id", flat=True
        )
    )
    assert groups == {knp.group_id, kh_moj.group_id}


def test_withdrawn_draft_stays_invisible_to_the_requested_agency(
    mla_draft, knp_coordinator, moj_coordinator
):
    mla.withdraw_mla_request(actor=knp_coordinator, request=mla_draft)

    assert not access.visible_mla_requests(moj_coordinator).exists()


def test_request_withdrawn_after_submission_stays_visible_to_the_requested_agency(
    in_state, knp_coordinator, moj_coordinator
):
    """The requested side must learn that it can stop work."""
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)

    mla.withdraw_mla_request(actor=knp_coordinator, request=acknowledged)

    row = access.visible_mla_requests(moj_coordinator).get(pk=acknowledged.pk)
    assert row.status == MLAStatus.WITHDRAWN


def test_non_party_agency_gets_not_found_on_the_request(in_state, outsider):
    submitted = in_state(MLAStatus.SUBMITTED)

    assert not access.visible_mla_requests(outsider).exists()
    with pytest.raises(NotFound):
        access.require(outsider, "view", submitted)


def test_non_party_agency_gets_not_found_on_the_history(in_state, outsider):
    submitted = in_state(MLAStatus.SUBMITTED)
    row = submitted.history.get()

    assert not access.visible_mla_status_changes(outsider).exists()
    with pytest.raises(NotFound):
        access.require(outsider, "view", row)


def test_case_participant_that_is_not_a_party_cannot_see_the_request(
    in_state, shared_case, kh_coordinator
):
    """KH-CCOS works on the case, but the request is between KNP and KH-MOJ."""
    submitted = in_state(MLAStatus.SUBMITTED)

    with pytest.raises(NotFound):
        access.require(kh_coordinator, "view", submitted)


def test_requested_agency_cannot_see_the_case(in_state, moj_coordinator, case):
    in_state(MLAStatus.IN_EXECUTION)

    assert not access.visible_cases(moj_coordinator).exists()
    with pytest.raises(NotFound):
        access.require(moj_coordinator, "view", case)


def test_requested_agency_cannot_see_the_case_notes_or_tasks(in_state, moj_coordinator, task, note):
    in_state(MLAStatus.IN_EXECUTION)

    assert not access.visible_tasks(moj_coordinator).exists()
    assert not access.visible_notes(moj_coordinator).exists()
    assert not access.visible_participations(moj_coordinator).exists()


def test_requested_agency_sees_the_history(in_state, moj_coordinator):
    executed = in_state(MLAStatus.EXECUTED)

    visible = access.visible_mla_status_changes(moj_coordinator).filter(request=executed)
    assert [r.event for r in visible] == ["submit", "acknowledge", "start-execution", "execute"]


def test_a_stray_grant_on_a_draft_still_leaks_nothing(mla_draft, moj_coordinator, kh_moj):
    """The gate checks the party and the state as well as the grant."""
    mla._grant_view(mla_draft, kh_moj)

    assert not access.visible_mla_requests(moj_coordinator).exists()


def test_stray_grant_to_a_non_party_leaks_nothing(in_state, outsider, unodc):
    submitted = in_state(MLAStatus.SUBMITTED)
    mla._grant_view(submitted, unodc)

    assert not access.visible_mla_requests(outsider).exists()


def test_investigator_of_a_party_can_view_but_not_act(in_state, moj_investigator):
    submitted = in_state(MLAStatus.SUBMITTED)

    access.require(moj_investigator, "view", submitted)
    with pytest.raises(PermissionDenied):
        access.require(moj_investigator, "act_requested", submitted)


# --- the formal letter ------------------------------------------------------


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_letter_renders_for_the_requested_agency(client, in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)
    _login(client, moj_coordinator)

    response = client.get(reverse("mla-request-letter", args=[submitted.public_id]))

    assert response.status_code == 200
    body = response.content.decode()
    for heading in (
        "Requesting authority",
        "Legal basis",
        "Summary of facts",
        "Offences and penalties",
        "Assistance requested",
        "Procedures to be followed",
        "Confidentiality",
        "Contact",
    ):
        assert heading in body
    assert "ACLEDA Bank Plc" in body


def test_letter_does_not_print_case_content(client, in_state, moj_coordinator, case):
    submitted = in_state(MLAStatus.SUBMITTED)
    _login(client, moj_coordinator)

    body = client.get(reverse("mla-request-letter", args=[submitted.public_id])).content.decode()

    assert case.summary not in body
    assert case.title not in body


def test_non_party_gets_404_on_the_letter(client, in_state, outsider):
    submitted = in_state(MLAStatus.SUBMITTED)
    _login(client, outsider)

    response = client.get(reverse("mla-request-letter", args=[submitted.public_id]))

    assert response.status_code == 404


def test_requested_agency_gets_404_on_a_draft_letter(client, mla_draft, moj_coordinator):
    _login(client, moj_coordinator)

    response = client.get(reverse("mla-request-letter", args=[mla_draft.public_id]))

    assert response.status_code == 404


def test_anonymous_user_is_sent_to_log_in_for_the_letter(client, mla_draft):
    response = client.get(reverse("mla-request-letter", args=[mla_draft.public_id]))

    assert response.status_code == 302
