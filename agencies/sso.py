"""Signing in through an agency's identity provider, and losing access with it.

The rules (issue 21):

* **A provider vouches only for its own agency.** Whoever it signs in is, or
  becomes, a member of that agency and of no other: a person at the issuer
  already linked to another agency's member, or an e-mail address that is
  another agency's member's (or the platform administrator's), is refused,
  and so is an e-mail address outside the provider's allowed domains.
* **The role comes from the provider**, from the mapped claim, at every
  sign-in and every refresh; never from anything the person typed. A claim
  that maps to no role falls back to the provider's default role (viewer
  unless configured otherwise); with no default, the person is refused.
* **Two-factor**: a role that needs 2FA (`security.policy.requires_2fa`)
  signing in through a provider trusted for MFA must show MFA in the ID
  token's `acr`/`amr`, or is refused; through a provider that is not
  trusted for MFA, the person enters their Casebridge authenticator code
  after signing in (`security.middleware.TwoFactorRequiredMiddleware`).
* **Leavers**: a provider session lasts as long as the provider's access
  token. When it runs out, `renew_session` asks the provider again with the
  refresh token. If the provider refuses the grant (`invalid_grant`: it no
  longer knows the person, or ended their grant) or the claims no longer
  give a role or an allowed e-mail address, the person is deprovisioned:
  the user is deactivated, and every session and API token ends
  (`security.services.end_user_access`). A person the provider vouches for
  again later is reactivated at that sign-in; one deactivated by their
  agency's administrator is not.
* Every sign-in, refusal, just-in-time account, role change and
  deprovisioning is in the audit log.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from audit import services as audit
from audit.models import AuditAction, AuditOutcome
from gate.roles import Role
from security.policy import SSO_SESSION_KEY, requires_2fa
from security.services import end_user_access

from . import oidc
from .models import Agency, ExternalIdentity, IdentityProvider, Membership
from .services import create_member

User = get_user_model()
logger = logging.getLogger("casebridge.sso")

PROVIDER_AUDIT_FIELDS = (
    "agency",
    "issuer",
    "client_id",
    "client_secret_env",
    "scopes",
    "email_domains",
    "role_claim",
    "role_mapping",
    "default_role",
    "mfa_trusted",
    "mfa_acr_values",
    "mfa_amr_values",
    "active",
)

# "The highest mapped role wins": what a role may do, least first.
ROLE_ORDER = (Role.VIEWER, Role.INVESTIGATOR, Role.COORDINATOR, Role.AGENCY_ADMIN)

REFUSALS: dict[str, Promise] = {
    "unavailable": _("Signing in through this identity provider is not available."),
    "invalid_response": _(
        "The identity provider's answer could not be verified. Start again from the sign-in page."
    ),
    "no_email": _("Your identity provider did not give a verified e-mail address."),
    "foreign_domain": _(
        "Your e-mail address is not in a domain that %(agency)s's identity provider may vouch for."
    ),
    "other_agency": _(
        "This account belongs to another agency: %(agency)s's identity provider cannot sign it in."
    ),
    "email_taken": _(
        "Another account of your agency already uses this e-mail address. Ask your "
        "agency's administrator."
    ),
    "no_role": _(
        "Your identity provider gives you no role in Casebridge. Ask your agency's administrator."
    ),
    "mfa_required": _(
        "Your role needs multi-factor authentication: sign in at your identity provider "
        "with your second factor."
    ),
    "deactivated": _("This account has been deactivated by your agency."),
}


class SignInRefused(Exception):
    """A sign-in the rules refuse; `code` names the rule (a key of REFUSALS)."""

    def __init__(self, code: str, agency: Agency) -> None:
        self.code = code
        self.agency = agency
        super().__init__(code)

    @property
    def message(self) -> str:
        return str(REFUSALS[self.code]) % {"agency": self.agency.code}


@dataclass(frozen=True)
class SignIn:
    user: Any
    identity: ExternalIdentity
    provider_mfa: bool
    created: bool


# --- reading the claims -----------------------------------------------------------


def verified_email(claims: dict[str, Any]) -> str | None:
    """The e-mail address, unless absent, malformed or `email_verified` is false."""
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is False:
        return None
    email = email.strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 254:
        return None
    return email


def email_domain_allowed(provider: IdentityProvider, email: str) -> bool:
    return email.rsplit("@", 1)[1].lower() in provider.allowed_domains()


def role_from_claims(provider: IdentityProvider, claims: dict[str, Any]) -> str | None:
    """The highest role the claim's values map to, else the default role, else None."""
    value = claims.get(provider.role_claim)
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    mapping = provider.role_mapping or {}
    mapped = {mapping[v] for v in values if isinstance(v, str) and v in mapping}
    for role in reversed(ROLE_ORDER):
        if role in mapped:
            return str(role)
    return provider.default_role or None


