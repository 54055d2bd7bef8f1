"""The web admin as a browser uses it: a signed-in test client, and the form
data a browser posts back (shared by every app's admin tests)."""

from django.test import Client


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


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


def form_post(form, **values) -> dict:
    """What a browser posts for an unbound workspace form (its initial values,
    model defaults included) with `values` typed in (unprefixed names)."""
    data = {}
    for name in form.fields:
        _put(data, form.add_prefix(name), values.get(name, form[name].value()))
    return data
