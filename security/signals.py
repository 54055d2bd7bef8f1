"""Receivers: session index, login-event records, deactivation safety net."""

from __future__ import annotations

import logging
import time

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from agencies.models import Agency
from audit.models import AuditAction, AuditOutcome
from audit.services import record
from config.ratelimit import client_address

from .models import UserSession
from .services import end_agency_access, end_user_access

logger = logging.getLogger("casebridge.security")

AUTH_TIME_KEY = "_cb_auth_time"
LAST_ACTIVITY_KEY = "_cb_last_activity"


def record_login_event(action: str, *, request, username: str, **detail) -> None:
    """Log one authentication event; put those the audit app does not already
    record (it records every login and failed login itself) in the audit log.
    """
    logger.warning(
        "auth.%s",
        action,
        extra={
            "event": f"auth.{action}",
            "username": username,
            "ip_address": client_address(request) if request is not None else None,
            **detail,
        },
    )
    if action == "locked_out":
        record(
            action=AuditAction.LOGIN_FAILED,
            actor=None,
            object_type="auth.user",
            object_id="",
            changes={"username": username, "locked_out": True},
            outcome=AuditOutcome.REFUSED,
            reason="Too many failed logins: locked out.",
        )
    elif action == "2fa_enrolled":
        record(
            action=AuditAction.UPDATE,
            obj=request.user,
            changes={"two_factor": "enrolled"},
        )


@receiver(user_logged_in, dispatch_uid="security.login")
def _on_login(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[AUTH_TIME_KEY] = now
    request.session[LAST_ACTIVITY_KEY] = now
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.get_or_create(
        session_key=request.session.session_key, defaults={"user": user}
    )
    record_login_event("login", request=request, username=user.get_username())


@receiver(user_logged_out, dispatch_uid="security.logout")
def _on_logout(sender, request, user, **kwargs) -> None:
    if request is not None and getattr(request, "session", None) is not None:
        UserSession.objects.filter(session_key=request.session.session_key).delete()


@receiver(user_login_failed, dispatch_uid="security.login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    record_login_event(
        "login_failed", request=request, username=str(credentials.get("username", ""))[:150]
    )


@receiver(user_locked_out, dispatch_uid="security.locked_out")
def _on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    record_login_event("locked_out", request=request, username=str(username or "")[:150])


@receiver(post_save, sender=get_user_model(), dispatch_uid="security.user_deactivated")
def _on_user_saved(sender, instance, created, **kwargs) -> None:
    # Services end access explicitly; this catches the other ways a user is
    # switched off (admin form, shell), so no path leaves a session alive.
    if not created and not instance.is_active:
        end_user_access(user=instance)


@receiver(post_save, sender=Agency, dispatch_uid="security.agency_deactivated")
def _on_agency_saved(sender, instance, created, **kwargs) -> None:
    if not created and not instance.active:
        end_agency_access(agency=instance)