def shows_mfa(provider: IdentityProvider, id_claims: dict[str, Any]) -> bool:
    """Whether the ID token's `acr` or `amr` says the person used several factors."""
    amr = id_claims.get("amr")
    amr_values = set(amr) if isinstance(amr, list) else set()
    if amr_values & set(provider.mfa_amr_values.split()):
        return True
    acr = id_claims.get("acr")
    return isinstance(acr, str) and acr in provider.mfa_acr_values.split()


# --- signing in ---------------------------------------------------------------------


def _free_username(agency: Agency, email: str) -> str:
    base = f"{agency.code.lower()}.{slugify(email.split('@', 1)[0])[:100] or 'member'}"
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}.{n}"
    return username


def _change_role(membership: Membership, role: str, provider: IdentityProvider) -> None:
    if membership.role == role:
        return
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        action=AuditAction.UPDATE,
        obj=membership,
        actor=None,
        agency=provider.agency,
        changes={"role": {"before": before, "after": role}, "source": "identity_provider"},
        reason=f"Role claim at {provider.agency.code}'s identity provider.",
    )


def _existing_user(provider: IdentityProvider, subject: str, email: str):
    """The Casebridge user this person already is, or None; refuses one of another agency.

    Looked up by the person at the issuer first, then by e-mail address: a
    provider must not take over an account of another agency by giving one of
    its people that account's address.
    """
    identity = (
        ExternalIdentity.objects.select_related("user", "provider")
        .filter(issuer=provider.issuer, subject=subject)
        .first()
    )
    if identity is not None and identity.provider.agency_id != provider.agency_id:
        raise SignInRefused("other_agency", provider.agency)
    same_email = [
        user
        for user in User.objects.filter(email__iexact=email).select_related("membership")
        if identity is None or user.pk != identity.user_id
    ]
    for user in same_email:
        membership = getattr(user, "membership", None)
        if membership is None or membership.agency_id != provider.agency_id:
            raise SignInRefused("other_agency", provider.agency)
    if identity is not None:
        return identity.user, identity
    for user in same_email:
        if (
            ExternalIdentity.objects.filter(user=user).exists()
            or user.membership.is_service_account
        ):
            raise SignInRefused("email_taken", provider.agency)
    return (same_email[0] if same_email else None), None


def sign_in(*, provider: IdentityProvider, tokens: oidc.ProviderTokens) -> SignIn:
    """Who the provider's verified answer signs in: an existing member of the
    provider's agency (role refreshed) or a new one (just in time). Raises
    `SignInRefused`; nothing it wrote stays then (one transaction).

    Two first sign-ins of one person at once (two tabs, a double click) race
    to create the account: the second's insert fails on the unique subject or
    username once the first commits, and it then signs in to that account."""
    try:
        return _sign_in(provider=provider, tokens=tokens)
    except IntegrityError:
        return _sign_in(provider=provider, tokens=tokens)


