"""The MLA workflow in the web admin: drafting by type of assistance, steps as
buttons outside the change form, each asking only what it needs, history and
details in words for both sides, and 404 for whoever may not see the request."""

from __future__ import annotations

import datetime as dt
import re

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import mla, mla_forms
from cases.choices import AssistanceType, LegalBasis, MLAStatus
from cases.models import MLARequest, MLAStatusChange

ADD_URL = reverse("admin:cases_mlarequest_add")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(request) -> str:
    return reverse("admin:cases_mlarequest_change", args=[request.pk])


def step_url(request, verb: str) -> str:
    return reverse("admin:cases_mlarequest_transition", args=[request.pk]) + f"?verb={verb}"


def draft_post(case, agency, **extra) -> dict:
    """What the add form sends for a subscriber-data request, before completion."""
    return {
        "case": case.pk,
        "kind": "full",
        "requested_agency": agency.pk,
        "legal_basis": LegalBasis.UNTOC,
        "language": "ko",
        "urgency": "normal",
        "facts": "Victims in Seoul wired USDT to a platform run from Sihanoukville.",
        "offences": "Fraud (Criminal Act art. 347).",
        "assistance_sought": "Subscriber data of the phone numbers used.",
        "assistance_types": [AssistanceType.SUBSCRIBER_DATA],
        "subscriber_data__identifiers": "+855 12 345 678\n\n+855 98 765 432\n",
        "subscriber_data__period_start": "2025-01-01",
        "_save": "Save",
        **extra,
    }


def edit_post(client, request, **changes) -> dict:
    """The draft's change form as the browser would send it, with `changes`."""
    response = client.get(change_url(request))
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            data[name] = list(value)
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    data.update(changes)
    data["_continue"] = "Save and continue editing"
    return data


# --- drafting -------------------------------------------------------------------


def test_add_page_preselects_the_case_given_in_the_address(case, knp_coordinator):
    response = login(knp_coordinator).get(f"{ADD_URL}?case={case.pk}")

    assert response.status_code == 200
    assert str(response.context["adminform"].form["case"].value()) == str(case.pk)


def test_add_form_builds_the_details_the_api_takes(case, kh_moj, knp_coordinator):
    response = login(knp_coordinator).post(ADD_URL, draft_post(case, kh_moj))

    assert response.status_code == 302
    request = MLARequest.objects.get(case=case)
    assert request.assistance_types == [AssistanceType.SUBSCRIBER_DATA]
    assert request.details == {
        AssistanceType.SUBSCRIBER_DATA: {
            "identifiers": ["+855 12 345 678", "+855 98 765 432"],
            "period_start": "2025-01-01",
        }
    }
    assert request.language == "ko"


def test_sections_of_types_not_chosen_are_not_stored(case, kh_moj, knp_coordinator):
    post = draft_post(case, kh_moj, bank_records__account_identifiers="KH-0012345678")

    login(knp_coordinator).post(ADD_URL, post)

    assert set(MLARequest.objects.get(case=case).details) == {AssistanceType.SUBSCRIBER_DATA}


def test_a_bad_date_is_a_form_error_and_saves_nothing(case, kh_moj, knp_coordinator):
    post = draft_post(case, kh_moj, subscriber_data__period_start="first of May")

    response = login(knp_coordinator).post(ADD_URL, post)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["subscriber_data__period_start"]
    assert not MLARequest.objects.filter(case=case).exists()


def test_language_is_chosen_from_languages_named_in_their_own_words(case, knp_coordinator):
    response = login(knp_coordinator).get(f"{ADD_URL}?case={case.pk}")

    choices = dict(response.context["adminform"].form.fields["language"].choices)
    assert set(choices) == {"en", "km", "ko"}
    assert choices["ko"].startswith("한국어") and choices["km"].startswith("ខ្មែរ")


def test_draft_page_says_in_words_what_is_missing(case, kh_moj, knp_coordinator):
    client = login(knp_coordinator)
    client.post(ADD_URL, draft_post(case, kh_moj))
    request = MLARequest.objects.get(case=case)

    response = client.get(change_url(request))

    missing = response.context["mla_missing"]
    assert "Subscriber or traffic data — Time window to: " in missing[0]
    assert "Give the end of the time window" in missing[0]
    assert 'id="mla-missing"' in response.content.decode()


