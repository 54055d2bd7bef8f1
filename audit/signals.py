"""Logins and failed logins go on the record (the password never does)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .models import AuditAction, AuditOutcome
from .services import record


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs) -> None:
    record(action=AuditAction.LOGIN, actor=user, obj=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django already masks the password in `credentials`; keep only the name tried.
    username = str(credentials.get("username", ""))[:150]
    record(
        action=AuditAction.LOGIN_FAILED,
        actor=None,
        object_type="auth.user",
        object_id="",
        changes={"username": username},
        outcome=AuditOutcome.REFUSED,
    )
