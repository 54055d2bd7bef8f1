"""Preservation steps in the web admin: extend, and link the follow-up request
picked from a list; offered only to the requesting side's coordinators."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from cases.choices import MLAStatus
from cases.models import MLARequest

from .helpers import draft
from .test_preservation import PRESERVATION


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(request) -> str:
    return reverse("admin:cases_mlarequest_change", args=[request.pk])


def step_url(request, verb: str) -> str:
    return reverse("admin:cases_mlarequest_transition", args=[request.pk]) + f"?verb={verb}"


def actions(client, request) -> set[str]:
    return {a["verb"] for a in client.get(change_url(request)).context["mla_actions"]}


def test_preservation_steps_are_offered_to_the_requesting_side_only(
    case, knp_coordinator, moj_coordinator, kh_moj, in_state
):
    preservation = in_state(
        MLAStatus.SUBMITTED, draft(knp_coordinator, case, kh_moj, **PRESERVATION)
    )

    assert {"extend-preservation", "link-follow-up"} <= actions(
        login(knp_coordinator), preservation
    )
    assert not {"extend-preservation", "link-follow-up"} & actions(
        login(moj_coordinator), preservation
    )


def test_extending_the_preservation_moves_its_end(case, knp_coordinator, kh_moj, in_state):
    preservation = in_state(
        MLAStatus.SUBMITTED, draft(knp_coordinator, case, kh_moj, **PRESERVATION)
    )
    before = preservation.preservation_expires_at

    response = login(knp_coordinator).post(
        step_url(preservation, "extend-preservation"),
        {"verb": "extend-preservation", "comment": "The full request is being translated."},
    )

    assert response.status_code == 302
    assert MLARequest.objects.get(pk=preservation.pk).preservation_expires_at > before


def test_follow_up_is_picked_from_a_list_and_named_in_the_history(
    case, knp_coordinator, moj_coordinator, kh_moj, in_state
):
    preservation = in_state(
        MLAStatus.SUBMITTED, draft(knp_coordinator, case, kh_moj, **PRESERVATION)
    )
    follow_up = in_state(
        MLAStatus.SUBMITTED,
        draft(knp_coordinator, case, kh_moj, requesting_reference="KNP-2025-0042"),
    )
    client = login(knp_coordinator)
    choices = client.get(step_url(preservation, "link-follow-up")).context["form"]
    assert list(choices.fields["follow_up"].queryset) == [follow_up]

    response = client.post(
        step_url(preservation, "link-follow-up"),
        {"verb": "link-follow-up", "follow_up": follow_up.pk},
    )

    assert response.status_code == 302
    assert MLARequest.objects.get(pk=preservation.pk).follow_up_id == follow_up.pk
    body = login(moj_coordinator).get(change_url(preservation)).content.decode()
    assert "KR-KNP linked the follow-up request: MLA KR-KNP → KH-MOJ: KNP-2025-0042" in body


def test_linking_without_choosing_is_a_form_error(case, knp_coordinator, kh_moj, in_state):
    preservation = in_state(
        MLAStatus.SUBMITTED, draft(knp_coordinator, case, kh_moj, **PRESERVATION)
    )

    response = login(knp_coordinator).post(
        step_url(preservation, "link-follow-up"), {"verb": "link-follow-up"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["follow_up"] == ["Choose the follow-up request."]
    assert MLARequest.objects.get(pk=preservation.pk).follow_up_id is None
