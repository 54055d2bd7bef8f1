"""Session lifetime, the second factor, and the per-address login throttle."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.ratelimit import client_address, hit, too_many_requests

from .policy import (
    has_confirmed_device,
    provider_mfa,
    requires_2fa,
    signed_in_through_provider,
)
from .signals import AUTH_TIME_KEY, LAST_ACTIVITY_KEY

# Write the activity stamp at most this often: a session save per request
# would cost a database write per request for a precision nobody needs.
ACTIVITY_RESOLUTION_SECONDS = 60


class SessionLifetimeMiddleware:
    """End a session after SESSION_IDLE_TIMEOUT idle seconds or SESSION_COOKIE_AGE in all.

    The absolute limit is counted from the login time kept in the session,
    because Django moves a stored session's expiry forward on every save.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            last = session.get(LAST_ACTIVITY_KEY)
            auth_time = session.get(AUTH_TIME_KEY)
            idle = last is None or now - last > settings.SESSION_IDLE_TIMEOUT
            too_old = auth_time is None or now - auth_time > settings.SESSION_COOKIE_AGE
            if idle or too_old:
                logout(request)
            elif now - last >= ACTIVITY_RESOLUTION_SECONDS:
                session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("security:enrol"),
        reverse("security:verify"),
        reverse("admin:logout"),
        reverse("healthz"),
        reverse("readyz"),
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}",
    )


class TwoFactorRequiredMiddleware:
    """Hold a user who must use 2FA to the enrolment page until verified.

    The admin login asks for a code from anyone who has a device; this covers
    the rest: a privileged user without a device (sent to enrol), and a
    session that lost its verification (device removed): logged out. A
    session signed in through an agency's identity provider has no password
    step to ask the code in: it is sent to the code page (`security:verify`),
    unless the provider's MFA already counted (`policy.provider_mfa`). API
    calls authenticated by token are not seen here (request.user is the
    session's user), so service accounts are unaffected.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not provider_mfa(request.session)
            and not request.path.startswith(_exempt_paths())
            and requires_2fa(user)
        ):
            if request.path.startswith("/api/"):
                # RFC 9457 with a type and code of its own, in the API's
                # shape (config.api.problems, which this layer does not import).
                return JsonResponse(
                    {
                        "type": "urn:casebridge:problem:two_factor_required",
                        "title": str(_("Two-factor authentication is required.")),
                        "status": 403,
                        "detail": str(_("Set it up in the web interface, then retry.")),
                        "code": "two_factor_required",
                    },
                    status=403,
                    content_type="application/problem+json",
                )
            if has_confirmed_device(user):
                query = urlencode({"next": request.get_full_path()})
                if signed_in_through_provider(request.session):
                    return HttpResponseRedirect(f"{reverse('security:verify')}?{query}")
                logout(request)
                return HttpResponseRedirect(f"{reverse('admin:login')}?{query}")
            return HttpResponseRedirect(reverse("security:enrol"))
        return self.get_response(request)


class LoginThrottleMiddleware:
    """Cap login attempts per client address, whatever the username.

    Axes locks a username from an address; this stops one address trying
    one password against many usernames (spraying).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path == reverse("admin:login"):
            result = hit(
                "login",
                client_address(request),
                limit=settings.LOGIN_IP_RATE_LIMIT,
                window=settings.LOGIN_IP_RATE_WINDOW,
            )
            if not result.allowed:
                return too_many_requests(result.retry_after)
        return self.get_response(request)
