"""DRF authentication for partner systems: `Authorization: Bearer <token>`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .tokens import TokenRejected, authenticate_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Listed first in DEFAULT_AUTHENTICATION_CLASSES so an unauthenticated
    request gets 401 with `WWW-Authenticate: Bearer`, not 403."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as: Authorization: Bearer <token>.")
            )
        try:
            token = authenticate_token(parts[1])
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(exc.reason) from None
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="api"'
