"""A case's editable fields are one list (`services.CASE_EDITABLE_FIELDS`):
the admin's case form, the API's case input and the services take exactly it,
so a field added to the list cannot be missing from one of them unnoticed."""

import pytest
from django.test import Client

from cases import services
from cases.api.serializers import CaseInputSerializer
from cases.models import Case
from gate.errors import ValidationFailed

pytestmark = pytest.mark.django_db

EDITABLE = services.CASE_EDITABLE_FIELDS
SERVICE_ONLY = services.CASE_SERVICE_ONLY_FIELDS


def _admin_form_fields(user, url: str) -> tuple[str, ...]:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    return tuple(name for name in form.fields if name != "expected_version")


def _other_model_fields(*accepted: str) -> set[str]:
    return {f.name for f in Case._meta.concrete_fields} - set(accepted)


def test_admin_case_forms_edit_exactly_the_declared_fields(knp_coordinator, case):
    assert _admin_form_fields(knp_coordinator, "/admin/cases/case/add/") == EDITABLE
    assert _admin_form_fields(knp_coordinator, f"/admin/cases/case/{case.pk}/change/") == EDITABLE


def test_api_case_input_writes_exactly_the_declared_fields():
    fields = CaseInputSerializer().fields
    assert tuple(name for name, field in fields.items() if not field.read_only) == EDITABLE


def test_create_case_takes_exactly_the_declared_fields(knp_coordinator, case):
    others = _other_model_fields(*EDITABLE)
    with pytest.raises(ValidationFailed) as refused:
        services.create_case(
            actor=knp_coordinator, title="x", **{name: getattr(case, name) for name in others}
        )
    assert set(refused.value.errors) == others
    assert Case.objects.count() == 1

    services.create_case(actor=knp_coordinator, **{name: getattr(case, name) for name in EDITABLE})
    assert Case.objects.count() == 2


def test_update_case_takes_exactly_the_declared_fields(knp_coordinator, case):
    others = _other_model_fields(*EDITABLE, *SERVICE_ONLY)
    with pytest.raises(ValidationFailed) as refused:
        services.update_case(
            actor=knp_coordinator, case=case, **{name: getattr(case, name) for name in others}
        )
    assert set(refused.value.errors) == others

    accepted = {name: getattr(case, name) for name in (*EDITABLE, *SERVICE_ONLY)}
    updated = services.update_case(actor=knp_coordinator, case=case, **accepted)
    assert updated.version == case.version + 1
