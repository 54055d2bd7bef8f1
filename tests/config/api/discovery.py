"""Discover every `/api/v1/` route, so tests cover new endpoints automatically.

Walks the URL resolver (not a hand-kept list). Each route yields its URL
name, the path kwargs it needs, the view class and the HTTP methods it
serves. `hidden_kwargs` fills path kwargs with objects the *owner* sees, using
the view's own gate selector, so a new `GatedViewSet` needs nothing here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from cases import access

API_NAMESPACE = "api:v1"
ALL_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")


@dataclass
class Route:
    name: str
    kwargs: tuple[str, ...]
    view_class: type
    actions: dict[str, str] = field(default_factory=dict)
    detail: bool = False

    def view(self, method: str):
        """The view as the router builds it for `method` (action and detail set)."""
        view = self.view_class()
        view.action = self.actions.get(method.lower())
        view.detail = self.detail
        view.request = Request(APIRequestFactory().generic(method.upper(), "/"))
        return view

    def seer(self, owners):
        """The first of `owners` who sees an object of this route (the one to
        act as: only an agency administrator sees its webhooks)."""
        owners = owners if isinstance(owners, (list, tuple)) else (owners,)
        for owner in owners:
            try:
                hidden_kwargs(self, owner)
            except AssertionError:  # sees no object of this route
                continue
            return owner
        return owners[0]

    def __str__(self) -> str:
        return self.name


def _walk(patterns, namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace, entry


def api_routes() -> list[Route]:
    routes = []
    for namespace, pattern in _walk(get_resolver().url_patterns):
        if namespace != API_NAMESPACE:
            continue
        kwargs = tuple(pattern.pattern.regex.groupindex)
        if "format" in kwargs:  # format-suffix duplicates of the same views
            continue
        callback = pattern.callback
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        routes.append(
            Route(
                name=f"{namespace}:{pattern.name}",
                kwargs=kwargs,
                view_class=view_class,
                actions=dict(getattr(callback, "actions", None) or {}),
                detail=bool(getattr(callback, "initkwargs", {}).get("detail")),
            )
        )
    return routes


def _gated_view(route: Route, user, kwargs: dict):
    request = Request(APIRequestFactory().get("/"))
    request.user = user
    view = route.view_class()
    view.request, view.kwargs, view.args, view.format_kwarg = request, kwargs, (), None
    view.action = "retrieve"
    return view


def hidden_kwargs(route: Route, owners) -> dict[str, str]:
    """Path kwargs naming objects one of `owners` sees (through the view's own
    selector): the first owner who sees an object of the route's kind."""
    owners = owners if isinstance(owners, (list, tuple)) else (owners,)
    view_class = route.view_class
    values: dict[str, str] = {}
    parent_kwarg = getattr(view_class, "parent_url_kwarg", "")
    if parent_kwarg and parent_kwarg in route.kwargs:
        parent = getattr(access, view_class.parent_selector)(owners[0]).first()
        assert parent is not None, f"{route}: the world has no parent object for the owner"
        values[parent_kwarg] = str(parent.public_id)
    lookup = getattr(view_class, "lookup_url_kwarg", None)
    if lookup and lookup in route.kwargs:
        seen = (_gated_view(route, owner, dict(values)).get_queryset().first() for owner in owners)
        obj = next((found for found in seen if found is not None), None)
        assert obj is not None, (
            f"{route}: no object of this endpoint in the isolation world; "
            "add one to the `world` fixture in tests/config/api/test_isolation.py"
        )
        values[lookup] = str(getattr(obj, view_class.lookup_field))
        if "event_id" in route.kwargs:  # a webhook delivery, named by its event
            delivery = obj.deliveries.first()
            assert delivery is not None, f"{route}: the world's webhook has no delivery"
            values["event_id"] = str(delivery.message_id)
    missing = set(route.kwargs) - set(values)
    assert not missing, f"{route}: cannot fill path kwargs {missing}; extend discovery.py"
    return values


def random_kwargs(route: Route, hidden: dict[str, str]) -> dict[str, str]:
    """The same route with the object id replaced by one that exists nowhere."""
    lookup = getattr(route.view_class, "lookup_url_kwarg", None)
    values = dict(hidden)
    if lookup in values:
        values[lookup] = str(uuid.uuid4())
    elif values:
        key = next(iter(values))
        values[key] = str(uuid.uuid4())
    return values


def probe_payload(world) -> dict:
    """One body for every write: each field names the hidden case or asks for a change."""
    return {
        "case": str(world.case.public_id),
        "title": "Leak probe",
        "summary": "probe",
        "body": "probe",
        "crime_types": ["other"],
        "status": "closed",
        "agency": "UNODC",
        "level": "manage",
        "new_lead": "UNODC",
        "keep_level": None,
        "assigned_agency": "UNODC",
        "confidential": False,
    }


def call(client, method: str, url: str, payload: dict):
    handler = getattr(client, method.lower())
    if method in ("POST", "PUT", "PATCH"):
        return handler(url, payload, format="json")
    return handler(url)
