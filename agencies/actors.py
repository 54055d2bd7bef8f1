"""Who acts: the types of the people the gate and the services act for.

Typing only (nothing here adds behaviour): every layer, from the gate up,
names its `actor`/`user` parameters with these, so that a service cannot be
handed an agency, a membership or a user id by mistake.

* `Actor` is an authenticated account, the settings' user model (Django's
  `User`: AUTH_USER_MODEL is not swapped). Services act for one: it is
  recorded as the author of what they write.
* `AnyUser` is whoever sent the request, `request.user`, which may be the
  anonymous user. The gate answers any of them (the anonymous user sees and
  may do nothing).
* `AuthenticatedRequest` (the API's, after `IsAgencyMember`) and
  `AuthenticatedHttpRequest` (a view behind a login) are requests whose
  `user` is an `Actor`: the type of a handler's `request` once
  authentication was required before it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

Actor: TypeAlias = "User"
AnyUser: TypeAlias = "User | AnonymousUser"


class AuthenticatedHttpRequest(HttpRequest):
    user: Actor


if TYPE_CHECKING:

    class AuthenticatedRequest(Request):
        @property
        def user(self) -> Actor: ...
        @user.setter
        def user(self, value: Actor) -> None: ...

else:
    # DRF's Request itself at run time: its `user` is a property to keep.
    AuthenticatedRequest = Request

__all__ = ["Actor", "AnyUser", "AuthenticatedHttpRequest", "AuthenticatedRequest"]
