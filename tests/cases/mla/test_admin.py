"""MLA admin pages: transition buttons show only allowed moves; every page of
a request 404s for whoever may not see it (found by discovery, as in
tests/config/admin/test_isolation.py)."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from cases.choices import MLAStatus
from cases.models import MLARequest, MLAStatusChange
from tests.config.admin.test_isolation import object_urls


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(request) -> str:
    return reverse("admin:cases_mlarequest_change", args=[request.pk])


def transition_url(request) -> str:
    return reverse("admin:cases_mlarequest_transition", args=[request.pk])


def buttons(response) -> set[str]:
    return {t["verb"] for t in response.context["transitions"]}


def test_requested_side_sees_only_its_allowed_buttons(in_state, moj_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)

    response = login(moj_coordinator).get(change_url(acknowledged))

    assert response.status_code == 200
    assert buttons(response) == {"request-more-info", "start-execution", "refuse"}
    assert 'value="withdraw"' not in response.content.decode()


def test_requesting_side_sees_only_withdraw_while_the_other_side_decides(in_state, knp_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)

    response = login(knp_coordinator).get(change_url(acknowledged))

    assert buttons(response) == {"withdraw"}


def test_investigator_sees_no_buttons(in_state, moj_investigator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)

    response = login(moj_investigator).get(change_url(acknowledged))

    assert response.status_code == 200
    assert buttons(response) == set()
    assert "mla-transitions" not in response.content.decode()


def test_final_request_shows_no_buttons(in_state, knp_coordinator, moj_coordinator):
    executed = in_state(MLAStatus.EXECUTED)

    for user in (knp_coordinator, moj_coordinator):
        assert buttons(login(user).get(change_url(executed))) == set()


def test_button_posts_the_transition(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    response = login(moj_coordinator).post(transition_url(submitted), {"verb": "acknowledge"})

    assert response.status_code == 302
    assert MLARequest.objects.get(pk=submitted.pk).status == MLAStatus.ACKNOWLEDGED


def test_refused_transition_is_a_message_and_changes_nothing(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)
    before = MLAStatusChange.objects.count()

    response = login(moj_coordinator).post(
        transition_url(submitted), {"verb": "refuse", "comment": ""}, follow=True
    )

    assert "Give the grounds for refusal." in response.content.decode()
    assert MLARequest.objects.get(pk=submitted.pk).status == MLAStatus.SUBMITTED
    assert MLAStatusChange.objects.count() == before


def test_draft_is_editable_by_the_requesting_coordinator(mla_draft, knp_coordinator):
    response = login(knp_coordinator).get(change_url(mla_draft))

    assert response.status_code == 200
    assert response.context["has_change_permission"]
    assert buttons(response) == {"submit", "withdraw"}


def test_submitted_request_is_read_only(in_state, knp_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    response = login(knp_coordinator).get(change_url(submitted))

    assert response.status_code == 200
    assert not response.context["has_change_permission"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_page_of_a_request_is_404_to_a_non_party(in_state, outsider, method):
    submitted = in_state(MLAStatus.SUBMITTED)
    model_admin = admin.site._registry[MLARequest]
    urls = object_urls(model_admin, submitted)
    client = login(outsider)

    assert any("transition" in u for u in urls)
    for url in urls:
        response = getattr(client, method)(url, {"verb": "withdraw", "post": "yes"})
        assert response.status_code == 404, f"{method} {url}"
    assert MLARequest.objects.get(pk=submitted.pk).status == MLAStatus.SUBMITTED


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_page_of_a_draft_is_404_to_the_requested_agency(mla_draft, moj_coordinator, method):
    model_admin = admin.site._registry[MLARequest]
    client = login(moj_coordinator)

    for url in object_urls(model_admin, mla_draft):
        response = getattr(client, method)(url, {"verb": "submit", "post": "yes"})
        assert response.status_code == 404, f"{method} {url}"
    assert MLARequest.objects.get(pk=mla_draft.pk).status == MLAStatus.DRAFT


def test_changelist_shows_a_non_party_nothing(in_state, outsider):
    submitted = in_state(MLAStatus.SUBMITTED)

    response = login(outsider).get(reverse("admin:cases_mlarequest_changelist"))

    body = response.content.decode()
    assert response.status_code == 200
    assert change_url(submitted) not in body
    assert submitted.requested_agency.code not in body


def test_changelist_lists_the_request_for_both_parties(in_state, knp_coordinator, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    for user in (knp_coordinator, moj_coordinator):
        body = login(user).get(reverse("admin:cases_mlarequest_changelist")).content.decode()
        # Listed by its title in words (no raw UUID), linking to its page.
        assert change_url(submitted) in body
        assert str(submitted.public_id) not in body


def test_requested_agency_gets_404_on_the_case_page(in_state, moj_coordinator, case):
    in_state(MLAStatus.IN_EXECUTION)

    response = login(moj_coordinator).get(reverse("admin:cases_case_change", args=[case.pk]))

    assert response.status_code == 404
