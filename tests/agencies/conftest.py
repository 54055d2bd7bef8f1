"""An agency identity provider for the sign-in tests (tests/agencies/idp.py)."""

from __future__ import annotations

import pytest

from agencies import oidc, sso
from agencies.models import IdentityProvider

from .idp import TestProvider

CALLBACK = "http://testserver/account/sso/{code}/callback/"


@pytest.fixture(scope="session")
def idp():
    """One real OpenID Connect provider process for the whole test session."""
    provider = TestProvider()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(autouse=True)
def _fresh_discovery():
    oidc.forget_metadata()
    yield
    oidc.forget_metadata()


@pytest.fixture
def register_provider(idp, monkeypatch):
    """Register `agency`'s identity provider at `idp` and in Casebridge."""

    def register(agency, *extra_redirect_uris: str, **fields) -> IdentityProvider:
        client = idp.register_client(
            CALLBACK.format(code=agency.code),
            *(uri.format(code=agency.code) for uri in extra_redirect_uris),
        )
        variable = f"OIDC_{agency.code.replace('-', '_')}_SECRET"
        monkeypatch.setenv(variable, client.client_secret)
        fields.setdefault("email_domains", "police.go.kr")
        fields.setdefault(
            "role_mapping",
            {"knp-investigators": "investigator", "knp-coordinators": "coordinator"},
        )
        fields.setdefault("scopes", "openid email profile groups offline_access")
        provider = IdentityProvider(
            agency=agency,
            issuer=idp.issuer,
            client_id=client.client_id,
            client_secret_env=variable,
            **fields,
        )
        return sso.save_provider(actor=None, provider=provider)

    return register
