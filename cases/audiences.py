"""Who hears of each case-domain event, and how the outbox finds its objects.

Registered with `notifications.registry` when the cases app is ready
(`cases.apps`): notifications delivers the events `cases` emits through
`notifications.outbox.emit` without importing `cases`. An audience lists
*candidates*; the dispatcher then keeps only users and agencies that the
permission gate lets see the object at delivery time, so a candidate list
that is too generous still leaks nothing. The actor is never told of their
own action.
"""

from __future__ import annotations

from django.urls import reverse

from agencies.models import Agency
from notifications.audiences import WORKERS, agency_from_payload, members
from notifications.choices import EventType
from notifications.registry import (
    Audience,
    ObjectType,
    register_audience,
    register_object,
    register_status_labels,
)

from . import access, proposals
from .choices import (
    AccessLevel,
    AssetState,
    CaseStatus,
    MLAStatus,
    ShareProposalStatus,
    TaskStatus,
)
from .models import (
    Asset,
    Case,
    CaseTombstone,
    Document,
    Identifier,
    MLARequest,
    Note,
    ShareProposal,
    Task,
)


def _managing_agencies(case: Case) -> list[Agency]:
    return [
        a
        for a in access.agencies_that_can_see_case(case)
        if access.agency_level(a, case) == AccessLevel.MANAGE
    ]


def _code(obj, field: str) -> str:
    """The code of the agency `obj.<field>` (loaded with it: `load_related`)."""
    return getattr(obj, field).code if getattr(obj, f"{field}_id") else ""


def _acting_side(message, request: MLARequest) -> str:
    """The code of the party whose member acted (the two parties know each other)."""
    for field in ("requesting_agency", "requested_agency"):
        if message.agency_id is not None and message.agency_id == getattr(request, f"{field}_id"):
            return _code(request, field)
    return ""


def _admin(name: str):
    """The object's own admin page."""
    return lambda reader, obj: reverse(f"admin:cases_{name}_change", args=[obj.pk])


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


def _mla_reference(request: MLARequest) -> str:
    """The requesting side's own reference, else the parties and the day it was
    drafted: no content, and no raw id in a text."""
    return request.requesting_reference or (
        f"{request.requesting_agency.code}→{request.requested_agency.code} "
        f"{request.created_at:%Y-%m-%d}"
    )


# --- object types -----------------------------------------------------------


def _gated(
    name: str, model, api_path: str, selector, *, agency_can_see=access.agency_can_see, **described
) -> ObjectType:
    """An object type the gate decides for, one reader or a whole audience at a
    time; `described` is what the texts and links of this type say."""
    return ObjectType(
        name=name,
        model=model,
        api_path=api_path,
        selector=selector,
        user_can_see=access.is_visible,
        users_that_see=access.users_who_see,
        agencies_that_see=access.agencies_that_see,
        agency_can_see=agency_can_see,
        **described,
    )


