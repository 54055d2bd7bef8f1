"""The OpenID Connect protocol with an agency's identity provider, through Authlib.

Why Authlib (`authlib.integrations.django_client`), not mozilla-django-oidc
or django-allauth:

* Casebridge has one provider *per agency*, chosen at request time from the
  database (`IdentityProvider`). Authlib's Django client is a plain object
  built from arguments (`DjangoOAuth2App(...)`), so each request builds the
  client of the agency it is for. mozilla-django-oidc reads one provider
  from settings (`OIDC_RP_CLIENT_ID`, `OIDC_OP_*`): several would mean
  overriding its settings lookup in its backend, views and middleware.
  django-allauth keeps several OpenID Connect "apps", but stores their
  client secrets in the database in clear (`SocialApp.secret`) and brings
  its own account, e-mail and signup flows, models and middleware, which
  would be a second user directory next to `Membership`.
* What it checks, from its own code: the `state` kept in the session
  (`MismatchingStateError`), PKCE with S256 (`code_challenge_method`), the
  `nonce` and the ID token's signature against the provider's JWKS (keys
  fetched again on an unknown `kid`, for rotation), `exp`/`iat`, `azp` and
  `at_hash`. `iss` and `aud` are checked only when asked, so
  `claims_options` below always asks for the configured issuer and the
  client id.
* It is a library, not a framework: the decisions (which agency, which
  role, refusals, leavers) stay in `agencies.sso`, where they are tested.

Network calls (discovery, JWKS, token, userinfo) have a timeout; the
discovery document is cached per process for `OIDC_METADATA_TTL` seconds.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoOAuth2App
from authlib.integrations.django_client.integration import DjangoIntegration
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from joserfc.errors import JoseError

from .models import IdentityProvider

logger = logging.getLogger("casebridge.oidc")

__all__ = [
    "ProviderTokens",
    "ProviderUnavailable",
    "TokenRefused",
    "authorize_redirect",
    "complete_authorization",
    "refresh",
]


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered nonsense (a 5xx, a
    timeout, a discovery document for another issuer): nothing is known
    about the person either way."""


class TokenRefused(Exception):
    """The provider, or the checks on what it sent, refused: a bad state,
    nonce, signature, issuer or audience, or `invalid_grant` on a refresh
    (the grant or the person is gone). `error` is the OAuth error code."""

    def __init__(self, error: str, description: str = "") -> None:
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}" if description else error)


@dataclass(frozen=True)
class ProviderTokens:
    """What one token response said about the person, once verified."""

    claims: dict[str, Any]  # ID token claims, userinfo merged over them
    id_token_claims: dict[str, Any]
    expires_at: int  # when the access token (and so the session's trust) ends
    refresh_token: str


_metadata_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def client_secret(provider: IdentityProvider) -> str | None:
    """The secret from the environment variable the provider names (None: public client)."""
    if not provider.client_secret_env:
        return None
    secret = os.environ.get(provider.client_secret_env, "")
    if not secret:
        raise ProviderUnavailable(
            f"environment variable {provider.client_secret_env} (the client secret of "
            f"{provider.agency.code}'s identity provider) is not set"
        )
    return secret


def _discovery_url(provider: IdentityProvider) -> str:
    return provider.issuer.rstrip("/") + "/.well-known/openid-configuration"


def _metadata(provider: IdentityProvider) -> dict[str, Any]:
    """The provider's discovery document, checked to be for its issuer (RFC 8414 §3.3:
    a document naming another issuer is refused, or tokens would be checked against
    the wrong keys)."""
    url = _discovery_url(provider)
    now = time.monotonic()
    with _metadata_lock:
        cached = _metadata_cache.get(url)
        if cached is not None and now - cached[0] < settings.OIDC_METADATA_TTL:
            return dict(cached[1])
    try:
        response = requests.get(url, timeout=settings.OIDC_HTTP_TIMEOUT)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"discovery at {url} failed: {exc}") from exc
    if not isinstance(metadata, dict) or metadata.get("issuer") != provider.issuer:
        raise ProviderUnavailable(f"the discovery document at {url} is not for {provider.issuer}")
    with _metadata_lock:
        _metadata_cache[url] = (now, metadata)
    return dict(metadata)


def forget_metadata() -> None:
    """Drop the cached discovery documents (a provider's configuration changed)."""
    with _metadata_lock:
        _metadata_cache.clear()


def _client_auth_method(provider: IdentityProvider) -> str:
    return "client_secret_basic" if provider.client_secret_env else "none"


def _app(provider: IdentityProvider) -> DjangoOAuth2App:
    """Authlib's client for this provider, built for this request."""
    name = f"cb-idp-{provider.public_id}"
    return DjangoOAuth2App(
        DjangoIntegration(name),
        name=name,
        client_id=provider.client_id,
        client_secret=client_secret(provider),
        client_kwargs={
            "scope": provider.scopes,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": _client_auth_method(provider),
            "timeout": settings.OIDC_HTTP_TIMEOUT,
        },
        **_metadata(provider),
    )


