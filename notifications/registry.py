"""What the outbox knows about objects and audiences, filled by each app.

An *object type* tells the outbox how to find an object again from its
public id, whether a user may see it (through the permission gate) and the
API URL partner systems get. An *audience* tells it who should hear of an
event: candidate users and agencies (for webhooks). Candidates are only a
proposal: the dispatcher keeps a user or an agency only if the gate says it
sees the object at delivery time. *Status labels* name, in the texts, the
states an event family's `status` code stands for.

The apps fill it from their `ready()` (`cases.audiences` for the case
domain, `notifications.audiences` for webhooks): notifications itself
imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import QuerySet


@dataclass(frozen=True)
class ObjectType:
    name: str
    model: type[models.Model]
    user_can_see: Callable[[Any, Any], bool]  # (user, obj)
    agency_can_see: Callable[[Any, Any], bool]  # (agency, obj)
    api_path: str  # e.g. "cases/{id}/", relative to /api/v1/
    reference: Callable[[Any], str] = str  # short, content-free label for texts
    # The same two gates for a whole audience at once, returning the ids of
    # those who see the object. Without them, the one-at-a-time gates above
    # are asked for each candidate (right, but a query or more per user).
    users_that_see: Callable[[list, Any], set[int]] | None = None  # (users, obj)
    agencies_that_see: Callable[[list, Any], set[int]] | None = None  # (agencies, obj)
    # What the in-app texts say besides the reference: codes read
    # from the message and the object at delivery (an agency code, a status
    # code, a verb), never content. Stored on each notification, translated
    # when it is shown.
    facts: Callable[[Any, Any], dict[str, str]] | None = None  # (message, obj)
    # Loaded with the object at delivery (its reference, audience and facts
    # read them): a join rather than a query each.
    load_related: tuple[str, ...] = ()
    # Display time, for the reader: the gate's selector (which of the listed
    # objects the reader still sees, one query per object type), the page
    # the reader may open for a visible object, and the short title shown
    # next to the text (content: in-app only, never in e-mail).
    selector: Callable[[Any], QuerySet] | None = None  # (user) -> visible objects
    admin_url: Callable[[Any, Any], str | None] | None = None  # (reader, visible obj)
    title: Callable[[Any], str] | None = None  # (visible obj)

    def visible_user_ids(self, users: list, obj) -> set[int]:
        """Ids of those of `users` whom the permission gate lets see `obj` now."""
        if self.users_that_see is not None:
            return self.users_that_see(users, obj)
        return {user.pk for user in _as_users(users) if self.user_can_see(user, obj)}

    def visible_agency_ids(self, agencies: list, obj) -> set[int]:
        """Ids of those of `agencies` that the permission gate lets see `obj` now."""
        if self.agencies_that_see is not None:
            return self.agencies_that_see(agencies, obj)
        return {agency.pk for agency in agencies if self.agency_can_see(agency, obj)}


def _as_users(users: list) -> list:
    """`users` as `User` instances: audiences may list lighter candidates
    (`notifications.audiences.Member`), which a one-at-a-time gate cannot take."""
    User = get_user_model()
    missing = [u.pk for u in users if not isinstance(u, User)]
    loaded = User.objects.select_related("membership").in_bulk(missing) if missing else {}
    users = [u if isinstance(u, User) else loaded.get(u.pk) for u in users]
    return [u for u in users if u is not None]  # a user deleted since sees nothing


@dataclass
class Audience:
    users: list = field(default_factory=list)
    agencies: list = field(default_factory=list)


AudienceFn = Callable[[Any, Any], Audience]  # (message, obj) -> Audience

_objects: dict[str, ObjectType] = {}
_by_model: dict[type, ObjectType] = {}
_audiences: dict[str, AudienceFn] = {}
_status_labels: dict[str, dict[str, Any]] = {}


class UnknownEvent(LookupError):
    """No audience is registered for an event type: it cannot be delivered."""


def register_object(object_type: ObjectType) -> None:
    _objects[object_type.name] = object_type
    _by_model[object_type.model] = object_type


def register_audience(*event_types: str) -> Callable[[AudienceFn], AudienceFn]:
    def decorator(fn: AudienceFn) -> AudienceFn:
        for event_type in event_types:
            _audiences[event_type] = fn
        return fn

    return decorator


def register_status_labels(family: str, choices: Iterable[tuple[str, Any]]) -> None:
    """The labels of the `status` codes of events `<family>.*` (e.g. "case")."""
    _status_labels[family] = dict(choices)


def status_labels(family: str) -> dict[str, Any]:
    """Code -> label for an event family; empty when none is registered."""
    return _status_labels.get(family, {})


def object_type_of(obj) -> ObjectType:
    try:
        return _by_model[type(obj)]
    except KeyError:
        raise LookupError(f"{type(obj).__name__} is not a registered notification object") from None


def object_type_named(name: str) -> ObjectType:
    try:
        return _objects[name]
    except KeyError:
        raise UnknownEvent(f"unknown object type {name!r}") from None


def audience_for(event_type: str) -> AudienceFn:
    try:
        return _audiences[event_type]
    except KeyError:
        raise UnknownEvent(f"no audience registered for event {event_type!r}") from None


def known_event_types() -> Iterable[str]:
    return _audiences.keys()
