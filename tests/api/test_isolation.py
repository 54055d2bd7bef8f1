"""Isolation matrix: every `/api/v1/` route and every method, as a non-participating agency.

Routes are discovered from the URL resolver (see `discovery.py`), so a new
endpoint is covered without touching this file, as long as the `world`
fixture holds an object of its kind (the test fails loudly otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.urls import reverse

from agencies.choices import AgencyKind
from cases import mla
from cases.models import (
    Case,
    CaseParticipation,
    EvidenceUpload,
    MLARequest,
    MLAStatusChange,
    Note,
    Task,
)
from cases.uploads import start_upload
from notifications.choices import Channel, DeliveryStatus
from notifications.models import Delivery, Notification, OutboxMessage, WebhookEndpoint
from notifications.services import create_webhook_endpoint
from tests.factories import make_agency, make_document, make_user
from tests.mla.helpers import draft

from .discovery import ALL_METHODS, api_routes, hidden_kwargs, random_kwargs

ROUTES = api_routes()
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class World:
    owner: object
    case: Case
    markers: list[str]
    mla_request: MLARequest
    #: Who sees the hidden objects: the owner, and KR-KNP's agency administrator
    #: (the only one who sees its webhooks).
    owners: tuple = ()

    def state(self) -> tuple:
        """Everything a leaked write could change in the hidden case."""
        case = Case.objects.get(pk=self.case.pk)
        return (
            case.version,
            case.status,
            case.lead_agency_id,
            tuple(Task.objects.filter(case=case).values_list("pk", "version")),
            tuple(Note.objects.filter(case=case).values_list("pk", flat=True)),
            tuple(
                CaseParticipation.objects.filter(case=case).values_list(
                    "pk", "version", "revoked_at"
                )
            ),
            tuple(MLARequest.objects.filter(case=case).values_list("pk", "version", "status")),
            MLAStatusChange.objects.filter(request__case=case).count(),
            tuple(EvidenceUpload.objects.filter(case=case).values_list("pk", "offset")),
            tuple(Notification.objects.filter(recipient=self.owner).values_list("pk", "read_at")),
            tuple(WebhookEndpoint.objects.values_list("pk", "version", "active", "secret")),
            tuple(Delivery.objects.filter(channel=Channel.WEBHOOK).values_list("pk", "status")),
        )


@pytest.fixture
def world(
    shared_case, task, note, knp_coordinator, settings, tmp_path, django_capture_on_commit_callbacks
) -> World:
    """KR-KNP's case, shared with KH-CCOS, with a task, a note, an identifier and
    an evidence document; UNODC sees none of it."""

    from cases.deconfliction import add_identifier

    identifier = add_identifier(
        actor=knp_coordinator,
        case=shared_case,
        kind="email",
        value="boss@hidden-compound.example",
        notes="Seen on the compound's payroll sheet",
    )
    settings.MEDIA_ROOT = str(tmp_path)
    document = make_document(knp_coordinator, shared_case)
    upload = start_upload(
        actor=knp_coordinator,
        case=shared_case,
        length=1000,
        name="raid-video.mp4",
        title="Raid video Amber-Kestrel, in transit",
    )
    shared_case.refresh_from_db()
    participation = CaseParticipation.objects.get(case=shared_case, agency__code="KH-CCOS")
    # An MLA request KR-KNP sent to Cambodia's central authority (issue 5).
    kh_moj = make_agency("KH-MOJ", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY)
    mla_request = mla.submit_mla_request(
        actor=knp_coordinator, request=draft(knp_coordinator, shared_case, kh_moj)
    )
    # Delivered as after a commit: KR-KNP's coordinator is told of the acknowledgement.
    with django_capture_on_commit_callbacks(execute=True):
        mla.acknowledge_mla_request(actor=make_user(kh_moj), request=mla_request)
    notification = Notification.objects.filter(recipient=knp_coordinator).first()
    assert notification is not None, "the world needs an in-app notification for its owner"
    # KR-KNP's webhook, with one delivery, managed by its agency administrator.
    knp_admin = make_user(knp_coordinator.membership.agency, "agency_admin")
    endpoint = create_webhook_endpoint(actor=knp_admin, url="https://hidden-knp.example/hook")
    Delivery.objects.create(
        message=OutboxMessage.objects.first(),
        channel=Channel.WEBHOOK,
        recipient_key=Delivery.key_for(endpoint=endpoint),
        endpoint=endpoint,
        status=DeliveryStatus.SENT,
    )
    markers = [
        str(shared_case.public_id),
        shared_case.reference,
        shared_case.title,
        shared_case.summary,
        str(task.public_id),
        task.title,
        str(note.public_id),
        note.body,
        str(participation.public_id),
        str(identifier.public_id),
        identifier.raw_value,
        identifier.notes,
        str(mla_request.public_id),
        mla_request.facts,
        str(document.public_id),
        document.title,
        str(upload.public_id),
        upload.title,
        document.sha256,
        str(notification.public_id),
        notification.text,
        str(endpoint.public_id),
        endpoint.url,
        endpoint.secret,
    ]
    return World(
        owner=knp_coordinator,
        case=shared_case,
        markers=markers,
        mla_request=mla_request,
        owners=(knp_coordinator, knp_admin),
    )


def probe_payload(world: World) -> dict:
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


def _normalise(body: str, *ids: str) -> str:
    for value in ids:
        body = body.replace(value, "<id>")
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", body)


def test_discovery_finds_the_known_endpoints():
    names = {route.name for route in ROUTES}
    for expected in ("case-list", "case-detail", "participant-detail", "task-list", "note-list"):
        assert f"api:v1:{expected}" in names
    assert "api:v1:me" in names


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_outsider_learns_and_changes_nothing(route, method, world, outsider, api):
    kwargs = hidden_kwargs(route, world.owners)
    url = reverse(route.name, kwargs=kwargs)
    before = world.state()
    response = call(api(outsider), method, url, probe_payload(world))
    assert world.state() == before, f"{method} {url} changed the hidden case"
    body = response.content.decode()
    for marker in world.markers:
        assert marker not in body, f"{method} {url} leaked {marker!r}"
    assert response.status_code < 500

    hidden_ids = [v for k, v in kwargs.items()]
    names_hidden_object = bool(hidden_ids) and not _outsider_sees(route, outsider, kwargs)
    if names_hidden_object and method != "OPTIONS":
        assert response.status_code in (404, 405), f"{method} {url}: {response.status_code}"
    if not kwargs and method in WRITE_METHODS and route.name.endswith("-list"):
        # Creation on a list: a body naming the hidden case is refused like an unknown id.
        assert response.status_code in (201, 400, 403, 404, 405), response.status_code
    if names_hidden_object:
        # Indistinguishable from an object that does not exist at all.
        other = call(
            api(outsider),
            method,
            reverse(route.name, kwargs=random_kwargs(route, kwargs)),
            probe_payload(world),
        )
        assert other.status_code == response.status_code
        assert _normalise(other.content.decode()) == _normalise(body)


def _outsider_sees(route, outsider, kwargs) -> bool:
    """Whether the named object is visible to the outsider anyway (the agency directory)."""
    from .discovery import _gated_view

    view_class = route.view_class
    if getattr(view_class, "parent_url_kwarg", "") in kwargs:
        return False  # nested under the hidden case
    lookup = getattr(view_class, "lookup_url_kwarg", None)
    view = _gated_view(route, outsider, dict(kwargs))
    return view.get_queryset().filter(public_id=kwargs[lookup]).exists()


def test_most_routes_name_hidden_objects(world, outsider):
    """Guard against the matrix passing vacuously (everything visible to the outsider)."""
    hidden = [
        r
        for r in ROUTES
        if r.kwargs and not _outsider_sees(r, outsider, hidden_kwargs(r, world.owners))
    ]
    assert len(hidden) >= 5


def test_creating_on_a_hidden_case_is_refused_like_on_a_missing_one(world, outsider, api):
    """Tasks and notes name their case in the body: a hidden case is an unknown case."""
    import uuid

    client = api(outsider)
    for path, extra in (
        ("/api/v1/tasks/", {"title": "T", "assigned_agency": "UNODC"}),
        ("/api/v1/notes/", {"body": "probe"}),
    ):
        hidden = client.post(path, {"case": str(world.case.public_id), **extra}, format="json")
        missing = client.post(path, {"case": str(uuid.uuid4()), **extra}, format="json")
        assert hidden.status_code == missing.status_code == 400
        assert hidden.json() == missing.json()
        assert hidden.json()["errors"][0] == {
            "field": "case",
            "code": "unknown",
            "detail": "Unknown case.",
        }
