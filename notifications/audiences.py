"""Who hears of each case-domain event.

An audience lists *candidates*; the dispatcher then keeps only users and
agencies that the permission gate lets see the object at delivery time, so
a candidate list that is too generous still leaks nothing. The actor is
never told of their own action.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.urls import reverse

from agencies.models import Agency
from cases import access
from cases.choices import AccessLevel
from cases.models import Case, CaseTombstone, Document, Identifier, MLARequest, Note, Task
from gate.roles import Role

from . import services
from .choices import EventType
from .models import WebhookEndpoint
from .registry import Audience, ObjectType, register_audience, register_object

User = get_user_model()

COORDINATORS = (Role.COORDINATOR,)
#: Those who work a case: told of tasks for their agency and of new notes and
#: evidence on the cases their agency sees (issue 16), as far as the gate lets
#: each see the object.
WORKERS = (Role.COORDINATOR, Role.INVESTIGATOR)


@dataclass(frozen=True, slots=True)
class Member:
    """What the fan-out reads of a candidate: id, address, language.

    Not a `User`: building 1,250 user and membership instances took about
    30 ms per message, a tenth of a large note's fan-out. The gates take ids
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


def _managing_agencies(case: Case) -> list[Agency]:
    return [
        a
        for a in access.agencies_that_can_see_case(case)
        if access.agency_level(a, case) == AccessLevel.MANAGE
    ]


def _agency_from_payload(message) -> Agency | None:
    agency_id = message.payload.get("ids", {}).get("agency")
    return Agency.objects.filter(public_id=agency_id).first() if agency_id else None


def _code(obj, field: str) -> str:
    """The code of the agency `obj.<field>` (loaded with it: `load_related`)."""
    return getattr(obj, field).code if getattr(obj, f"{field}_id") else ""


def _acting_side(message, request: MLARequest) -> str:
    """The code of the party whose member acted (the two parties know each other)."""
    for field in ("requesting_agency", "requested_agency"):
        if message.agency_id is not None and message.agency_id == getattr(request, f"{field}_id"):
            return _code(request, field)
    return ""


def _admin(name: str, obj) -> str:
    return reverse(f"admin:cases_{name}_change", args=[obj.pk])


def _case_page(reader, obj) -> str:
    """Notes and evidence are shown on their case, which whoever sees them sees."""
    return reverse("admin:cases_case_change", args=[obj.case_id])


def _document_page(reader, document: Document) -> str:
    """The case of the evidence; for a party of its MLA request that does not
    see the case, the request (never a link to a case the reader may not open)."""
    if (
        document.mla_request_id is None
        or access.visible_cases(reader).filter(pk=document.case_id).exists()
    ):
        return _case_page(reader, document)
    return reverse("admin:cases_mlarequest_change", args=[document.mla_request_id])


# --- object types -----------------------------------------------------------

register_object(
    ObjectType(
        name="case",
        model=Case,
        user_can_see=access.is_visible,
        users_that_see=access.users_who_see,
        agencies_that_see=access.agencies_that_see,
        agency_can_see=access.agency_can_see,
        api_path="cases/{id}/",
        reference=lambda case: case.reference,
        facts=lambda message, case: {"status": case.status},
        selector=access.visible_cases,
        admin_url=lambda reader, case: _admin("case", case),
    )
)
register_object(
    ObjectType(
        name="task",
        model=Task,
        user_can_see=access.is_visible,
        users_that_see=access.users_who_see,
        agencies_that_see=access.agencies_that_see,
        agency_can_see=access.agency_can_see,
        api_path="tasks/{id}/",
        reference=lambda task: task.case.reference,
        facts=lambda message, task: {
            "agency": _code(task, "assigned_agency"),
            "status": task.status,
            "to": "user" if task.assigned_user_id else "agency",
        },
        load_related=("case", "assigned_agency"),
        selector=access.visible_tasks,
        # The task's own page: whoever sees the task may open it (read-only
        # unless they may work on it).
        admin_url=lambda reader, task: _admin("task", task),
        title=lambda task: task.title,
    )
)
register_object(
    ObjectType(
        name="note",
        model=Note,
        user_can_see=access.is_visible,
        users_that_see=access.users_who_see,
        agencies_that_see=access.agencies_that_see,
        agency_can_see=access.agency_can_see,
        api_path="notes/{id}/",
        reference=lambda note: note.case.reference,
        # The note's agency: whoever sees the note may learn of it (the gate's
        # `_disclosed`), so naming it tells no recipient of a confidential party.
        facts=lambda message, note: {"by": _code(note, "agency")},
        load_related=("case", "agency"),
        selector=access.visible_notes,
        admin_url=_case_page,
    )
)
register_object(
    ObjectType(
        name="case_tombstone",
        model=CaseTombstone,
        user_can_see=lambda user, tombstone: access.tombstone_agency_can_see(
            access.agency_of(user), tombstone
        ),
        agency_can_see=access.tombstone_agency_can_see,
        api_path="cases/tombstones/{id}/",
        # The agency that lost access knew the case by its reference.
        reference=lambda tombstone: tombstone.case.reference,
        load_related=("case", "agency"),
        selector=access.visible_case_tombstones,
    )
)


