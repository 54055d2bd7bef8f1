"""The platform administrator registers an agency's identity provider in the
admin; agency administrators see where each member signs in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from agencies.models import ExternalIdentity, IdentityProvider
from audit.models import AuditAction, AuditEvent
from gate.roles import Role
from tests.admin_client import login
from tests.factories import make_user

pytestmark = pytest.mark.django_db
User = get_user_model()
ADD = reverse("admin:agencies_identityprovider_add")


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", password="x" * 20)


def form(agency, **extra):
    data = {
        "agency": agency.pk,
        "issuer": "https://idp.police.go.kr/realms/knp",
        "client_id": "casebridge",
        "client_secret_env": "OIDC_KR_KNP_SECRET",
        "scopes": "openid email profile",
        "email_domains": "police.go.kr, knp.go.kr",
        "role_claim": "groups",
        "role_mapping": '{"knp-investigators": "investigator"}',
        "default_role": "viewer",
        "mfa_amr_values": "mfa",
        "active": "on",
    }
    data.update(extra)
    return data


def test_the_platform_administrator_registers_a_provider(root, knp):
    response = login(root).post(ADD, form(knp))
    assert response.status_code == 302, response.context["adminform"].form.errors
    provider = IdentityProvider.objects.get(agency=knp)
    assert provider.allowed_domains() == ["police.go.kr", "knp.go.kr"]
    assert provider.role_mapping == {"knp-investigators": "investigator"}
    event = AuditEvent.objects.get(object_id=str(provider.public_id), action=AuditAction.CREATE)
    assert event.agency_code == "KR-KNP"
    assert event.actor_label == "root"
    assert event.changes["issuer"]["after"] == provider.issuer


def test_a_change_to_a_provider_is_audited(root, knp):
    login(root).post(ADD, form(knp))
    provider = IdentityProvider.objects.get(agency=knp)
    url = reverse("admin:agencies_identityprovider_change", args=[provider.pk])
    data = form(knp, mfa_trusted="on")
    del data["agency"]
    assert login(root).post(url, data).status_code == 302
    event = AuditEvent.objects.filter(
        object_id=str(provider.public_id), action=AuditAction.UPDATE
    ).get()
    assert event.changes == {"mfa_trusted": {"before": False, "after": True}}


def test_the_change_page_shows_the_redirect_uri_to_register(root, knp):
    login(root).post(ADD, form(knp))
    provider = IdentityProvider.objects.get(agency=knp)
    page = login(root).get(reverse("admin:agencies_identityprovider_change", args=[provider.pk]))
    assert "/account/sso/KR-KNP/callback/" in page.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role_mapping", '{"knp-investigators": "superhero"}'),
        ("role_mapping", '["investigator"]'),
        ("email_domains", "not a domain!"),
        ("email_domains", ""),
        ("issuer", "http://idp.police.go.kr/"),
        ("scopes", "email profile"),
        ("client_secret_env", "the secret itself"),
    ],
)
def test_bad_input_is_a_form_error_and_saves_nothing(root, knp, field, value):
    response = login(root).post(ADD, form(knp, **{field: value}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not IdentityProvider.objects.exists()
    assert not AuditEvent.objects.filter(object_type="agencies.identityprovider").exists()


def test_trusting_the_providers_mfa_needs_the_values_that_mean_mfa(root, knp):
    response = login(root).post(ADD, form(knp, mfa_trusted="on", mfa_amr_values=""))
    assert response.status_code == 200
    assert not IdentityProvider.objects.exists()


def test_one_provider_per_agency(root, knp):
    login(root).post(ADD, form(knp))
    response = login(root).post(ADD, form(knp, client_id="second"))
    assert response.status_code == 200
    assert IdentityProvider.objects.count() == 1


@pytest.mark.parametrize("role", [Role.AGENCY_ADMIN, Role.COORDINATOR])
def test_members_of_an_agency_cannot_reach_the_provider_pages(root, knp, unodc, role):
    login(root).post(ADD, form(knp))
    provider = IdentityProvider.objects.get(agency=knp)
    for user in (make_user(knp, role), make_user(unodc, role)):
        client = login(user)
        assert client.get(reverse("admin:agencies_identityprovider_changelist")).status_code == 403
        change = reverse("admin:agencies_identityprovider_change", args=[provider.pk])
        assert client.get(change).status_code in (403, 404)
        assert client.post(ADD, form(unodc)).status_code == 403
    assert IdentityProvider.objects.count() == 1


def test_the_agency_admin_sees_each_members_source_and_last_sign_in(root, knp):
    login(root).post(ADD, form(knp))
    admin_user = make_user(knp, Role.AGENCY_ADMIN)
    local = make_user(knp, Role.INVESTIGATOR, "knp.local.one")
    federated = make_user(knp, Role.INVESTIGATOR, "knp.federated.one")
    ExternalIdentity.objects.create(
        user=federated,
        provider=IdentityProvider.objects.get(agency=knp),
        issuer="https://idp.police.go.kr/realms/knp",
        subject="kim",
    )
    federated.last_login = timezone.now()
    federated.save(update_fields=["last_login"])
    page = login(admin_user).get(reverse("admin:agencies_membership_changelist"))
    rows = {
        row.split("</th>")[0].rsplit(">", 2)[-2].split("<")[0]: row
        for row in page.content.decode().split("<tr")[1:]
        if "</th>" in row
    }
    assert "Identity provider" in rows[federated.username]
    assert "Local password" in rows[local.username]
    assert "field-last_sign_in" in rows[federated.username]


def test_another_agencys_admin_does_not_see_the_members(root, knp, unodc):
    federated = make_user(knp, Role.INVESTIGATOR, "knp.federated.two")
    other_admin = make_user(unodc, Role.AGENCY_ADMIN)
    page = login(other_admin).get(reverse("admin:agencies_membership_changelist"))
    assert federated.username not in page.content.decode()
    change = reverse("admin:agencies_membership_change", args=[federated.membership.pk])
    assert login(other_admin).get(change).status_code == 404
