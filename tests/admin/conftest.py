import pytest
from django.test import Client


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_knp(knp_coordinator):
    return login(knp_coordinator)


@pytest.fixture
def as_kh(kh_investigator):
    return login(kh_investigator)


@pytest.fixture
def as_outsider(outsider):
    return login(outsider)


def _put(data: dict, name: str, value) -> None:
    if value is None or value is False:
        return
    if value is True:
        data[name] = "on"
    elif isinstance(value, (list, tuple)):
        data[name] = [str(v) for v in value]
    else:
        data[name] = str(value)


def change_form_data(response) -> dict:
    """The POST a browser would send back unchanged from an admin change/add page."""
    data: dict = {}
    form = response.context["adminform"].form
    for name in form.fields:
        _put(data, form.add_prefix(name), form[name].value())
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            _put(data, management.add_prefix(name), management[name].value())
        for f in formset.forms:
            for name in f.fields:
                _put(data, f.add_prefix(name), f[name].value())
    return data


def inline_prefix(response, model_name: str) -> str:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model._meta.model_name == model_name:
            return inline.formset.prefix
    raise AssertionError(f"no inline for {model_name}")


def add_inline_row(data: dict, prefix: str, values: dict) -> None:
    """Fill the next empty form of an inline formset (adds one if none is free)."""
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    initial = int(data[f"{prefix}-INITIAL_FORMS"])
    index = initial if total > initial else total
    if index == total:
        data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    for name, value in values.items():
        _put(data, f"{prefix}-{index}-{name}", value)
