"""API tokens of partner systems: issue, revoke, authenticate.

An API client is a service account: a User with an unusable password and a
Membership (`is_service_account=True`) in one agency with one role, so a
partner system is subject to exactly the same gate as a person of that agency
and role. Only a SHA-256 of each token is stored; the plaintext is shown once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from audit import services as audit
from audit.models import AuditAction
from gate.errors import Conflict, PermissionDenied, ValidationFailed
from gate.roles import Role

from .models import Agency, ApiToken, Membership

User = get_user_model()

TOKEN_PREFIX = "cb_"  # noqa: S105  # nosec B105  # a marker, not a secret
PREFIX_LENGTH = 10  # "cb_" + 7 characters of the secret: enough to tell tokens apart
_TOKEN_RE = re.compile(r"^cb_[A-Za-z0-9_-]{40,60}$")
# last_used_at is written at most this often, so authentication is not a write per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _require_issuer(created_by, agency: Agency) -> None:
    """An agency admin issues tokens for their own agency; a platform superuser for any.
    None means the operator's shell (management command)."""
    if created_by is None or created_by.is_superuser:
        return
    membership = getattr(created_by, "membership", None)
    if (
        membership is None
        or membership.role != Role.AGENCY_ADMIN
        or membership.agency_id != agency.pk
        or membership.is_service_account
    ):
        raise PermissionDenied(_("Only the agency's administrators can manage its API clients."))


def _service_username(agency: Agency, name: str) -> str:
    base = f"api-{agency.code.lower()}-{slugify(name)[:40] or 'client'}"
    return f"{base}-{secrets.token_hex(3)}"


@transaction.atomic
def issue_api_token(
    *,
    agency: Agency,
    role: str,
    name: str,
    expires_at: dt.datetime | None = None,
    created_by=None,
    service_account=None,
) -> tuple[ApiToken, str]:
    """Create a token (and, unless `service_account` is given for a rotation, a
    new service account holding `role` in `agency`). Returns the token row and
    the plaintext, which is never stored and cannot be shown again."""
    _require_issuer(created_by, agency)
    if not isinstance(agency, Agency) or agency.pk is None or not agency.active:
        raise ValidationFailed({"agency": [_("Unknown or inactive agency.")]})
    if role not in Role.values or role == Role.AGENCY_ADMIN:
        raise ValidationFailed(
            {"role": [_("Choose viewer, investigator or coordinator for an API client.")]}
        )
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed({"name": [_("Give the client a name (at most 200 characters).")]})
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            raise ValidationFailed({"expires_at": [_("Give a time zone with the expiry time.")]})
        if expires_at <= timezone.now():
            raise ValidationFailed({"expires_at": [_("The expiry must be in the future.")]})

    if service_account is None:
        user = User(username=_service_username(agency, name))
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, agency=agency, role=role, is_service_account=True)
        user.groups.add(agency.group)
    else:
        membership = Membership.objects.filter(
            user=service_account, agency=agency, is_service_account=True
        ).first()
        if membership is None:
            raise ValidationFailed(
                {"service_account": [_("Not a service account of this agency.")]}
            )
        user = service_account

    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=plaintext[:PREFIX_LENGTH],
        key_hash=hash_token(plaintext),
        created_by=created_by,
        expires_at=expires_at,
    )
    audit.record(
        action=AuditAction.CREATE,
        obj=token,
        actor=created_by,
        changes={
            "name": name,
            "prefix": token.prefix,
            "service_account": user.get_username(),
            "agency": agency.code,
            "role": role,
            "expires_at": expires_at,
        },
    )
    return token, plaintext


@transaction.atomic
def revoke_api_token(*, token: ApiToken, revoked_by=None) -> ApiToken:
    """End a token at once. Revocation is final: issue a new token instead."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    _require_issuer(revoked_by, Membership.objects.get(user_id=token.user_id).agency)
    if token.revoked_at is not None:
        raise Conflict(_("This token is already revoked."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(action=AuditAction.REVOKE, obj=token, actor=revoked_by)
    return token


def _token_queryset(key_hash: str):
    """The token with its user, membership and agency, in one query (the
    membership is then known to `cases.access.membership_of` without another)."""
    return (
        ApiToken.objects.select_related("user", "user__membership__agency")
        .filter(key_hash=key_hash)
        .order_by()[:1]  # key_hash is unique: no ORDER BY needed
    )


class TokenRejected(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def authenticate_token(plaintext: str) -> ApiToken:
    """The live token for `plaintext`, or TokenRejected with the reason.

    Refused: unknown, revoked, expired, a deactivated service account, an
    inactive agency. Each is checked on every request, so revocation and
    deactivation take effect immediately.
    """
    if not _TOKEN_RE.match(plaintext):
        raise TokenRejected(str(_("Invalid token.")))
    token = next(iter(_token_queryset(hash_token(plaintext))), None)
    if token is None:
        raise TokenRejected(str(_("Invalid token.")))
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected(str(_("This token has been revoked.")))
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected(str(_("This token has expired.")))
    membership = getattr(token.user, "membership", None)
    if not token.user.is_active or membership is None or not membership.agency.active:
        raise TokenRejected(str(_("This API client is deactivated.")))
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return token


def default_expiry() -> dt.datetime | None:
    days = settings.API_TOKEN_DEFAULT_DAYS
    return timezone.now() + dt.timedelta(days=days) if days else None
