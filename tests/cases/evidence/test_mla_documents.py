"""Documents attached to an MLA request reach both parties of the request,
and nothing of the case behind it reaches the requested side."""

import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from agencies.choices import AgencyKind
from cases import access, documents
from cases.choices import HandlingCode
from gate.errors import NotFound
from gate.roles import Role
from tests.cases.mla.helpers import draft, drive, path_to
from tests.factories import make_agency, make_user

from .conftest import pdf_bytes


@pytest.fixture
def kh_moj(db):
    return make_agency(
        "KH-MOJ", name="Ministry of Justice", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY
    )


@pytest.fixture
def moj_investigator(kh_moj):
    return make_user(kh_moj, Role.INVESTIGATOR)


@pytest.fixture
def submitted(knp_coordinator, case, kh_moj):
    requested = make_user(kh_moj, Role.COORDINATOR)
    return drive(
        draft(knp_coordinator, case, kh_moj),
        path_to("submitted"),
        requesting=knp_coordinator,
        requested=requested,
    )


def _attach(actor, request, **kwargs):
    return documents.upload_document(
        actor=actor,
        mla_request=request,
        file=io.BytesIO(pdf_bytes()),
        name="annex.pdf",
        title="Annex A: bank records",
        handling_code=kwargs.pop("handling_code", HandlingCode.GREEN),
        **kwargs,
    )


def test_requested_side_sees_the_requests_documents_but_not_the_cases(
    knp_coordinator, submitted, moj_investigator, case
):
    annex = _attach(knp_coordinator, submitted)
    other = documents.upload_document(
        actor=knp_coordinator,
        case=case,
        file=io.BytesIO(pdf_bytes()),
        name="internal.pdf",
        title="Internal memo",
        handling_code=HandlingCode.GREEN,
    )
    visible = set(access.visible_documents(moj_investigator))
    assert annex in visible and other not in visible


def test_requested_side_returns_evidence_on_the_request(
    knp_coordinator, submitted, moj_investigator, case
):
    returned = _attach(moj_investigator, submitted)
    assert returned.case == case and returned.agency.code == "KH-MOJ"
    assert returned in access.visible_documents(knp_coordinator)


def test_outsider_cannot_attach_to_a_request(outsider, submitted):
    with pytest.raises(NotFound):
        _attach(outsider, submitted)


def test_api_hides_the_case_from_the_requested_side(knp_coordinator, submitted, moj_investigator):
    annex = _attach(knp_coordinator, submitted)
    client = APIClient()
    client.force_authenticate(moj_investigator)
    body = client.get(f"/api/v1/documents/{annex.public_id}/").json()
    assert body["case"] is None and body["mla_request"] == str(submitted.public_id)
    client.force_authenticate(knp_coordinator)
    assert client.get(f"/api/v1/documents/{annex.public_id}/").json()["case"] is not None


def test_custody_report_hides_the_case_from_the_requested_side(
    client, knp_coordinator, submitted, moj_investigator, case
):
    annex = _attach(knp_coordinator, submitted)
    client.force_login(moj_investigator)
    html = client.get(reverse("cases:document-custody", args=[annex.public_id])).content
    assert case.reference.encode() not in html
    admin_page = client.get(reverse("admin:cases_document_change", args=[annex.pk])).content
    assert annex.sha256.encode() in admin_page
    assert case.reference.encode() not in admin_page and case.title.encode() not in admin_page