def test_completing_the_draft_clears_what_is_missing(case, kh_moj, knp_coordinator):
    client = login(knp_coordinator)
    client.post(ADD_URL, draft_post(case, kh_moj))
    request = MLARequest.objects.get(case=case)

    response = client.post(
        change_url(request),
        edit_post(client, request, subscriber_data__period_end="2025-03-31"),
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.details[AssistanceType.SUBSCRIBER_DATA]["period_end"] == "2025-03-31"
    assert mla.missing_for_submission(request) == {}
    assert client.get(change_url(request)).context["mla_missing"] == []


def test_editing_keeps_keys_the_api_stored_that_the_form_does_not_ask(mla_draft, knp_coordinator):
    details = {**mla_draft.details}
    details[AssistanceType.BANK_RECORDS] = {
        **details[AssistanceType.BANK_RECORDS],
        "note": "from the API",
    }
    mla.update_mla_draft(actor=knp_coordinator, request=mla_draft, details=details)
    client = login(knp_coordinator)

    client.post(change_url(mla_draft), edit_post(client, mla_draft, facts="New facts."))

    mla_draft.refresh_from_db()
    assert mla_draft.facts == "New facts."
    assert mla_draft.details[AssistanceType.BANK_RECORDS]["note"] == "from the API"


def test_every_completeness_rule_has_a_question_on_the_form():
    """One place for the rules: the form can answer each of them."""
    rules = {**mla.COMPLETENESS, mla.PRESERVATION_KEY: mla.PRESERVATION_REQUIRED}
    for section, required in rules.items():
        asked = {spec.name for spec in mla_forms.DETAIL_FIELDS[section]}
        assert {name for name, _message in required} <= asked, section


# --- steps ------------------------------------------------------------------------


def test_steps_are_rendered_after_the_change_form_not_inside_it(mla_draft, knp_coordinator):
    body = login(knp_coordinator).get(change_url(mla_draft)).content.decode()

    change_form_end = body.index("</form>", body.index('id="mlarequest_form"'))
    assert body.index('id="mla-transitions"') > change_form_end
    assert 'id="mla-verb-submit"' in body
    assert ">Submit</button>" in body


def test_submit_button_submits_the_draft(mla_draft, knp_coordinator):
    response = login(knp_coordinator).post(
        step_url(mla_draft, "submit"), {"verb": "submit", "expected_version": mla_draft.version}
    )

    assert response.status_code == 302
    assert MLARequest.objects.get(pk=mla_draft.pk).status == MLAStatus.SUBMITTED


def test_submitting_an_incomplete_draft_lists_what_is_missing_and_changes_nothing(
    case, kh_moj, knp_coordinator
):
    client = login(knp_coordinator)
    client.post(ADD_URL, draft_post(case, kh_moj))
    request = MLARequest.objects.get(case=case)

    response = client.post(step_url(request, "submit"), {"verb": "submit"})

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert any(e.startswith("Subscriber or traffic data — Time window to:") for e in errors)
    assert MLARequest.objects.get(pk=request.pk).status == MLAStatus.DRAFT


def test_requested_side_acknowledges_with_the_button(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)
    client = login(moj_coordinator)
    body = client.get(change_url(submitted)).content.decode()
    assert ">Acknowledge</button>" in body

    response = client.post(step_url(submitted, "acknowledge"), {"verb": "acknowledge"}, follow=True)

    assert response.status_code == 200
    assert MLARequest.objects.get(pk=submitted.pk).status == MLAStatus.ACKNOWLEDGED
    assert "KH-MOJ acknowledged receipt" in response.content.decode()


def test_a_step_that_needs_text_has_its_own_page_asking_for_it(in_state, moj_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)
    client = login(moj_coordinator)
    body = client.get(change_url(acknowledged)).content.decode()
    assert f'href="{step_url(acknowledged, "refuse")}"' in body

    response = client.get(step_url(acknowledged, "refuse"))

    assert response.status_code == 200
    assert response.context["form"].fields["comment"].label == "Grounds for refusal"


def test_asking_for_more_information_is_in_the_history_of_both_sides(
    in_state, moj_coordinator, knp_coordinator
):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)
    login(moj_coordinator).post(
        step_url(acknowledged, "request-more-info"),
        {"verb": "request-more-info", "comment": "Which bank branch opened the account?"},
    )

    for user in (moj_coordinator, knp_coordinator):
        body = login(user).get(change_url(acknowledged)).content.decode()
        assert "KH-MOJ asked for more information: Which bank branch opened the account?" in body
        assert "request-more-info:" not in body


def test_a_side_may_not_take_the_other_sides_step(in_state, knp_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)
    before = MLAStatusChange.objects.count()

    response = login(knp_coordinator).post(
        step_url(submitted, "acknowledge"), {"verb": "acknowledge"}
    )

    assert response.status_code == 200
    assert "Only the requested side can do this." in response.content.decode()
    assert MLARequest.objects.get(pk=submitted.pk).status == MLAStatus.SUBMITTED
    assert MLAStatusChange.objects.count() == before