OBJECT_TYPES = (
    _gated(
        "case",
        Case,
        "cases/{id}/",
        access.visible_cases,
        reference=lambda case: case.reference,
        facts=lambda message, case: {"status": case.status},
        admin_url=_admin("case"),
    ),
    _gated(
        "task",
        Task,
        "tasks/{id}/",
        access.visible_tasks,
        reference=lambda task: task.case.reference,
        facts=lambda message, task: {
            "agency": _code(task, "assigned_agency"),
            "status": task.status,
            "to": "user" if task.assigned_user_id else "agency",
        },
        load_related=("case", "assigned_agency"),
        # The task's own page: whoever sees the task may open it (read-only
        # unless they may work on it).
        admin_url=_admin("task"),
        title=lambda task: task.title,
    ),
    _gated(
        "note",
        Note,
        "notes/{id}/",
        access.visible_notes,
        reference=lambda note: note.case.reference,
        # The note's agency: whoever sees the note may learn of it (the gate's
        # `_disclosed`), so naming it tells no recipient of a confidential party.
        facts=lambda message, note: {"by": _code(note, "agency")},
        load_related=("case", "agency"),
        admin_url=_case_page,
    ),
    # Told to the agency that lost access, which the gate no longer lets see
    # the case: the tombstone has its own, per agency.
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
    ),
    _gated(
        "mla_request",
        MLARequest,
        "mla-requests/{id}/",
        access.visible_mla_requests,
        agency_can_see=access.mla_agency_can_see,
        reference=_mla_reference,
        # The acting side (the two parties know each other) and the new state.
        facts=lambda message, request: {
            "by": _acting_side(message, request),
            "status": request.status,
        },
        load_related=("requesting_agency", "requested_agency"),
        # Its own page, for both sides: never the case, which the requested
        # side does not see.
        admin_url=_admin("mlarequest"),
    ),
    _gated(
        "document",
        Document,
        "documents/{id}/",
        access.visible_documents,
        reference=lambda document: (
            document.case.reference if document.case_id else str(document.public_id)
        ),
        # The uploading agency: whoever sees the document may learn of it.
        facts=lambda message, document: {"by": _code(document, "agency")},
        load_related=("case", "agency"),
        admin_url=_document_page,
        title=lambda document: document.title,
    ),
    _gated(
        "identifier",
        Identifier,
        "identifiers/{id}/",
        access.visible_identifiers,
        # The holder's case reference and the kind: never the value itself.
        reference=lambda identifier: f"{identifier.case.reference}, {identifier.kind}",
        load_related=("case",),
        admin_url=_admin("identifier"),
    ),
    _gated(
        "asset",
        Asset,
        "assets/{id}/",
        access.visible_assets,
        reference=lambda asset: asset.case.reference,
        # The recording agency: whoever sees the asset may learn of it (the
        # gate's `_disclosed`); the state as the message says it.
        facts=lambda message, asset: {"by": _code(asset, "agency"), "status": asset.state},
        load_related=("case", "agency"),
        admin_url=_admin("asset"),
        title=lambda asset: asset.description,
    ),
    # Seen by the lead and the proposing agency only (`cases.proposals`).
    ObjectType(
        name="share_proposal",
        model=ShareProposal,
        user_can_see=proposals.user_can_see,
        agency_can_see=proposals.agency_can_see,
        api_path="share-proposals/{id}/",
        reference=lambda proposal: proposal.case.reference,
        # Both agencies named are known to both readers (the proposer chose
        # the agency); what accepting did (`outcome`) is never told.
        facts=lambda message, proposal: {
            "by": _code(proposal, "proposing_agency"),
            "agency": _code(proposal, "agency"),
            "status": proposal.status,
        },
        load_related=("case", "agency", "proposing_agency"),
        selector=proposals.visible_share_proposals,
        admin_url=_case_page,
    ),
)

for object_type in OBJECT_TYPES:
    register_object(object_type)

#: The state named by `status` in a text, per event family.
register_status_labels("case", CaseStatus.choices)
register_status_labels("task", TaskStatus.choices)
register_status_labels("mla", MLAStatus.choices)
register_status_labels("share_proposal", ShareProposalStatus.choices)
register_status_labels("asset", AssetState.choices)


# --- audiences --------------------------------------------------------------


@register_audience(
    EventType.CASE_SHARED,
    # The other party of an MLA request (named in the payload by `cases.mla`).
    EventType.MLA_SUBMITTED,
    EventType.MLA_TRANSITIONED,
    # The agency to be told of a deconfliction match (the holder, or the lead
    # of a non-discoverable case), named in the payload by `cases.deconfliction`.
    EventType.DECONFLICTION_HIT,
    EventType.DECONFLICTION_CONTACT_REQUESTED,
)
def named_agency(message, obj) -> Audience:
    """The coordinators of the agency the emitter named (for a share: the
    agency that received it)."""
    agency = agency_from_payload(message)
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
    agency = agency_from_payload(message)
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


@register_audience(EventType.ASSET_RECORDED, EventType.ASSET_STATE_CHANGED)
def asset_news(message, asset: Asset) -> Audience:
    """Coordinators and investigators of every agency that sees the case (the
    gate then drops those the asset's handling code keeps out)."""
    agencies = list(access.agencies_that_can_see_case(asset.case))
    return Audience(users=members(agencies, roles=WORKERS), agencies=agencies)


@register_audience(EventType.MLA_DUE_SOON, EventType.MLA_OVERDUE)
def mla_both_sides(message, request: MLARequest) -> Audience:
    """A deadline concerns both parties: the one that must answer, the one waiting."""
    agencies = [request.requesting_agency, request.requested_agency]
    return Audience(users=members(agencies), agencies=agencies)


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


@register_audience(EventType.SHARE_PROPOSAL_CREATED)
def share_proposal_created(message, proposal: ShareProposal) -> Audience:
    """The lead agency's coordinators: they decide."""
    lead = proposal.case.lead_agency
    return Audience(users=members([lead]), agencies=[lead])


@register_audience(EventType.SHARE_PROPOSAL_DECIDED)
def share_proposal_decided(message, proposal: ShareProposal) -> Audience:
    """The proposing agency's coordinators: they hear accepted or declined."""
    agency = proposal.proposing_agency
    return Audience(users=members([agency]), agencies=[agency])
