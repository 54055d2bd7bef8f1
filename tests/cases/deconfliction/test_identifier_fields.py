"""What is written when recording an identifier is one list
(`deconfliction.IDENTIFIER_FIELDS`): the admin's identifier form, the API's
identifier input and `add_identifier` take exactly it, so a field added to the
list cannot be missing from one of them unnoticed."""

import inspect

import pytest
from django.test import Client

from cases import deconfliction
from cases.api.deconfliction import IdentifierInputSerializer

FIELDS = deconfliction.IDENTIFIER_FIELDS


@pytest.mark.django_db
def test_admin_identifier_form_asks_exactly_the_declared_fields(kh_investigator):
    client = Client()
    client.force_login(kh_investigator)
    response = client.get("/admin/cases/identifier/add/")

    assert response.status_code == 200
    assert tuple(response.context["adminform"].form.fields) == ("case", *FIELDS)


def test_api_identifier_input_writes_exactly_the_declared_fields():
    fields = IdentifierInputSerializer().fields
    assert tuple(name for name, field in fields.items() if not field.read_only) == (
        "case",
        *FIELDS,
    )


def test_add_identifier_takes_exactly_the_declared_fields():
    """Its keywords beside the actor and the case (an unknown keyword is a
    TypeError: the admin and the API pass their cleaned data as keywords)."""
    keywords = tuple(inspect.signature(deconfliction.add_identifier).parameters)
    assert keywords == ("actor", "case", *FIELDS)
