"""Bearer tokens of agency API clients: issue, use, expire, revoke."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import ApiToken, Membership
from agencies.tokens import issue_api_token, revoke_api_token
from gate.errors import PermissionDenied, ValidationFailed
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("_no_sync_margin")


def bearer(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def knp_token(knp):
    return issue_api_token(agency=knp, role="coordinator", name="KNP case system")


def test_token_authenticates_as_the_agency_service_account(knp_token):
    _, plaintext = knp_token
    response = bearer(plaintext).get("/api/v1/me/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["agency"]["code"] == "KR-KNP"
    assert body["role"] == "coordinator"
    assert body["is_service_account"] is True
    assert "ETag" in response


def test_only_the_hash_of_the_token_is_stored(knp_token):
    token, plaintext = knp_token
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (row.key_hash, row.prefix, row.name)
    assert plaintext.startswith(row.prefix)


def test_service_account_cannot_log_in_with_a_password(knp_token):
    token, _ = knp_token
    assert not token.user.has_usable_password()


def test_token_sees_its_agency_cases_only(knp_token, case, outsider):
    _, plaintext = knp_token
    response = bearer(plaintext).get(f"/api/v1/cases/{case.public_id}/")
    assert response.status_code == 200


def test_use_records_last_used_at(knp_token):
    token, plaintext = knp_token
    bearer(plaintext).get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_expired_token_is_401(knp_token):
    token, plaintext = knp_token
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = bearer(plaintext).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert "expired" in response.json()["detail"]


def test_revoked_token_is_401_at_once(knp_token):
    token, plaintext = knp_token
    assert bearer(plaintext).get("/api/v1/me/").status_code == 200
    revoke_api_token(token=token)
    response = bearer(plaintext).get("/api/v1/me/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_deactivated_service_account_is_401(knp_token):
    token, plaintext = knp_token
    token.user.is_active = False
    token.user.save()
    assert bearer(plaintext).get("/api/v1/me/").status_code == 401


def test_inactive_agency_is_401(knp_token, knp):
    _, plaintext = knp_token
    knp.active = False
    knp.save()
    assert bearer(plaintext).get("/api/v1/me/").status_code == 401


def test_token_of_a_user_without_membership_is_401(knp_token):
    token, plaintext = knp_token
    Membership.objects.filter(user=token.user).delete()
    assert bearer(plaintext).get("/api/v1/me/").status_code == 401


def test_a_token_is_read_with_its_user_membership_and_agency_in_one_query(
    knp_token, django_assert_num_queries
):
    from agencies.tokens import _token_queryset

    token, _plaintext = knp_token
    with django_assert_num_queries(1):
        found = next(iter(_token_queryset(token.key_hash)))
        agency = found.user.membership.agency
    assert found.pk == token.pk
    assert agency.code == token.user.membership.agency.code


def test_token_revoked_in_the_database_after_use_is_401(knp_token):
    token, plaintext = knp_token
    assert bearer(plaintext).get("/api/v1/me/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert bearer(plaintext).get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize("header", ["Bearer cb_" + "x" * 43, "Bearer", "Bearer a b", "Bearer ñ"])
def test_malformed_or_unknown_token_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_token_expiry_in_the_past_is_refused(knp):
    with pytest.raises(ValidationFailed):
        issue_api_token(
            agency=knp,
            role="viewer",
            name="x",
            expires_at=timezone.now() - dt.timedelta(days=1),
        )
    assert not ApiToken.objects.exists()


def test_only_own_agency_admin_may_issue(knp, ccos):
    kh_admin = make_user(ccos, "agency_admin")
    with pytest.raises(PermissionDenied):
        issue_api_token(agency=knp, role="viewer", name="x", created_by=kh_admin)
    knp_admin = make_user(knp, "agency_admin")
    token, _ = issue_api_token(agency=knp, role="viewer", name="x", created_by=knp_admin)
    assert token.created_by == knp_admin


def test_revoking_twice_is_a_conflict(knp_token):
    from gate.errors import Conflict

    token, _ = knp_token
    revoke_api_token(token=token)
    with pytest.raises(Conflict):
        revoke_api_token(token=token)


def test_command_prints_only_the_token_on_stdout(knp):
    out, err = StringIO(), StringIO()
    call_command(
        "issue_api_token",
        "--agency=KR-KNP",
        "--role=coordinator",
        "--name=KNP case system",
        "--expires-days=30",
        stdout=out,
        stderr=err,
    )
    plaintext = out.getvalue().strip()
    assert plaintext.startswith("cb_") and not any(c.isspace() for c in plaintext)
    assert "KNP case system" in err.getvalue()
    assert bearer(plaintext).get("/api/v1/me/").status_code == 200
    token = ApiToken.objects.get()
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)


def test_command_refuses_an_unknown_agency(db):
    with pytest.raises(CommandError):
        call_command("issue_api_token", "--agency=XX-NONE", "--role=viewer", "--name=x")
