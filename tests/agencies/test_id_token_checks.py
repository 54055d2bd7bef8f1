"""The ID token checks `agencies.oidc` asks of Authlib, on tokens forged here:
a token for another client, from another issuer, signed with another key,
with another nonce or expired is refused (the real provider in test_sso.py
never sends one)."""

from __future__ import annotations

import time

import pytest
from authlib.integrations.django_client import DjangoOAuth2App
from authlib.integrations.django_client.integration import DjangoIntegration
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from agencies import oidc
from agencies.models import IdentityProvider

ISSUER = "https://idp.police.go.kr/realms/knp"
CLIENT = "casebridge"
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture(scope="module")
def key():
    return RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})


@pytest.fixture(scope="module")
def app(key):
    """Authlib's client with the provider's metadata and keys (no network)."""
    return DjangoOAuth2App(
        DjangoIntegration("test"),
        name="test",
        client_id=CLIENT,
        issuer=ISSUER,
        jwks={"keys": [key.as_dict(private=False)]},
        id_token_signing_alg_values_supported=["RS256"],
    )


def token(key, **claims) -> dict:
    now = int(time.time())
    payload = {"iss": ISSUER, "sub": "kim", "aud": CLIENT, "iat": now, "exp": now + 300}
    payload["nonce"] = NONCE
    payload.update(claims)
    return {"id_token": jwt.encode({"alg": "RS256", "kid": "k1"}, payload, key)}


def parse(app, id_token: dict, nonce: str = NONCE):
    provider = IdentityProvider(issuer=ISSUER, client_id=CLIENT)
    return app.parse_id_token(id_token, nonce=nonce, claims_options=oidc.claims_options(provider))


def test_a_good_token_is_read(app, key):
    assert parse(app, token(key))["sub"] == "kim"


def test_a_token_for_another_client_is_refused(app, key):
    with pytest.raises(JoseError):
        parse(app, token(key, aud="another-relying-party"))


def test_a_token_from_another_issuer_is_refused(app, key):
    with pytest.raises(JoseError):
        parse(app, token(key, iss="https://idp.example.org/"))


def test_a_token_signed_with_another_key_is_refused(app):
    forger = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
    with pytest.raises(JoseError):
        parse(app, token(forger))


def test_a_token_with_another_nonce_is_refused(app, key):
    with pytest.raises(JoseError):
        parse(app, token(key, nonce="replayed"))


def test_an_expired_token_is_refused(app, key):
    with pytest.raises(JoseError):
        parse(app, token(key, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600))


def test_a_token_without_a_subject_is_refused(app, key):
    forged = token(key)
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": CLIENT, "iat": now, "exp": now + 300, "nonce": NONCE}
    forged["id_token"] = jwt.encode({"alg": "RS256", "kid": "k1"}, payload, key)
    with pytest.raises(JoseError):
        parse(app, forged)
