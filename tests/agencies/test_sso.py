"""Signing in through an agency's own identity provider (issue 21), against a
real OpenID Connect provider started on localhost (tests/agencies/idp.py).

Each test registers Casebridge as a new client of the one provider process
and its people under fresh names: the provider outlives each test's
database.
"""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from agencies import oidc
from agencies.models import ApiToken, ExternalIdentity, Membership
from agencies.tokens import TOKEN_PREFIX, hash_token
from audit.models import AuditAction, AuditEvent, AuditOutcome
from gate.roles import Role
from security.policy import SSO_SESSION_KEY
from tests.factories import PASSWORD as LOCAL_PASSWORD
from tests.factories import make_agency, make_user

from .idp import sign_in_at_provider

pytestmark = pytest.mark.django_db
User = get_user_model()

PASSWORD = "provider-password-1"
OTP = "246810"
LOA_MFA = "urn:casebridge:test:loa:2"
_names = itertools.count(1)


def person(idp, *, groups=("knp-investigators",), domain="police.go.kr", **claims) -> str:
    """A new person at the provider; returns their login (= subject)."""
    login = f"officer-{next(_names)}-{id(idp) % 10000}"
    claims.setdefault("email", f"{login}@{domain}")
    claims.setdefault("email_verified", True)
    idp.put_account(
        login, password=PASSWORD, otp=OTP, groups=list(groups), given_name="Minsu", **claims
    )
    return login


def sign_in(client, code: str, login: str, otp: str = "", *, tamper=None):
    """Casebridge -> the provider's login page -> Casebridge's callback."""
    start = client.get(f"/account/sso/{code}/")
    assert start.status_code == 302, start.content[:500]
    callback = sign_in_at_provider(start["Location"], login, PASSWORD, otp)
    assert callback.startswith("http://testserver/"), callback
    if tamper is not None:
        callback = tamper(callback)
    return client.get(callback.removeprefix("http://testserver"))


def expire_provider_token(client) -> None:
    """Move the session to the moment the provider's access token runs out."""
    session = client.session
    data = dict(session[SSO_SESSION_KEY])
    data["expires_at"] = 0
    session[SSO_SESSION_KEY] = data
    session.save()


def refusals(code: str):
    return AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED,
        outcome=AuditOutcome.REFUSED,
        changes__refusal=code,
    )


def api_token_for(user) -> str:
    plaintext = TOKEN_PREFIX + "x" * 43
    ApiToken.objects.create(
        user=user, name="own", prefix=plaintext[:10], key_hash=hash_token(plaintext)
    )
    return plaintext


def member(login: str) -> Membership:
    return Membership.objects.select_related("user", "agency").get(
        user__external_identity__subject=login
    )


# --- signing in, just in time -----------------------------------------------------


def test_first_sign_in_creates_a_member_of_the_providers_agency(
    client, idp, knp, register_provider
):
    register_provider(knp)
    login = person(idp)
    response = sign_in(client, "KR-KNP", login)
    assert response.status_code == 302, response.content[:1000]
    assert response["Location"] == "/admin/"
    membership = member(login)
    assert membership.agency == knp
    assert membership.user.email == f"{login}@police.go.kr"
    assert not membership.user.has_usable_password()
    assert client.get("/admin/").status_code == 200


def test_just_in_time_creation_and_sign_in_are_audited(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login)
    user = member(login).user
    identity = ExternalIdentity.objects.get(user=user)
    created = AuditEvent.objects.get(object_id=str(identity.pk), action=AuditAction.CREATE)
    assert created.agency_code == "KR-KNP"
    assert created.changes["just_in_time"] is True
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor_id=user.pk).exists()


def test_a_second_sign_in_is_the_same_member(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login)
    client.logout()
    sign_in(client, "KR-KNP", login)
    assert Membership.objects.filter(user__external_identity__subject=login).count() == 1


