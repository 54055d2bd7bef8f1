"""Who hears of notifications' own events, and the helpers every audience uses.

An audience lists *candidates*; the dispatcher then keeps only users and
agencies that the permission gate lets see the object at delivery time, so
a candidate list that is too generous still leaks nothing. The actor is
never told of their own action. The case domain's object types and
audiences are registered by `cases.audiences`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.urls import reverse

from agencies.models import Agency
from gate import port
from gate.roles import Role

from . import services
from .choices import EventType
from .models import WebhookEndpoint
from .registry import Audience, ObjectType, register_audience, register_object

User = get_user_model()

COORDINATORS = (Role.COORDINATOR,)
#: Those who work a case: told of tasks for their agency and of new notes and
#: evidence on the cases their agency sees, as far as the gate lets
#: each see the object.
WORKERS = (Role.COORDINATOR, Role.INVESTIGATOR)


@dataclass(frozen=True, slots=True)
class Member:
    """What the fan-out reads of a candidate: id, address, language.

    Not a `User`: a user and membership instance per candidate would be a
    good part of a large note's fan-out. The gates take ids
    (`ObjectType.visible_user_ids` loads users for a one-at-a-time gate)."""

    pk: int
    email: str
    language: str


def members(agencies, roles=COORDINATORS) -> list[Member]:
    """Active human users of `agencies` holding one of `roles`."""
    agency_ids = [a.pk if isinstance(a, Agency) else a for a in agencies]
    return [
        Member(pk, email, language)
        for pk, email, language in User.objects.filter(
            is_active=True,
            membership__agency_id__in=agency_ids,
            membership__agency__active=True,
            membership__role__in=roles,
            membership__is_service_account=False,
        ).values_list("id", "email", "membership__language")
    ]


def agency_from_payload(message) -> Agency | None:
    """The agency the emitter named in the message's ids (`agency=<public id>`)."""
    agency_id = message.payload.get("ids", {}).get("agency")
    return Agency.objects.filter(public_id=agency_id).first() if agency_id else None


# --- webhook endpoints --------------------------------------------------------


def _admin_of_endpoint_agency(user, endpoint: WebhookEndpoint) -> bool:
    membership = port.membership_of(user)
    return (
        membership is not None
        and membership.role == Role.AGENCY_ADMIN
        and membership.agency_id == endpoint.agency_id
    )


def _admins_of_endpoint_agency(users, endpoint: WebhookEndpoint) -> set[int]:
    """`_admin_of_endpoint_agency` for many users, in one query."""
    return set(
        User.objects.filter(
            pk__in=[u.pk for u in users],
            is_active=True,
            membership__role=Role.AGENCY_ADMIN,
            membership__agency_id=endpoint.agency_id,
            membership__agency__active=True,
        ).values_list("pk", flat=True)
    )


register_object(
    ObjectType(
        name="webhook_endpoint",
        model=WebhookEndpoint,
        user_can_see=_admin_of_endpoint_agency,
        # A webhook is never told about webhooks.
        agency_can_see=lambda agency, endpoint: False,
        users_that_see=_admins_of_endpoint_agency,
        agencies_that_see=lambda agencies, endpoint: set(),
        api_path="webhooks/{id}/",
        reference=lambda endpoint: endpoint.agency.code,
        selector=services.visible_webhook_endpoints,
        admin_url=lambda reader, endpoint: reverse(
            "admin:notifications_webhookendpoint_change", args=[endpoint.pk]
        ),
    )
)


@register_audience(EventType.WEBHOOK_DISABLED)
def webhook_disabled(message, endpoint: WebhookEndpoint) -> Audience:
    return Audience(users=members([endpoint.agency], roles=(Role.AGENCY_ADMIN,)))
