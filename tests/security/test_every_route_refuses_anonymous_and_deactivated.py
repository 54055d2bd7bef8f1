"""Every API route and admin page refuses anonymous and deactivated users.

Routes are discovered from the URL configuration and the admin registry, so
an endpoint added later is covered without editing this file.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from agencies import services as agency_services
from agencies.tokens import issue_api_token
from cases.models import CaseParticipation
from gate.roles import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete"]
# Public by design: the API's description, no data.
PUBLIC_API_ROUTES = {"api:schema", "api:docs"}


def _api_route_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _api_route_names(pattern, inner)
        elif pattern.name and namespace.startswith("api:"):
            yield f"{namespace}{pattern.name}", sorted(pattern.pattern.regex.groupindex)


API_ROUTES = sorted(
    {(name, tuple(k for k in kwargs if k != "format")) for name, kwargs in _api_route_names()}
)


@pytest.fixture
def world(shared_case, task, note, knp):
    participation = CaseParticipation.objects.filter(case=shared_case).first()
    return {
        "case": shared_case.public_id,
        "task": task.public_id,
        "note": note.public_id,
        "agency": knp.public_id,
        "participant": participation.public_id,
    }


def _url(name, kwargs, world):
    basename = name.split(":")[-1].rsplit("-", 1)[0]
    values = {}
    for key in kwargs:
        if key == "id":
            values[key] = world.get(basename, world["case"])
        else:  # case_id, a webhook delivery's event_id…: refused before any lookup
            values[key] = world["case"]
    return reverse(name, kwargs=values)


def _api_urls(world):
    return [
        _url(name, kwargs, world) for name, kwargs in API_ROUTES if name not in PUBLIC_API_ROUTES
    ]


def _assert_api_refuses(client, world):
    for url in _api_urls(world):
        for method in METHODS:
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 401, (method, url, response.status_code)


def test_anonymous_gets_401_on_every_api_route(world):
    assert len(_api_urls(world)) >= 8
    _assert_api_refuses(APIClient(), world)


def test_deactivated_service_account_token_gets_401_on_every_api_route(world, knp):
    token, plaintext = issue_api_token(agency=knp, role=Role.COORDINATOR, name="KNP system")
    token.user.is_active = False
    token.user.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    _assert_api_refuses(client, world)


def test_token_of_a_deactivated_agency_gets_401_on_every_api_route(world, knp):
    _token, plaintext = issue_api_token(agency=knp, role=Role.COORDINATOR, name="KNP system")
    agency_services.update_agency(agency=knp, active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    _assert_api_refuses(client, world)


def _admin_urls(world_objects):
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        urls.append(reverse("admin:{}_{}_add".format(*info)))
        obj = model_admin.model._default_manager.first()
        if obj is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    return urls


def _assert_admin_sends_to_login(client, urls):
    for url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response["Location"].startswith("/admin/login/"), (method, url)


def test_anonymous_is_sent_to_login_from_every_admin_page(world):
    _assert_admin_sends_to_login(Client(), _admin_urls(world))


def test_deactivated_member_is_sent_to_login_from_every_admin_page(world, knp, knp_viewer):
    client = Client()
    client.force_login(knp_viewer)
    agency_admin = make_user(knp, Role.AGENCY_ADMIN)
    agency_services.deactivate_member(actor=agency_admin, membership=knp_viewer.membership)
    _assert_admin_sends_to_login(client, _admin_urls(world))


def test_member_of_a_deactivated_agency_is_sent_to_login_from_every_admin_page(
    world, knp, knp_viewer
):
    client = Client()
    client.force_login(knp_viewer)
    agency_services.update_agency(agency=knp, active=False)
    _assert_admin_sends_to_login(client, _admin_urls(world))
