"""API permission classes (kept free of view imports: DRF settings load them)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

from gate import port


class IsAgencyMember(permissions.BasePermission):
    """Only members of an active agency use the API (platform superusers included:
    administering the platform does not open case content). The gate decides the rest."""

    message = _("You are not a member of an active agency.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return port.membership_of(request.user) is not None