def test_the_next_page_is_kept_through_the_provider(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    start = client.get("/account/sso/KR-KNP/?next=/admin/cases/case/")
    callback = sign_in_at_provider(start["Location"], login, PASSWORD)
    response = client.get(callback.removeprefix("http://testserver"))
    assert response["Location"] == "/admin/cases/case/"


def test_an_offsite_next_page_is_ignored(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    start = client.get("/account/sso/KR-KNP/?next=https://evil.example/")
    callback = sign_in_at_provider(start["Location"], login, PASSWORD)
    assert client.get(callback.removeprefix("http://testserver"))["Location"] == "/admin/"


# --- the role comes from the claim ----------------------------------------------------


def test_the_role_comes_from_the_mapped_claim(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp, groups=["staff", "knp-coordinators"])
    sign_in(client, "KR-KNP", login)
    assert member(login).role == Role.COORDINATOR


def test_the_highest_mapped_role_wins(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp, groups=["knp-coordinators", "knp-investigators"])
    sign_in(client, "KR-KNP", login)
    assert member(login).role == Role.COORDINATOR


def test_an_unmapped_claim_gives_the_default_role_viewer(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp, groups=["canteen"])
    sign_in(client, "KR-KNP", login)
    assert member(login).role == Role.VIEWER


def test_without_a_default_role_an_unmapped_person_is_refused(client, idp, knp, register_provider):
    register_provider(knp, default_role="")
    login = person(idp, groups=["canteen"])
    response = sign_in(client, "KR-KNP", login)
    assert response.status_code == 403
    assert "no role" in response.content.decode()
    assert not ExternalIdentity.objects.filter(subject=login).exists()
    assert refusals("no_role").exists()


def test_the_role_is_refreshed_at_every_sign_in(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp, groups=["knp-investigators"])
    sign_in(client, "KR-KNP", login)
    client.logout()
    idp.put_account(
        login,
        password=PASSWORD,
        email=f"{login}@police.go.kr",
        email_verified=True,
        groups=["knp-coordinators"],
    )
    sign_in(client, "KR-KNP", login)
    membership = member(login)
    assert membership.role == Role.COORDINATOR
    change = AuditEvent.objects.get(object_id=str(membership.public_id), action=AuditAction.UPDATE)
    assert change.changes["role"] == {"before": "investigator", "after": "coordinator"}


def test_a_role_sent_by_the_browser_is_ignored(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login, tamper=lambda url: url + "&role=agency_admin&groups=x")
    assert member(login).role == Role.INVESTIGATOR


# --- a provider vouches only for its own agency ------------------------------------------


def test_a_foreign_email_domain_is_refused(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp, domain="gmail.com")
    response = sign_in(client, "KR-KNP", login)
    assert response.status_code == 403
    assert "not in a domain" in response.content.decode()
    assert not User.objects.filter(email__iendswith="@gmail.com").exists()
    refusal = refusals("foreign_domain").get()
    assert refusal.agency_code == "KR-KNP"
    assert refusal.changes["email"] == f"{login}@gmail.com"


def test_an_unverified_email_is_refused(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp, email_verified=False)
    assert sign_in(client, "KR-KNP", login).status_code == 403
    assert refusals("no_email").exists()


def test_a_provider_cannot_sign_in_another_agencys_member_by_email(
    client, idp, knp, unodc, register_provider
):
    register_provider(knp)
    seconded = make_user(unodc, Role.COORDINATOR, "unodc.liaison")
    seconded.email = "liaison-kr@police.go.kr"
    seconded.save(update_fields=["email"])
    login = person(idp, email="liaison-kr@police.go.kr")
    response = sign_in(client, "KR-KNP", login)
    assert response.status_code == 403
    assert "belongs to another agency" in response.content.decode()
    seconded.membership.refresh_from_db()
    assert seconded.membership.agency == unodc
    assert not ExternalIdentity.objects.filter(user=seconded).exists()
    assert refusals("other_agency").exists()


def test_a_provider_cannot_sign_in_a_person_linked_to_another_agency(
    client, idp, knp, ccos, register_provider
):
    """Two agencies' clients at one issuer: the person (issuer, sub) is
    KH-CCOS's member; KR-KNP's provider configuration cannot take them."""
    register_provider(ccos)
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KH-CCOS", login)
    client.logout()
    response = sign_in(client, "KR-KNP", login)
    assert response.status_code == 403
    assert member(login).agency == ccos
    assert refusals("other_agency").exists()


def test_the_platform_administrators_email_is_not_taken_over(client, idp, knp, register_provider):
    User.objects.create_superuser("root", email="root@police.go.kr", password="x" * 20)
    register_provider(knp)
    login = person(idp, email="root@police.go.kr")
    assert sign_in(client, "KR-KNP", login).status_code == 403
    assert not ExternalIdentity.objects.filter(user__username="root").exists()


def test_an_email_changed_at_the_provider_cannot_take_another_agencys_address(
    client, idp, knp, unodc, register_provider
):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login)
    client.logout()
    other = make_user(unodc, Role.VIEWER, "unodc.kr.liaison")
    other.email = "liaison2@police.go.kr"
    other.save(update_fields=["email"])
    idp.put_account(
        login, password=PASSWORD, email="liaison2@police.go.kr", email_verified=True, groups=[]
    )
    assert sign_in(client, "KR-KNP", login).status_code == 403
    assert member(login).user.email == f"{login}@police.go.kr"


def test_a_local_member_of_the_same_agency_is_linked_and_loses_the_password(
    client, idp, knp, register_provider
):
    local = make_user(knp, Role.INVESTIGATOR, "knp.local")
    local.email = "local-kr@police.go.kr"
    local.save(update_fields=["email"])
    register_provider(knp)
    login = person(idp, email="local-kr@police.go.kr")
    sign_in(client, "KR-KNP", login)
    local.refresh_from_db()
    assert ExternalIdentity.objects.get(user=local).subject == login
    assert not local.has_usable_password()


def test_an_inactive_provider_offers_no_sign_in(client, idp, knp, register_provider):
    provider = register_provider(knp)
    provider.active = False
    provider.save()
    assert client.get("/account/sso/KR-KNP/").status_code == 404


def test_an_agency_without_a_provider_has_no_sign_in_page(client, knp):
    assert client.get("/account/sso/KR-KNP/").status_code == 404


# --- the protocol's own checks ---------------------------------------------------------


def test_a_callback_with_another_state_is_refused(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    response = sign_in(client, "KR-KNP", login, tamper=lambda url: url.replace("state=", "state=x"))
    assert response.status_code == 403
    assert not ExternalIdentity.objects.filter(subject=login).exists()
    assert refusals("invalid_response").exists()


def test_a_callback_cannot_be_replayed(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    start = client.get("/account/sso/KR-KNP/")
    callback = sign_in_at_provider(start["Location"], login, PASSWORD).removeprefix(
        "http://testserver"
    )
    assert client.get(callback).status_code == 302
    client.logout()
    assert client.get(callback).status_code == 403


def test_the_authorization_request_uses_pkce_nonce_and_state(client, idp, knp, register_provider):
    register_provider(knp)
    location = client.get("/account/sso/KR-KNP/")["Location"]
    assert location.startswith(f"{idp.issuer}/auth?")
    for parameter in ("code_challenge=", "code_challenge_method=S256", "nonce=", "state="):
        assert parameter in location


# --- MFA through acr/amr, or Casebridge's TOTP ---------------------------------------------


@pytest.fixture
def production_2fa(settings):
    """2FA for privileged roles and axes on, as with DEBUG off."""
    settings.REQUIRE_2FA_FOR_PRIVILEGED = True
    settings.AXES_ENABLED = True
    return settings


def test_a_trusted_provider_mfa_satisfies_2fa_through_amr(
    client, idp, knp, register_provider, production_2fa
):
    register_provider(knp, mfa_trusted=True, mfa_amr_values="mfa")
    login = person(idp, groups=["knp-coordinators"])
    response = sign_in(client, "KR-KNP", login, otp=OTP)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert not TOTPDevice.objects.filter(user=member(login).user).exists()


def test_a_trusted_provider_mfa_satisfies_2fa_through_acr(
    client, idp, knp, register_provider, production_2fa
):
    register_provider(knp, mfa_trusted=True, mfa_amr_values="", mfa_acr_values=LOA_MFA)
    login = person(idp, groups=["knp-coordinators"])
    sign_in(client, "KR-KNP", login, otp=OTP)
    assert client.get("/admin/").status_code == 200


def test_a_privileged_role_without_the_providers_mfa_is_refused(
    client, idp, knp, register_provider, production_2fa
):
    register_provider(knp, mfa_trusted=True, mfa_amr_values="mfa")
    login = person(idp, groups=["knp-coordinators"])
    response = sign_in(client, "KR-KNP", login)
    assert response.status_code == 403
    assert "multi-factor" in response.content.decode()
    assert not ExternalIdentity.objects.filter(subject=login).exists()
    assert refusals("mfa_required").exists()


def test_a_viewer_needs_no_mfa_from_a_trusted_provider(
    client, idp, knp, register_provider, production_2fa
):
    register_provider(knp, mfa_trusted=True, mfa_amr_values="mfa")
    login = person(idp, groups=["canteen"])
    sign_in(client, "KR-KNP", login)
    assert client.get("/admin/").status_code == 200


def test_an_untrusted_providers_mfa_does_not_count_and_totp_is_set_up(
    client, idp, knp, register_provider, production_2fa
):
    register_provider(knp, mfa_trusted=False)
    login = person(idp, groups=["knp-coordinators"])
    sign_in(client, "KR-KNP", login, otp=OTP)
    assert client.get("/admin/")["Location"] == "/account/2fa/setup/"


def test_an_enrolled_member_enters_the_totp_code_after_the_provider(
    client, idp, knp, register_provider, production_2fa
):
    register_provider(knp, mfa_trusted=False)
    login = person(idp, groups=["knp-coordinators"])
    sign_in(client, "KR-KNP", login)
    device = TOTPDevice.objects.create(user=member(login).user, name="phone", confirmed=True)
    held = client.get("/admin/")
    assert held["Location"].startswith("/account/2fa/verify/")
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert client.post(held["Location"], {"otp_token": code})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_totp_code_keeps_the_provider_session_held(
    client, idp, knp, register_provider, production_2fa
):
    register_provider(knp, mfa_trusted=False)
    login = person(idp, groups=["knp-coordinators"])
    sign_in(client, "KR-KNP", login)
    TOTPDevice.objects.create(user=member(login).user, name="phone", confirmed=True)
    held = client.get("/admin/")
    wrong = client.post(held["Location"], {"otp_token": "000000"})
    assert wrong.status_code == 200
    assert "not valid" in wrong.content.decode()
    assert client.get("/admin/")["Location"].startswith("/account/2fa/verify/")
    assert AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, changes__username=member(login).user.username
    ).exists()


# --- leavers --------------------------------------------------------------------------------


def test_the_session_goes_on_while_the_provider_vouches(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login)
    expire_provider_token(client)
    assert client.get("/admin/").status_code == 200
    assert client.session[SSO_SESSION_KEY]["expires_at"] > 0
    assert ExternalIdentity.objects.get(subject=login).last_checked_at is not None


def test_a_person_the_provider_removed_loses_access_at_the_next_refresh(
    client, idp, knp, register_provider
):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login)
    user = member(login).user
    token = api_token_for(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/me/").status_code == 200

    idp.delete_account(login)
    expire_provider_token(client)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    user.refresh_from_db()
    assert not user.is_active
    assert ExternalIdentity.objects.get(user=user).deprovisioned_at is not None
    assert ApiToken.objects.get(user=user).revoked_at is not None
    assert api.get("/api/v1/me/").status_code == 401
    event = AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_id=str(user.membership.public_id)
    ).latest("seq")
    assert event.changes["is_active"] == {"before": True, "after": False}
    assert "refused the grant" in event.reason


def test_a_removed_person_cannot_sign_in_again(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login)
    idp.delete_account(login)
    client.logout()
    start = client.get("/account/sso/KR-KNP/")
    with pytest.raises(AssertionError, match="Wrong account"):
        sign_in_at_provider(start["Location"], login, PASSWORD)


def test_a_claim_that_no_longer_maps_ends_access(client, idp, knp, register_provider):
    register_provider(knp, default_role="")
    login = person(idp, groups=["knp-investigators"])
    sign_in(client, "KR-KNP", login)
    idp.put_account(
        login,
        password=PASSWORD,
        email=f"{login}@police.go.kr",
        email_verified=True,
        groups=["retired"],
    )
    expire_provider_token(client)
    assert client.get("/admin/").status_code == 302
    assert not member(login).user.is_active


def test_a_refresh_brings_the_new_role(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp, groups=["knp-coordinators"])
    sign_in(client, "KR-KNP", login)
    idp.put_account(
        login,
        password=PASSWORD,
        email=f"{login}@police.go.kr",
        email_verified=True,
        groups=["knp-investigators"],
    )
    expire_provider_token(client)
    assert client.get("/admin/").status_code == 200
    assert member(login).role == Role.INVESTIGATOR


def test_an_unreachable_provider_ends_the_session_but_not_the_member(
    client, idp, knp, register_provider, monkeypatch
):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login)

    def down(*args, **kwargs):
        raise oidc.ProviderUnavailable("connection refused")

    monkeypatch.setattr(oidc, "refresh", down)
    expire_provider_token(client)
    assert client.get("/admin/").status_code == 302
    assert member(login).user.is_active