def _admin_of_endpoint_agency(user, endpoint: WebhookEndpoint) -> bool:
    membership = access.membership_of(user)
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


# --- audiences --------------------------------------------------------------


@register_audience(EventType.CASE_SHARED)
def case_shared(message, case: Case) -> Audience:
    """The coordinators of the agency that received the share."""
    agency = _agency_from_payload(message)
    if agency is None:
        return Audience()
    return Audience(users=members([agency]), agencies=[agency])


@register_audience(EventType.CASE_REVOKED)
def case_revoked(message, case: Case) -> Audience:
    """The managing agencies' coordinators. The agency that lost access is not
    told through the gate: it no longer sees the case."""
    managers = _managing_agencies(case)
    return Audience(users=members(managers), agencies=managers)


@register_audience(EventType.CASE_ACCESS_REVOKED)
def case_access_revoked(message, tombstone: CaseTombstone) -> Audience:
    """The agency that lost access, by webhook only: its partner system drops
    its copy. People are not notified (`case.revoked` tells the managers)."""
    return Audience(agencies=[tombstone.agency])


@register_audience(EventType.CASE_STATUS_CHANGED)
def case_status_changed(message, case: Case) -> Audience:
    """Coordinators and investigators of every agency that sees the case."""
    agencies = list(access.agencies_that_can_see_case(case))
    return Audience(users=members(agencies, roles=WORKERS), agencies=agencies)


@register_audience(EventType.PARTICIPATION_EXPIRING)
def participation_expiring(message, case: Case) -> Audience:
    agency = _agency_from_payload(message)
    agencies = [a for a in [agency, case.lead_agency] if a is not None]
    return Audience(users=members(agencies), agencies=agencies)


@register_audience(EventType.TASK_ASSIGNED, EventType.TASK_DUE_SOON, EventType.TASK_OVERDUE)
def task_assignee(message, task: Task) -> Audience:
    """The assigned user, or the assigned agency's coordinators and
    investigators if nobody is."""
    if task.assigned_user_id:
        users = [task.assigned_user]
    else:
        users = members([task.assigned_agency], roles=WORKERS)
    return Audience(users=users, agencies=[task.assigned_agency])


@register_audience(EventType.TASK_STATUS_CHANGED)
def task_status_changed(message, task: Task) -> Audience:
    agencies = [task.case.lead_agency, task.assigned_agency]
    users = members(agencies)
    if task.assigned_user_id:
        users.append(task.assigned_user)
    return Audience(users=users, agencies=agencies)


@register_audience(EventType.NOTE_ADDED)
def note_added(message, note: Note) -> Audience:
    """Coordinators and investigators of every agency that sees the case (the
    gate then drops those the note's handling code or a confidential
    participation keeps out: a RED note reaches its own agency only)."""
    agencies = list(access.agencies_that_can_see_case(note.case))
    return Audience(users=members(agencies, roles=WORKERS), agencies=agencies)


@register_audience(EventType.WEBHOOK_DISABLED)
def webhook_disabled(message, endpoint: WebhookEndpoint) -> Audience:
    return Audience(users=members([endpoint.agency], roles=(Role.AGENCY_ADMIN,)))