def claims_options(provider: IdentityProvider) -> dict[str, Any]:
    """What the ID token must say: this issuer, this client, a subject."""
    return {
        "iss": {"essential": True, "value": provider.issuer},
        "aud": {"essential": True, "value": provider.client_id},
        "sub": {"essential": True},
    }


def authorize_redirect(
    request: HttpRequest, provider: IdentityProvider, redirect_uri: str
) -> HttpResponse:
    """Send the browser to the provider's login page (state, nonce and PKCE
    verifier kept in the session for `complete_authorization`)."""
    extra: dict[str, str] = {}
    if provider.mfa_trusted and provider.mfa_acr_values.split():
        extra["acr_values"] = provider.mfa_acr_values
    try:
        return _app(provider).authorize_redirect(request, redirect_uri, **extra)
    except (requests.RequestException, OAuthError, RuntimeError) as exc:
        raise ProviderUnavailable(str(exc)) from exc


def _expires_at(token: dict[str, Any], id_claims: dict[str, Any]) -> int:
    """When the provider's word runs out: the access token's expiry, else the ID token's."""
    expires_at = token.get("expires_at")
    if isinstance(expires_at, (int, float)) and expires_at > 0:
        return int(expires_at)
    expires_in = token.get("expires_in")
    if isinstance(expires_in, (int, float)) and expires_in > 0:
        return int(time.time() + expires_in)
    return int(id_claims["exp"])


def _with_userinfo(
    app: DjangoOAuth2App, token: dict[str, Any], id_claims: dict[str, Any]
) -> dict[str, Any]:
    """The ID token's claims with the userinfo endpoint's merged over them
    (providers often put groups there only). A userinfo answer for another
    subject is refused (OpenID Connect Core §5.3.2)."""
    claims = dict(id_claims)
    if not app.load_server_metadata().get("userinfo_endpoint"):
        return claims
    try:
        info = dict(app.userinfo(token=token))
    except requests.HTTPError as exc:
        if exc.response is not None and exc.response.status_code in (400, 401, 403):
            raise TokenRefused("invalid_token", "refused at userinfo") from exc
        raise
    if info.get("sub") != id_claims.get("sub"):
        raise TokenRefused("invalid_userinfo", "userinfo is for another subject")
    for key in ("iss", "aud", "exp", "iat", "nonce", "acr", "amr", "auth_time", "azp"):
        info.pop(key, None)  # these are the ID token's to say
    claims.update(info)
    return claims


def complete_authorization(request: HttpRequest, provider: IdentityProvider) -> ProviderTokens:
    """Exchange the code on the callback, verify the ID token and read the claims."""
    try:
        app = _app(provider)
        token = app.authorize_access_token(request, claims_options=claims_options(provider))
        if not token.get("userinfo"):
            raise TokenRefused("invalid_token", "the provider sent no ID token")
        id_claims = dict(token["userinfo"])
        claims = _with_userinfo(app, token, id_claims)
    except OAuthError as exc:
        raise TokenRefused(exc.error or "invalid_request", exc.description or "") from exc
    except JoseError as exc:
        raise TokenRefused("invalid_id_token", f"{exc.error}: {exc.description}") from exc
    except requests.RequestException as exc:
        raise ProviderUnavailable(str(exc)) from exc
    return ProviderTokens(
        claims=claims,
        id_token_claims=id_claims,
        expires_at=_expires_at(token, id_claims),
        refresh_token=str(token.get("refresh_token") or ""),
    )


def refresh(provider: IdentityProvider, refresh_token: str, subject: str) -> ProviderTokens:
    """Ask the provider again about the person, with the refresh token.

    `TokenRefused` when the provider refuses the grant (`invalid_grant`: it no
    longer knows the person, or ended the grant) or answers for someone else;
    `ProviderUnavailable` when it cannot be asked.
    """
    try:
        app = _app(provider)
        metadata = app.load_server_metadata()
        with OAuth2Session(
            client_id=provider.client_id,
            client_secret=client_secret(provider),
            token_endpoint_auth_method=_client_auth_method(provider),
            timeout=settings.OIDC_HTTP_TIMEOUT,
        ) as session:
            token = dict(
                session.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
            )
        if token.get("id_token"):
            id_claims = dict(
                app.parse_id_token(token, nonce=None, claims_options=claims_options(provider))
            )
        else:
            id_claims = {"sub": subject, "exp": _expires_at(token, {"exp": 0})}
        if id_claims.get("sub") != subject:
            raise TokenRefused("invalid_id_token", "the refreshed ID token is for another subject")
        claims = _with_userinfo(app, token, id_claims)
    except OAuthError as exc:
        if exc.error in ("invalid_grant", "invalid_token", "unauthorized_client"):
            raise TokenRefused(exc.error, exc.description or "") from exc
        raise ProviderUnavailable(f"{exc.error}: {exc.description}") from exc
    except JoseError as exc:
        raise TokenRefused("invalid_id_token", f"{exc.error}: {exc.description}") from exc
    except (requests.RequestException, KeyError) as exc:
        raise ProviderUnavailable(str(exc)) from exc
    return ProviderTokens(
        claims=claims,
        id_token_claims=id_claims,
        expires_at=_expires_at(token, id_claims),
        refresh_token=str(token.get("refresh_token") or refresh_token),
    )