def test_a_deprovisioned_person_the_provider_vouches_for_again_is_reactivated(
    client, idp, knp, register_provider
):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login)
    idp.delete_account(login)
    expire_provider_token(client)
    client.get("/admin/")
    assert not member(login).user.is_active
    person_again = dict(email=f"{login}@police.go.kr", email_verified=True)
    idp.put_account(login, password=PASSWORD, groups=["knp-investigators"], **person_again)
    assert sign_in(client, "KR-KNP", login).status_code == 302
    assert member(login).user.is_active


def test_a_member_deactivated_by_their_agency_is_refused(client, idp, knp, register_provider):
    register_provider(knp)
    login = person(idp)
    sign_in(client, "KR-KNP", login)
    client.logout()
    user = member(login).user
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = sign_in(client, "KR-KNP", login)
    assert response.status_code == 403
    assert "deactivated" in response.content.decode()


# --- local passwords --------------------------------------------------------------------


def test_a_local_password_is_refused_for_an_agency_with_a_provider(client, knp, register_provider):
    local = make_user(knp, Role.INVESTIGATOR, "knp.password")
    register_provider(knp)
    response = client.post(
        "/admin/login/", {"username": local.username, "password": LOCAL_PASSWORD}
    )
    assert response.status_code == 200
    assert "Sign in with KR-KNP" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_local_passwords_work_for_agencies_without_a_provider(client, knp, register_provider):
    other = make_agency("TH-CCIB", country="TH")
    local = make_user(other, Role.INVESTIGATOR, "th.password")
    register_provider(knp)
    response = client.post(
        "/admin/login/", {"username": local.username, "password": LOCAL_PASSWORD}
    )
    assert response.status_code == 302


def test_the_login_page_offers_each_active_provider(client, knp, ccos, register_provider):
    register_provider(knp)
    inactive = register_provider(ccos)
    inactive.active = False
    inactive.save()
    page = client.get("/admin/login/").content.decode()
    assert "Sign in with KR-KNP" in page
    assert "Sign in with KH-CCOS" not in page
    assert 'id="login-form"' in page


def test_the_login_page_without_providers_is_the_password_form(client, knp):
    page = client.get("/admin/login/").content.decode()
    assert "Sign in with" not in page
    assert 'id="login-form"' in page


@pytest.mark.parametrize(
    ("language", "button"), [("ko", "KR-KNP(으)로 로그인"), ("km", "ចូលតាមរយៈ KR-KNP")]
)
def test_the_sign_in_button_speaks_the_readers_language(
    client, knp, register_provider, language, button
):
    register_provider(knp)
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert button in page
