"""Who must use two-factor authentication.

Coordinators share cases across borders and agency administrators hand out
accounts and partner tokens: a stolen password of either reaches other
agencies' data or mints new credentials, so they need a second factor.
Superusers administer every agency and need it most. Service accounts never
log in on the web (API tokens only) and are exempt.
"""

from __future__ import annotations

from django.conf import settings
from django_otp import user_has_device

from agencies.models import Membership
from gate.roles import Role

PRIVILEGED_ROLES = (Role.COORDINATOR, Role.AGENCY_ADMIN)

# A session signed in through an agency's identity provider keeps here what
# `agencies.sso` needs to renew it (the provider's token expiry, the refresh
# token) and whether the provider's own MFA satisfied the second factor.
SSO_SESSION_KEY = "_cb_sso"


def requires_2fa(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if not (settings.REQUIRE_2FA_FOR_ALL or settings.REQUIRE_2FA_FOR_PRIVILEGED):
        return False  # the demo: no query at all
    membership = (
        Membership.objects.filter(user_id=user.pk).only("role", "is_service_account").first()
    )
    if membership is not None and membership.is_service_account:
        return False
    if settings.REQUIRE_2FA_FOR_ALL:
        return True
    return user.is_superuser or (membership is not None and membership.role in PRIVILEGED_ROLES)


def has_confirmed_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def signed_in_through_provider(session) -> bool:
    return bool(session.get(SSO_SESSION_KEY))


def provider_mfa(session) -> bool:
    """Whether the session's sign-in showed MFA at a provider trusted for it
    (`IdentityProvider.mfa_trusted`, checked by `agencies.sso.sign_in`)."""
    data = session.get(SSO_SESSION_KEY)
    return bool(data and data.get("mfa"))
