"""An MLA draft's fields are one list (`mla.MLA_DRAFT_FIELDS`): the admin's
draft form, the API's draft input and the draft services take exactly it, so
a field added to the list cannot be missing from one of them unnoticed."""

import pytest
from django.test import Client

from cases import mla
from cases.api.mla import MLACreateInputSerializer, MLAUpdateInputSerializer
from cases.models import MLARequest
from gate.errors import ValidationFailed

pytestmark = pytest.mark.django_db

DRAFT = mla.MLA_DRAFT_FIELDS
# Chosen when the request is opened, never edited after.
OPENING = ("case", "kind")


def _admin_form_fields(user, url: str) -> set[str]:
    """The draft's own fields on the admin page; `details` is asked as one
    question per field of each section (`cases.mla_forms`), named `<section>__<name>`."""
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    names = set(response.context["adminform"].form.fields)
    sections = {name for name in names if "__" in name}
    return names - sections - {"expected_version"} | ({"details"} if sections else set())


def _other_model_fields(*accepted: str) -> set[str]:
    return {f.name for f in MLARequest._meta.concrete_fields} - set(accepted)


def test_admin_draft_forms_edit_exactly_the_declared_fields(mla_draft, knp_coordinator):
    add = _admin_form_fields(knp_coordinator, "/admin/cases/mlarequest/add/")
    change = _admin_form_fields(knp_coordinator, f"/admin/cases/mlarequest/{mla_draft.pk}/change/")

    assert add == {*OPENING, *DRAFT}
    assert change == set(DRAFT)


def test_api_draft_input_writes_exactly_the_declared_fields():
    assert tuple(MLAUpdateInputSerializer().fields) == DRAFT
    assert set(MLACreateInputSerializer().fields) == {*OPENING, *DRAFT}


def test_create_mla_request_takes_exactly_the_declared_fields(
    mla_draft, knp_coordinator, case, kh_moj
):
    others = _other_model_fields(*OPENING, *DRAFT)
    with pytest.raises(ValidationFailed) as refused:
        mla.create_mla_request(
            actor=knp_coordinator,
            case=case,
            requested_agency=kh_moj,
            legal_basis=mla_draft.legal_basis,
            **{name: getattr(mla_draft, name) for name in others},
        )
    assert set(refused.value.errors) == others
    assert MLARequest.objects.count() == 1

    mla.create_mla_request(
        actor=knp_coordinator,
        case=case,
        kind=mla_draft.kind,
        **{name: getattr(mla_draft, name) for name in DRAFT},
    )
    assert MLARequest.objects.count() == 2


def test_update_mla_draft_takes_exactly_the_declared_fields(mla_draft, knp_coordinator):
    others = _other_model_fields(*DRAFT)
    with pytest.raises(ValidationFailed) as refused:
        mla.update_mla_draft(
            actor=knp_coordinator,
            request=mla_draft,
            **{name: getattr(mla_draft, name) for name in others},
        )
    assert set(refused.value.errors) == others

    updated = mla.update_mla_draft(
        actor=knp_coordinator,
        request=mla_draft,
        **{name: getattr(mla_draft, name) for name in DRAFT},
    )
    assert updated.version == mla_draft.version + 1
