"""Signing in through an agency's own identity provider (issue 21), against a
real OpenID Connect provider (tests/agencies/idp.py)."""

from __future__ import annotations

import pytest

from agencies.models import ExternalIdentity
from gate.roles import Role

from .idp import sign_in_at_provider

PASSWORD = "provider-password-1"


def sign_in(client, idp, code: str, login: str, password: str = PASSWORD, otp: str = ""):
    """The whole round trip: Casebridge -> provider's login page -> callback."""
    start = client.get(f"/account/sso/{code}/")
    assert start.status_code == 302, start.content[:500]
    callback = sign_in_at_provider(start["Location"], login, password, otp)
    assert callback.startswith("http://testserver/"), callback
    return client.get(callback.removeprefix("http://testserver"))


@pytest.mark.django_db
def test_first_sign_in_creates_a_member_of_the_providers_agency(client, idp, knp, register_provider):
    register_provider(knp)
    idp.put_account(
        "kim.minsu",
        password=PASSWORD,
        email="kim.minsu@police.go.kr",
        email_verified=True,
        given_name="Minsu",
        family_name="Kim",
        groups=["knp-investigators"],
    )
    response = sign_in(client, idp, "KR-KNP", "kim.minsu")
    assert response.status_code == 302, response.content[:1000]
    assert response["Location"] == "/admin/"
    identity = ExternalIdentity.objects.select_related("user__membership").get(subject="kim.minsu")
    assert identity.user.membership.agency == knp
    assert identity.user.membership.role == Role.INVESTIGATOR
    assert client.get("/admin/").status_code == 200
