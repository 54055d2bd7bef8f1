"""Who acts: the types of the people the gate and the services act for.

Typing only (nothing here runs): every layer, from the gate up, names its
`actor`/`user` parameters with these, so that a service cannot be handed an
agency, a membership or a user id by mistake.

* `Actor` is an authenticated account, the settings' user model (Django's
  `User`: AUTH_USER_MODEL is not swapped). Services act for one: it is
  recorded as the author of what they write.
* `AnyUser` is whoever sent the request, `request.user`, which may be the
  anonymous user. The gate answers any of them (the anonymous user sees and
  may do nothing); `None` is accepted where a system job has no actor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

Actor: TypeAlias = "User"
AnyUser: TypeAlias = "User | AnonymousUser"

__all__ = ["Actor", "AnyUser"]
