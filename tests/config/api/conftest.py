"""The `world` every discovered `/api/v1/` route is tried against
(discovery.py finds the routes)."""

from dataclasses import dataclass

import pytest
from django.utils import timezone

from agencies.choices import AgencyKind
from cases import mla, networks
from cases.models import (
    Asset,
    AssetStateChange,
    Case,
    CaseParticipation,
    CaseTombstone,
    Entity,
    EvidenceUpload,
    Link,
    MLARequest,
    MLAStatusChange,
    Note,
    ShareProposal,
    Task,
    Transaction,
)
from cases.uploads import start_upload
from notifications.choices import Channel, DeliveryStatus
from notifications.models import Delivery, Notification, OutboxMessage, WebhookEndpoint
from notifications.services import create_webhook_endpoint
from tests.cases.mla.helpers import draft
from tests.factories import make_agency, make_document, make_user


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
            tuple(ShareProposal.objects.filter(case=case).values_list("pk", "version", "status")),
            tuple(Notification.objects.filter(recipient=self.owner).values_list("pk", "read_at")),
            tuple(WebhookEndpoint.objects.values_list("pk", "version", "active", "secret")),
            tuple(Delivery.objects.filter(channel=Channel.WEBHOOK).values_list("pk", "status")),
            *(
                tuple(model.objects.filter(case=case).values_list("pk", "version"))
                for model in (Entity, Link, Transaction, Asset)
            ),
            AssetStateChange.objects.filter(case=case).count(),
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
    # A tombstone of KR-KNP's, the row a revoke writes (which case does not
    # matter here, and the services' way costs a case, a user, a share and a
    # revoke in every test of the matrix: tests/cases/api/test_tombstones.py
    # takes that way).
    tombstone = CaseTombstone.objects.create(
        case=shared_case,
        case_public_id=shared_case.public_id,
        agency=knp_coordinator.membership.agency,
        at=timezone.now(),
    )
    # A share proposal on the case, as a co-managing KH-CCOS would make it
    # (written directly: which agency proposes does not matter here, only
    # that the lead sees it and the outsider does not).
    proposal = ShareProposal.objects.create(
        case=shared_case,
        proposing_agency=participation.agency,
        agency=kh_moj,
        level="view",
        reason="Payments run through Cobalt-Wren accounts at a Phnom Penh bank.",
    )
    # Its network: a person holding the identifier's account, money moved, a freeze.
    person = networks.create_entity(
        actor=knp_coordinator,
        case=shared_case,
        kind="person",
        name="Hidden operator Sable-Quill",
        aliases=["Quill-Sable"],
    )
    account = add_identifier(
        actor=knp_coordinator,
        case=shared_case,
        kind="iban",
        value="DE89370400440532013000",
    )
    link = networks.create_link(
        actor=knp_coordinator,
        case=shared_case,
        kind="holds_account",
        from_entity=person,
        to_identifier=account,
        description="Payroll sheet Sable-Quill",
    )
    moved = networks.record_transaction(
        actor=knp_coordinator,
        case=shared_case,
        from_identifier=account,
        to_identifier=add_identifier(
            actor=knp_coordinator, case=shared_case, kind="iban", value="GB82WEST12345698765432"
        ),
        amount="987654.321",
        currency="EUR",
        occurred_at=timezone.now(),
        reference="REF-Sable-Quill-77",
    )
    asset = networks.record_asset(
        actor=knp_coordinator,
        case=shared_case,
        kind="bank_balance",
        description="Frozen balance Sable-Quill",
        value="123456.78",
        currency="EUR",
        state="frozen",
        state_on=timezone.localdate(),
        identifier=account,
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
        str(tombstone.public_id),
        str(proposal.public_id),
        proposal.reason,
        str(person.public_id),
        person.name,
        "Quill-Sable",
        str(link.public_id),
        link.description,
        str(moved.public_id),
        moved.reference,
        "987654",
        str(asset.public_id),
        asset.description,
        "123456",
    ]
    return World(
        owner=knp_coordinator,
        case=shared_case,
        markers=markers,
        mla_request=mla_request,
        owners=(knp_coordinator, knp_admin),
    )
