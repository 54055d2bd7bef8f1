"""Django's password backend, loading the user's membership with the user.

Every signed-in request asks `cases.access.membership_of` for the user's
agency; reading it in the same query as the user saves one round trip per
request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def _user_queryset(user_id: Any):
    user_model = get_user_model()
    return (
        user_model._default_manager.select_related("membership__agency")
        .filter(pk=user_id)
        .order_by()[:1]  # by primary key: no ORDER BY needed
    )


class MemberBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user = next(iter(_user_queryset(user_id)), None)
        return user if user is not None and self.user_can_authenticate(user) else None