@transaction.atomic
def _sign_in(*, provider: IdentityProvider, tokens: oidc.ProviderTokens) -> SignIn:
    agency = provider.agency
    if not provider.active or not agency.active:
        raise SignInRefused("unavailable", agency)
    claims = tokens.claims
    subject = str(tokens.id_token_claims["sub"])
    email = verified_email(claims)
    if email is None:
        raise SignInRefused("no_email", agency)
    if not email_domain_allowed(provider, email):
        raise SignInRefused("foreign_domain", agency)
    role = role_from_claims(provider, claims)
    if role is None:
        raise SignInRefused("no_role", agency)

    user, identity = _existing_user(provider, subject, email)
    created = user is None
    now = timezone.now()
    if user is None:
        membership = create_member(
            username=_free_username(agency, email),
            agency=agency,
            role=role,
            email=email,
            first_name=str(claims.get("given_name") or "")[:150],
            last_name=str(claims.get("family_name") or "")[:150],
        )
        user = membership.user
    else:
        membership = Membership.objects.select_for_update().get(user=user)
        if not user.is_active:
            if identity is None or identity.deprovisioned_at is None:
                raise SignInRefused("deactivated", agency)
            user.is_active = True
            user.save(update_fields=["is_active"])
            audit.record(
                action=AuditAction.UPDATE,
                obj=membership,
                actor=None,
                agency=agency,
                changes={"is_active": {"before": False, "after": True}},
                reason=f"{agency.code}'s identity provider vouches for the person again.",
            )
        _change_role(membership, role, provider)
    if identity is None:
        if user.has_usable_password():
            # From now on the provider signs this person in: a password left
            # behind would outlive their leaving.
            user.set_unusable_password()
            user.save(update_fields=["password"])
        identity = ExternalIdentity.objects.create(
            user=user, provider=provider, issuer=provider.issuer, subject=subject
        )
        audit.record(
            action=AuditAction.CREATE,
            obj=identity,
            actor=None,
            agency=agency,
            changes={
                "user": user.get_username(),
                "provider": agency.code,
                "subject": subject,
                "just_in_time": created,
            },
        )
    provider_mfa = provider.mfa_trusted and shows_mfa(provider, tokens.id_token_claims)
    if provider.mfa_trusted and not provider_mfa and requires_2fa(user):
        raise SignInRefused("mfa_required", agency)
    if user.email != email:
        user.email = email
        user.save(update_fields=["email"])
    identity.provider = provider
    identity.last_sign_in_at = identity.last_checked_at = now
    identity.deprovisioned_at = None
    identity.save(
        update_fields=["provider", "last_sign_in_at", "last_checked_at", "deprovisioned_at"]
    )
    return SignIn(user=user, identity=identity, provider_mfa=provider_mfa, created=created)


def record_refusal(
    *, provider: IdentityProvider, code: str, claims: dict[str, Any] | None = None, detail: str = ""
) -> None:
    """A refused sign-in, on the provider's agency's trail (after the sign-in's
    transaction rolled back, so the refusal stays and nothing else does)."""
    claims = claims or {}
    audit.record(
        action=AuditAction.LOGIN_FAILED,
        actor=None,
        agency=provider.agency,
        obj=provider,
        changes={
            "provider": provider.agency.code,
            "subject": str(claims.get("sub", ""))[:255],
            "email": str(claims.get("email", ""))[:254],
            "refusal": code,
            **({"detail": detail[:500]} if detail else {}),
        },
        outcome=AuditOutcome.REFUSED,
        reason=str(REFUSALS.get(code, code)) % {"agency": provider.agency.code},
    )
    logger.warning(
        "sso.refused",
        extra={"event": "sso.refused", "agency": provider.agency.code, "refusal": code},
    )


# --- the session --------------------------------------------------------------------


def start_session(session: SessionBase, result: SignIn, tokens: oidc.ProviderTokens) -> None:
    """Bind the (new) session to the provider's word: until `expires_at`, then renew."""
    session[SSO_SESSION_KEY] = {
        "identity": result.identity.pk,
        "provider": result.identity.provider_id,
        "expires_at": tokens.expires_at,
        "refresh_token": tokens.refresh_token,
        "mfa": result.provider_mfa,
    }


def session_expired(session: SessionBase, now: float | None = None) -> bool:
    data = session.get(SSO_SESSION_KEY)
    if not data:
        return False
    return (now if now is not None else time.time()) >= float(data.get("expires_at", 0))


@transaction.atomic
def deprovision(*, identity: ExternalIdentity, why: str) -> None:
    """The provider no longer vouches for the person: deactivate them and end
    every session and API token now. Reactivated if it vouches again."""
    user = User.objects.select_for_update().get(pk=identity.user_id)
    membership = Membership.objects.filter(user=user).first()
    was_active = user.is_active
    if was_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    end_user_access(user=user)
    ExternalIdentity.objects.filter(pk=identity.pk).update(deprovisioned_at=timezone.now())
    audit.record(
        action=AuditAction.UPDATE,
        obj=membership or user,
        actor=None,
        agency=identity.provider.agency,
        changes={
            "is_active": {"before": was_active, "after": False},
            "source": "identity_provider",
            "subject": identity.subject,
        },
        reason=why,
    )
    logger.warning(
        "sso.deprovisioned",
        extra={"event": "sso.deprovisioned", "user_id": user.pk, "why": why},
    )