def test_an_investigator_is_sent_back_from_a_step_page(in_state, moj_investigator):
    submitted = in_state(MLAStatus.SUBMITTED)

    response = login(moj_investigator).get(step_url(submitted, "acknowledge"))

    assert response.status_code == 302
    assert response["Location"] == change_url(submitted)


def test_a_stale_page_changes_nothing(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    response = login(moj_coordinator).post(
        step_url(submitted, "acknowledge"),
        {"verb": "acknowledge", "expected_version": submitted.version - 1},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert MLARequest.objects.get(pk=submitted.pk).status == MLAStatus.SUBMITTED


def test_delay_notice_asks_reasons_and_a_new_date(in_state, moj_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)
    new_date = (acknowledged.decision_due + dt.timedelta(days=20)).date()

    response = login(moj_coordinator).post(
        step_url(acknowledged, "file-delay-notice"),
        {"verb": "file-delay-notice", "reason": "The bank asks for a court order.",
         "new_due_date": new_date.isoformat()},
    )  # fmt: skip

    assert response.status_code == 302
    acknowledged.refresh_from_db()
    assert acknowledged.delay_notice_reason == "The bank asks for a court order."
    assert acknowledged.decision_due.astimezone(
        timezone.get_fixed_timezone(7 * 60)
    ).date() == new_date + dt.timedelta(days=1)


def test_delay_notice_without_reasons_is_a_form_error(in_state, moj_coordinator):
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)
    new_date = (acknowledged.decision_due + dt.timedelta(days=20)).date()

    response = login(moj_coordinator).post(
        step_url(acknowledged, "file-delay-notice"),
        {"verb": "file-delay-notice", "reason": "", "new_due_date": new_date.isoformat()},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert MLARequest.objects.get(pk=acknowledged.pk).delay_notice_at is None


def test_unknown_step_is_404(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    assert login(moj_coordinator).get(step_url(submitted, "explode")).status_code == 404


def test_step_pages_are_404_to_a_non_party(in_state, outsider):
    submitted = in_state(MLAStatus.SUBMITTED)
    client = login(outsider)

    for verb in ("acknowledge", "refuse", "withdraw", "file-delay-notice"):
        assert client.get(step_url(submitted, verb)).status_code == 404
        assert client.post(step_url(submitted, verb), {"verb": verb}).status_code == 404
    assert MLARequest.objects.get(pk=submitted.pk).status == MLAStatus.SUBMITTED


# --- display ---------------------------------------------------------------------


def test_title_is_in_words(mla_draft):
    mla_draft.requesting_reference = "KNP-2025-0042"

    assert str(mla_draft) == "MLA KR-KNP → KH-MOJ: KNP-2025-0042"


def test_requested_side_reads_the_details_as_labelled_text(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)

    body = login(moj_coordinator).get(change_url(submitted)).content.decode()

    assert "Bank records, Witness statement" in body
    assert "<dt>Banks</dt><dd>ACLEDA Bank Plc (ACLBKHPP)</dd>" in body
    assert "<dt>Period from</dt><dd>2025-01-01</dd>" in body
    assert "account_identifiers" not in body
    assert '["bank_records"' not in body
    assert not re.search(r">\s*False\s*<", body)


def test_the_answer_page_shows_the_question_it_answers(in_state, knp_coordinator):
    asked = in_state(MLAStatus.MORE_INFO_REQUESTED)
    MLAStatusChange.objects.filter(request=asked, event="request-more-info").update(
        comment="Which branch opened the account?"
    )

    response = login(knp_coordinator).get(step_url(asked, "provide-info"))

    assert response.status_code == 200
    assert response.context["form"].fields["comment"].label == "The information provided"
    assert "KH-MOJ asked for more information: Which branch opened the account?" in (
        response.content.decode()
    )


def test_letter_page_links_to_its_pdf(mla_draft, knp_coordinator):
    body = (
        login(knp_coordinator)
        .get(reverse("mla-request-letter", args=[mla_draft.public_id]))
        .content.decode()
    )

    assert reverse("mla-request-letter-pdf", args=[mla_draft.public_id]) in body


def test_add_page_with_a_hidden_case_preselects_and_shows_nothing(case, outsider):
    response = login(outsider).get(f"{ADD_URL}?case={case.pk}")

    body = response.content.decode()
    assert response.status_code == 200
    assert case.reference not in body and case.title not in body
    assert f'value="{case.pk}" selected' not in body
