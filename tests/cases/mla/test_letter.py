"""The letter of request: in the request's language, dated, with both
references, a signature block and a DRAFT mark until submitted; as printable
HTML and as a PDF with the shipped fonts; 404 for whoever may not see it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cases import mla
from cases.choices import MLAStatus


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def letter(client, request):
    return client.get(reverse("mla-request-letter", args=[request.public_id]))


def pdf(client, request):
    return client.get(reverse("mla-request-letter-pdf", args=[request.public_id]))


def test_draft_letter_is_marked_draft(mla_draft, knp_coordinator):
    body = letter(login(knp_coordinator), mla_draft).content.decode()

    assert 'id="letter-draft-mark"' in body
    assert "DRAFT" in body


def test_submitted_letter_has_date_references_and_signature_and_no_draft_mark(
    in_state, moj_coordinator
):
    submitted = in_state(MLAStatus.SUBMITTED)
    body = letter(login(moj_coordinator), submitted).content.decode()

    assert 'id="letter-draft-mark"' not in body
    assert '<th scope="row">Date</th>' in body
    assert "Our reference" in body and "Your reference" in body
    assert 'id="letter-signature"' in body and "Signature" in body


def test_letter_is_in_the_language_of_the_request_not_of_the_reader(
    knp_coordinator, case, kh_moj, mla_draft
):
    mla.update_mla_draft(actor=knp_coordinator, request=mla_draft, language="ko")

    response = letter(login(knp_coordinator), mla_draft)

    body = response.content.decode()
    assert response["Content-Language"] == "ko"
    assert '<html lang="ko">' in body
    assert "Language: en" not in body
    assert "한국어" in body


@pytest.mark.parametrize(("language", "font"), [("km", b"NotoSansKhmer"), ("ko", b"NanumGothic")])
def test_pdf_embeds_the_font_of_the_language(knp_coordinator, mla_draft, language, font):
    mla.update_mla_draft(
        actor=knp_coordinator,
        request=mla_draft,
        language=language,
        facts="ជនរងគ្រោះនៅទីក្រុងសេអ៊ូល 서울의 피해자들",
    )

    response = pdf(login(knp_coordinator), mla_draft)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert font in response.content


def test_letter_and_pdf_are_404_to_an_outsider(in_state, outsider):
    submitted = in_state(MLAStatus.SUBMITTED)
    client = login(outsider)

    assert letter(client, submitted).status_code == 404
    assert pdf(client, submitted).status_code == 404


def test_draft_pdf_is_404_to_the_requested_agency(mla_draft, moj_coordinator):
    assert pdf(login(moj_coordinator), mla_draft).status_code == 404