# --- MLA requests (issue 5) ---------------------------------------------------

register_object(
    ObjectType(
        name="mla_request",
        model=MLARequest,
        user_can_see=access.is_visible,
        users_that_see=access.users_who_see,
        agencies_that_see=access.agencies_that_see,
        agency_can_see=access.mla_agency_can_see,
        api_path="mla-requests/{id}/",
        # The requesting side's own reference, else the parties and the day it
        # was drafted: no content, and no raw id in a text.
        reference=lambda request: (
            request.requesting_reference
            or (
                f"{request.requesting_agency.code}→{request.requested_agency.code} "
                f"{request.created_at:%Y-%m-%d}"
            )
        ),
        # The acting side (the two parties know each other) and the new state.
        facts=lambda message, request: {
            "by": _acting_side(message, request),
            "status": request.status,
        },
        load_related=("requesting_agency", "requested_agency"),
        selector=access.visible_mla_requests,
        # Its own page, for both sides: never the case, which the requested
        # side does not see.
        admin_url=lambda reader, request: _admin("mlarequest", request),
    )
)


@register_audience(EventType.MLA_SUBMITTED, EventType.MLA_TRANSITIONED)
def mla_other_side(message, request: MLARequest) -> Audience:
    """The other party's coordinators (named in the payload by `cases.mla`)."""
    agency = _agency_from_payload(message)
    if agency is None:
        return Audience()
    return Audience(users=members([agency]), agencies=[agency])


@register_audience(EventType.MLA_DUE_SOON, EventType.MLA_OVERDUE)
def mla_both_sides(message, request: MLARequest) -> Audience:
    """A deadline concerns both parties: the one that must answer, the one waiting."""
    agencies = [request.requesting_agency, request.requested_agency]
    return Audience(users=members(agencies), agencies=agencies)


# --- evidence documents (issue 6) and deconfliction (issue 8) -------------------

register_object(
    ObjectType(
        name="document",
        model=Document,
        user_can_see=access.is_visible,
        users_that_see=access.users_who_see,
        agencies_that_see=access.agencies_that_see,
        agency_can_see=access.agency_can_see,
        api_path="documents/{id}/",
        reference=lambda document: (
            document.case.reference if document.case_id else str(document.public_id)
        ),
        # The uploading agency: whoever sees the document may learn of it.
        facts=lambda message, document: {"by": _code(document, "agency")},
        load_related=("case", "agency"),
        selector=access.visible_documents,
        admin_url=_document_page,
        title=lambda document: document.title,
    )
)


@register_audience(EventType.DOCUMENT_ADDED)
def document_added(message, document: Document) -> Audience:
    """Coordinators and investigators of every agency that sees the case (the
    gate then drops those the document's handling code keeps out); an MLA
    request's coordinators for a document outside a case."""
    if document.case_id:
        agencies = list(access.agencies_that_can_see_case(document.case))
        return Audience(users=members(agencies, roles=WORKERS), agencies=agencies)
    request = document.mla_request
    agencies = [request.requesting_agency, request.requested_agency]
    return Audience(users=members(agencies), agencies=agencies)


register_object(
    ObjectType(
        name="identifier",
        model=Identifier,
        user_can_see=access.is_visible,
        users_that_see=access.users_who_see,
        agencies_that_see=access.agencies_that_see,
        agency_can_see=access.agency_can_see,
        api_path="identifiers/{id}/",
        # The holder's case reference and the kind: never the value itself.
        reference=lambda identifier: f"{identifier.case.reference}, {identifier.kind}",
        load_related=("case",),
        selector=access.visible_identifiers,
        admin_url=lambda reader, identifier: _admin("identifier", identifier),
    )
)


@register_audience(EventType.DECONFLICTION_HIT, EventType.DECONFLICTION_CONTACT_REQUESTED)
def identifier_holder(message, identifier: Identifier) -> Audience:
    """The coordinators of the agency to be told (the holder, or the lead of a
    non-discoverable case), named in the payload by `cases.deconfliction`."""
    agency = _agency_from_payload(message)
    if agency is None:
        return Audience()
    return Audience(users=members([agency]), agencies=[agency])