def renew_session(session: SessionBase) -> bool:
    """Ask the provider again about the session's person (its token ran out).

    True: the provider still vouches; the session goes on until the new
    token's expiry, in the role the claim now maps to. False: the session must
    end; if the provider said the person is gone or no longer maps to a role
    or an allowed address, they were deprovisioned too. A provider that cannot
    be reached ends the session only (the person signs in again later).
    """
    data = session.get(SSO_SESSION_KEY) or {}
    identity_pk = data.get("identity")
    if not isinstance(identity_pk, int):
        return False
    identity = (
        ExternalIdentity.objects.select_related("user", "provider__agency")
        .filter(pk=identity_pk)
        .first()
    )
    if identity is None or identity.provider_id != data.get("provider"):
        return False
    provider = identity.provider
    if not provider.active or not provider.agency.active or not identity.user.is_active:
        return False
    refresh_token = str(data.get("refresh_token") or "")
    if not refresh_token:
        return False  # no way to ask again: sign in again
    try:
        tokens = oidc.refresh(provider, refresh_token, identity.subject)
    except oidc.TokenRefused as exc:
        deprovision(
            identity=identity,
            why=f"{provider.agency.code}'s identity provider refused the grant ({exc.error}).",
        )
        return False
    except oidc.ProviderUnavailable as exc:
        logger.warning(
            "sso.renew_unavailable",
            extra={
                "event": "sso.renew_unavailable",
                "agency": provider.agency.code,
                "error": str(exc),
            },
        )
        return False
    email = verified_email(tokens.claims)
    role = role_from_claims(provider, tokens.claims)
    if email is None or not email_domain_allowed(provider, email) or role is None:
        deprovision(
            identity=identity,
            why=(
                f"{provider.agency.code}'s identity provider no longer gives an allowed "
                "e-mail address or a role claim that maps to a role."
            ),
        )
        return False
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(user_id=identity.user_id)
        _change_role(membership, role, provider)
        ExternalIdentity.objects.filter(pk=identity.pk).update(last_checked_at=timezone.now())
    if provider.mfa_trusted and not data.get("mfa") and requires_2fa(identity.user):
        return False  # now a role that needs the provider's MFA: sign in again with it
    session[SSO_SESSION_KEY] = {
        **data,
        "expires_at": tokens.expires_at,
        "refresh_token": tokens.refresh_token,
    }
    return True


# --- registering a provider (platform administration) -----------------------------


@transaction.atomic
def save_provider(*, actor, provider: IdentityProvider) -> IdentityProvider:
    """Register or change an agency's identity provider (validated by the
    model), audited on the agency's trail. The secret's variable name is
    recorded, never a secret."""
    creating = provider.pk is None
    before = (
        {}
        if creating
        else audit.snapshot(IdentityProvider.objects.get(pk=provider.pk), PROVIDER_AUDIT_FIELDS)
    )
    provider.full_clean()
    provider.save()
    oidc.forget_metadata()
    after = audit.snapshot(provider, PROVIDER_AUDIT_FIELDS)
    audit.record(
        action=AuditAction.CREATE if creating else AuditAction.UPDATE,
        obj=provider,
        actor=actor,
        agency=provider.agency,
        changes=audit.changes_between(before, after),
    )
    return provider


def sign_in_choices() -> list[IdentityProvider]:
    """The providers the login page offers: active, of active agencies."""
    return list(
        IdentityProvider.objects.filter(active=True, agency__active=True)
        .select_related("agency")
        .order_by("agency__code")
    )


def provider_for_sign_in(code: str) -> IdentityProvider | None:
    return (
        IdentityProvider.objects.filter(active=True, agency__active=True, agency__code=code)
        .select_related("agency")
        .first()
    )


def signs_in_through_provider(user) -> bool:
    """Whether the user's agency has an active provider (local passwords refused)."""
    return IdentityProvider.objects.filter(
        active=True, agency__memberships__user_id=user.pk
    ).exists()
