"""Ending a person's access: every web session and every API token.

Called by `agencies.services.deactivate_member` and `deactivate_agency`, and
as a safety net by a signal when `is_active`/`active` is switched off another
way (admin form, shell). Idempotent: running it twice is harmless.
"""

from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, ApiToken
from audit.models import AuditAction
from audit.services import record

from .models import UserSession

logger = logging.getLogger(__name__)


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


@transaction.atomic
def end_user_access(*, user) -> tuple[int, int]:
    """Delete the user's sessions and revoke their API tokens.

    Returns (sessions ended, tokens revoked).
    """
    store = _session_store()
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=user).delete()
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if keys or revoked:
        logger.info(
            "access ended",
            extra={"user_id": user.pk, "sessions": len(keys), "tokens": revoked},
        )
        record(
            action=AuditAction.REVOKE,
            obj=user,
            changes={"sessions_ended": len(keys), "api_clients_revoked": revoked},
        )
    return len(keys), revoked


def end_agency_access(*, agency: Agency) -> tuple[int, int]:
    sessions = tokens = 0
    for membership in agency.memberships.select_related("user"):
        ended, revoked = end_user_access(user=membership.user)
        sessions += ended
        tokens += revoked
    return sessions, tokens
