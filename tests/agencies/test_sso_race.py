"""Two first sign-ins of one person at once create one account, and both
sign in to it (`agencies.sso.sign_in`), on PostgreSQL's own locking."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from agencies import oidc, sso
from agencies.models import ExternalIdentity, IdentityProvider
from tests.factories import make_agency

pytestmark = pytest.mark.django_db(transaction=True)


def _tokens(subject: str) -> oidc.ProviderTokens:
    claims = {"sub": subject, "email": "sokha@knp.example", "email_verified": True}
    return oidc.ProviderTokens(
        claims=claims,
        id_token_claims=claims,
        expires_at=int(time.time()) + 3600,
        refresh_token="r",
    )


def test_two_first_sign_ins_at_once_make_one_account_both_sign_in_to():
    agency = make_agency("KR-KNP")
    provider = IdentityProvider.objects.create(
        agency=agency,
        issuer="https://idp.knp.example",
        client_id="casebridge",
        email_domains="knp.example",
    )
    start = threading.Barrier(2)
    results: list[object] = []

    def sign_in() -> None:
        try:
            start.wait()
            results.append(sso.sign_in(provider=provider, tokens=_tokens("officer-1")).user.pk)
        except Exception as error:  # reported by the assertion below
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 2 and all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert ExternalIdentity.objects.filter(subject="officer-1").count() == 1
