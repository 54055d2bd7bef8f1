"""Per-request language and time zone from the signed-in person's membership."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone, translation

from gate import port


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
