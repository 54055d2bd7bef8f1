"""Per request: the member's language and time zone; a provider session's renewal."""

from __future__ import annotations

import zoneinfo
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone, translation

from gate import port

from . import sso


class MembershipLocaleMiddleware:
    """Activate the member's chosen language and their agency's time zone.

    Runs after `AuthenticationMiddleware` (it needs the user) and after
    `LocaleMiddleware`, whose choice from the browser it overrides only when
    the member picked a language. Dates are then shown in the agency's time
    zone: a Phnom Penh investigator reads Phnom Penh times.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = port.membership_of(getattr(request, "user", None))
        if membership is not None:
            if membership.language:
                translation.activate(membership.language)
                request.LANGUAGE_CODE = translation.get_language()
            try:
                timezone.activate(zoneinfo.ZoneInfo(membership.agency.timezone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class ProviderSessionMiddleware:
    """A session signed in through an identity provider lives as long as the
    provider's token: past its expiry, the provider is asked again
    (`agencies.sso.renew_session`) before the request is served, and the
    session ends unless the provider still vouches for the person.

    After `SessionLifetimeMiddleware` (an idle or too old session is gone
    first) and before OTP and 2FA (a session that ends needs no code). Costs
    one session lookup per request; nothing for password sessions.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and sso.session_expired(request.session)
            and not sso.renew_session(request.session)
        ):
            logout(request)
            if not request.path.startswith("/api/"):
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse('admin:login')}?{query}")
        return self.get_response(request)
