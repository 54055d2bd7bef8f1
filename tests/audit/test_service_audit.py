"""Every service that changes data writes exactly one audit event per change,
in its own transaction; a refused call writes none.

Decision (documented in README "Evidence and the audit log"): a refused
service call leaves no audit event, because its transaction, the event
included, rolls back. The refusal is recorded by the request layer instead,
as exactly one `permission_refused` event (API error handler, evidence
views), for 403 and 404 answers.

The table below must name every public service of `cases.services`,
`agencies.services`, `agencies.tokens` and `cases.documents`: a new service
without an audit row fails `test_every_service_is_walked`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import Max
from django.utils import timezone

from agencies import services as agency_services
from agencies import tokens
from audit.models import AuditEvent
from cases import documents, services, sharing
from cases.choices import AccessLevel, HandlingCode
from cases.models import CaseParticipation
from gate.errors import DomainError
from gate.roles import Role
from tests.factories import make_agency, make_case, make_user

PDF = b"%PDF-1.7\n" + b"0" * 2000

NOT_SERVICES = {
    # reads, helpers and hooks, not writes of their own
    "allowed_case_statuses",
    "authenticate_token",
    "default_expiry",
    "hash_token",
    "custody_report",
    "evidence_storage",
    "max_upload_size",
    "new_document",  # checks and builds the record an upload will save; writes nothing
    "too_large",
    "orphaned_files",
    "record_case_shared",  # custody rows inside share_case's event
    "record_cases_shared",  # the same for the bulk sharing services
    "verify_document",  # custody only; an integrity failure is audited
    "verify_all_documents",
    "may_set_statistics_contribution",  # the rule set_statistics_contribution asks
}


@dataclass
class World:
    knp: Any
    ccos: Any
    unodc: Any
    knp_coordinator: Any
    knp_admin: Any
    kh_investigator: Any
    kh_viewer: Any
    outsider: Any
    case: Any
    task: Any
    participation: Any
    root: Any

    def upload(self, **kwargs):
        return documents.upload_document(
            actor=kwargs.pop("actor", self.kh_investigator),
            case=self.case,
            file=io.BytesIO(PDF),
            name="s.pdf",
            title="Statement",
            handling_code=HandlingCode.GREEN,
            **kwargs,
        )


@pytest.fixture
def world(
    settings,
    tmp_path,
    knp,
    ccos,
    unodc,
    knp_coordinator,
    kh_investigator,
    kh_viewer,
    outsider,
    shared_case,
    task,
    django_user_model,
):
    settings.MEDIA_ROOT = str(tmp_path)
    return World(
        knp=knp,
        ccos=ccos,
        unodc=unodc,
        knp_coordinator=knp_coordinator,
        knp_admin=make_user(knp, Role.AGENCY_ADMIN),
        kh_investigator=kh_investigator,
        kh_viewer=kh_viewer,
        outsider=outsider,
        case=shared_case,
        task=task,
        participation=CaseParticipation.objects.get(case=shared_case, agency=ccos),
        root=django_user_model.objects.create_superuser("root", password="x"),
    )


def _expire_one(w: World):
    soon = timezone.now() + dt.timedelta(minutes=5)
    services.share_case(
        actor=w.knp_coordinator, case=w.case, agency=w.unodc, level="view", expires_at=soon
    )
    return lambda: services.expire_participations(now=soon + dt.timedelta(seconds=1))


def _token(w: World):
    token, _plaintext = tokens.issue_api_token(
        agency=w.knp, role=Role.VIEWER, name="KNP case system", created_by=w.knp_admin
    )
    return token


# name -> (prepare(world) -> call, expected [(action, object_type)])
CHANGES = {
    "create_case": (
        lambda w: lambda: services.create_case(actor=w.knp_coordinator, title="New case"),
        [("create", "cases.case")],
    ),
    "update_case": (
        lambda w: lambda: services.update_case(actor=w.knp_coordinator, case=w.case, title="T2"),
        [("update", "cases.case")],
    ),
    "change_case_status": (
        lambda w: (
            lambda: services.change_case_status(
                actor=w.knp_coordinator, case=w.case, status="active"
            )
        ),
        [("transition", "cases.case")],
    ),
    "share_case": (
        lambda w: (
            lambda: services.share_case(
                actor=w.knp_coordinator, case=w.case, agency=w.unodc, level=AccessLevel.VIEW
            )
        ),
        [("share", "cases.case")],
    ),
    "change_access": (
        lambda w: (
            lambda: services.change_access(
                actor=w.knp_coordinator, participation=w.participation, level=AccessLevel.VIEW
            )
        ),
        [("update", "cases.case")],
    ),
    "revoke_case": (
        lambda w: (
            lambda: services.revoke_case(actor=w.knp_coordinator, participation=w.participation)
        ),
        [("revoke", "cases.case")],
    ),
    "hand_over_case": (
        lambda w: (
            lambda: services.hand_over_case(actor=w.knp_coordinator, case=w.case, new_lead=w.ccos)
        ),
        [("update", "cases.case")],
    ),
    # The bulk forms: one event per share or revoke, chained in one append.
    "share_case_with_agencies": (
        lambda w: (
            lambda other: (
                lambda: services.share_case_with_agencies(
                    actor=w.knp_coordinator,
                    case=w.case,
                    shares=[(w.unodc, AccessLevel.VIEW), (other, AccessLevel.VIEW)],
                )
            )
        )(make_agency("TH-CCIB")),
        [("share", "cases.case")] * 2,
    ),
    "share_cases_with_agency": (
        lambda w: (
            lambda other: (
                lambda: services.share_cases_with_agency(
                    actor=w.knp_coordinator, cases=[w.case, other], agency=w.unodc, level="view"
                )
            )
        )(make_case(w.knp_coordinator)),
        [("share", "cases.case")] * 2,
    ),
    "revoke_agencies": (
        lambda w: (
            lambda: services.revoke_agencies(
                actor=w.knp_coordinator, case=w.case, participations=[w.participation]
            )
        ),
        [("revoke", "cases.case")],
    ),
    "revoke_agency_from_cases": (
        lambda w: (
            lambda: services.revoke_agency_from_cases(
                actor=w.knp_coordinator, agency=w.ccos, cases=[w.case]
            )
        ),
        [("revoke", "cases.case")],
    ),
    "expire_participations": (_expire_one, [("revoke", "cases.case")]),
    "create_task": (
        lambda w: (
            lambda: services.create_task(
                actor=w.knp_coordinator, case=w.case, title="Trace", assigned_agency=w.ccos
            )
        ),
        [("create", "cases.task")],
    ),
    "update_task": (
        lambda w: (
            lambda: services.update_task(actor=w.kh_investigator, task=w.task, status="in_progress")
        ),
        [("update", "cases.task")],
    ),
    "add_note": (
        lambda w: lambda: services.add_note(actor=w.kh_investigator, case=w.case, body="Seen."),
        [("create", "cases.note")],
    ),
    "log_task_progress": (
        lambda w: (
            lambda: services.log_task_progress(actor=w.kh_investigator, task=w.task, body="Done.")
        ),
        [("create", "cases.tasklogentry")],
    ),
    "upload_document": (lambda w: lambda: w.upload(), [("upload", "cases.document")]),
    "download_document": (
        lambda w: (
            lambda doc: lambda: list(documents.download_document(actor=w.kh_viewer, document=doc))
        )(w.upload()),
        [("download", "cases.document")],
    ),
    "create_agency": (
        lambda w: (
            lambda: agency_services.create_agency(
                code="INTERPOL", name="INTERPOL", country="INT", kind="international"
            )
        ),
        [("create", "agencies.agency")],
    ),
    "update_agency": (
        lambda w: lambda: agency_services.update_agency(agency=w.unodc, name="UNODC ROSEAP"),
        [("update", "agencies.agency")],
    ),
    "deactivate_agency": (
        lambda w: lambda: agency_services.deactivate_agency(actor=w.root, agency=w.unodc),
        [("update", "agencies.agency")],
    ),
    "set_statistics_contribution": (
        lambda w: (
            lambda: agency_services.set_statistics_contribution(
                actor=w.knp_admin, agency=w.knp, contributes=True
            )
        ),
        [("update", "agencies.agency")],
    ),
    "add_member": (
        lambda w: (
            lambda: agency_services.add_member(
                user=type(w.root).objects.create_user("fresh"), agency=w.knp, role=Role.VIEWER
            )
        ),
        [("create", "agencies.membership")],
    ),
    "create_member": (
        lambda w: (
            lambda: agency_services.create_member(
                username="new.analyst", agency=w.knp, role=Role.VIEWER, password="pw-Xy7!kq"
            )
        ),
        [("create", "agencies.membership")],
    ),
    "invite_member": (
        lambda w: (
            lambda: agency_services.invite_member(
                actor=w.knp_admin,
                agency=w.knp,
                username="invited",
                role=Role.VIEWER,
                password="pw-Xy7!kq",
                language="ko",
            )
        ),
        [("create", "agencies.membership")],
    ),
    "change_role": (
        lambda w: (
            lambda: agency_services.change_role(
                actor=w.knp_admin, membership=w.knp_coordinator.membership, role=Role.INVESTIGATOR
            )
        ),
        [("update", "agencies.membership")],
    ),
    "deactivate_member": (
        lambda w: (
            lambda: agency_services.deactivate_member(
                actor=w.knp_admin, membership=w.knp_coordinator.membership
            )
        ),
        [("update", "agencies.membership")],
    ),
    "set_language": (
        lambda w: lambda: agency_services.set_language(actor=w.kh_viewer, language="km"),
        [("update", "agencies.membership")],
    ),
    "issue_api_token": (
        lambda w: lambda: _token(w),
        [("create", "agencies.apitoken")],
    ),
    "revoke_api_token": (
        lambda w: (
            lambda token: lambda: tokens.revoke_api_token(token=token, revoked_by=w.knp_admin)
        )(_token(w)),
        [("revoke", "agencies.apitoken")],
    ),
}

# name -> prepare(world) -> a call the gate or validation refuses (no event)
REFUSALS = {
    "create_case": lambda w: lambda: services.create_case(actor=w.kh_viewer, title="x"),
    "update_case": lambda w: lambda: services.update_case(actor=w.outsider, case=w.case, title="x"),
    "change_case_status": lambda w: (
        lambda: services.change_case_status(actor=w.kh_viewer, case=w.case, status="active")
    ),
    "share_case": lambda w: (
        lambda: services.share_case(
            actor=w.kh_investigator, case=w.case, agency=w.unodc, level="view"
        )
    ),
    "change_access": lambda w: (
        lambda: services.change_access(
            actor=w.outsider, participation=w.participation, level="view"
        )
    ),
    "revoke_case": lambda w: (
        lambda: services.revoke_case(actor=w.kh_viewer, participation=w.participation)
    ),
    "hand_over_case": lambda w: (
        lambda: services.hand_over_case(actor=w.knp_coordinator, case=w.case, new_lead=w.knp)
    ),
    "share_case_with_agencies": lambda w: (
        lambda: services.share_case_with_agencies(
            actor=w.knp_coordinator, case=w.case, shares=[(w.unodc, "view"), (w.ccos, "view")]
        )
    ),
    "share_cases_with_agency": lambda w: (
        lambda: services.share_cases_with_agency(
            actor=w.kh_investigator, cases=[w.case], agency=w.unodc, level="view"
        )
    ),
    "revoke_agencies": lambda w: (
        lambda: services.revoke_agencies(
            actor=w.kh_viewer, case=w.case, participations=[w.participation]
        )
    ),
    "revoke_agency_from_cases": lambda w: (
        lambda: services.revoke_agency_from_cases(
            actor=w.knp_coordinator, agency=w.knp, cases=[w.case]
        )
    ),
    # A system job with no actor and nothing to refuse: nothing due, nothing written.
    "expire_participations": lambda w: lambda: services.expire_participations(),
    "create_task": lambda w: (
        lambda: services.create_task(
            actor=w.kh_investigator, case=w.case, title="x", assigned_agency=w.ccos
        )
    ),
    "update_task": lambda w: (
        lambda: services.update_task(actor=w.outsider, task=w.task, status="done")
    ),
    "add_note": lambda w: lambda: services.add_note(actor=w.kh_viewer, case=w.case, body="x"),
    "log_task_progress": lambda w: (
        lambda: services.log_task_progress(actor=w.kh_viewer, task=w.task, body="x")
    ),
    "upload_document": lambda w: lambda: w.upload(actor=w.outsider),
    "download_document": lambda w: (
        lambda doc: lambda: documents.download_document(actor=w.outsider, document=doc)
    )(w.upload()),
    "create_agency": lambda w: (
        lambda: agency_services.create_agency(
            code="bad code", name="x", country="ZZZ", kind="police"
        )
    ),
    "update_agency": lambda w: lambda: agency_services.update_agency(agency=w.unodc, code="N"),
    "deactivate_agency": lambda w: (
        lambda: agency_services.deactivate_agency(actor=w.knp_admin, agency=w.unodc)
    ),
    "set_statistics_contribution": lambda w: (
        lambda: agency_services.set_statistics_contribution(
            actor=w.knp_admin, agency=w.unodc, contributes=True
        )
    ),
    "add_member": lambda w: (
        lambda: agency_services.add_member(user=w.kh_viewer, agency=w.knp, role=Role.VIEWER)
    ),
    "create_member": lambda w: (
        lambda: agency_services.create_member(
            username=w.kh_viewer.username, agency=w.knp, role=Role.VIEWER
        )
    ),
    "invite_member": lambda w: (
        lambda: agency_services.invite_member(
            actor=w.knp_coordinator, agency=w.knp, username="z", role=Role.VIEWER, password="p"
        )
    ),
    "change_role": lambda w: (
        lambda: agency_services.change_role(
            actor=w.outsider, membership=w.knp_coordinator.membership, role=Role.VIEWER
        )
    ),
    "deactivate_member": lambda w: (
        lambda: agency_services.deactivate_member(
            actor=w.knp_coordinator, membership=w.knp_admin.membership
        )
    ),
    "set_language": lambda w: (
        lambda: agency_services.set_language(actor=w.kh_viewer, language="xx")
    ),
    "issue_api_token": lambda w: (
        lambda: tokens.issue_api_token(
            agency=w.knp, role=Role.VIEWER, name="x", created_by=w.outsider
        )
    ),
    "revoke_api_token": lambda w: (
        lambda token: lambda: tokens.revoke_api_token(token=token, revoked_by=w.outsider)
    )(_token(w)),
}


def _public_services() -> set[str]:
    names = set()
    for module in (services, sharing, agency_services, tokens, documents):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                names.add(name)
    return names - NOT_SERVICES


def _new_events(call) -> list[tuple[str, str]]:
    last = AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0
    call()
    return list(
        AuditEvent.objects.filter(seq__gt=last).order_by("seq").values_list("action", "object_type")
    )


def test_every_service_is_walked():
    assert _public_services() == set(CHANGES)
    assert set(REFUSALS) == set(CHANGES)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_each_change_writes_exactly_one_audit_event(world, name):
    prepare, expected = CHANGES[name]
    call = prepare(world)
    assert _new_events(call) == expected


@pytest.mark.parametrize("name", sorted(set(REFUSALS) - {"expire_participations"}))
def test_a_refused_call_writes_no_audit_event(world, name):
    call = REFUSALS[name](world)
    last = AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0
    with pytest.raises(DomainError):
        call()
    assert not AuditEvent.objects.filter(seq__gt=last).exists()


def test_two_expired_participations_are_two_events(world):
    soon = timezone.now() + dt.timedelta(minutes=5)
    services.share_case(
        actor=world.knp_coordinator,
        case=world.case,
        agency=world.unodc,
        level="view",
        expires_at=soon,
    )
    services.change_access(
        actor=world.knp_coordinator, participation=world.participation, expires_at=soon
    )
    events = _new_events(lambda: services.expire_participations(now=soon + dt.timedelta(seconds=1)))
    assert events == [("revoke", "cases.case"), ("revoke", "cases.case")]


def test_audit_event_names_actor_agency_and_changed_fields(world):
    services.update_case(actor=world.knp_coordinator, case=world.case, title="Renamed")
    event = AuditEvent.objects.latest("seq")
    assert event.actor_id == world.knp_coordinator.pk and event.agency_code == "KR-KNP"
    assert event.object_id == str(world.case.public_id)
    assert event.changes["title"]["after"] == "Renamed"


def test_secrets_of_new_members_and_tokens_stay_out_of_the_log(world):
    _token, plaintext = tokens.issue_api_token(
        agency=world.knp, role=Role.VIEWER, name="KNP system", created_by=world.knp_admin
    )
    agency_services.create_member(
        username="pw.holder", agency=world.knp, role=Role.VIEWER, password="S3cret-Pass!"
    )
    dump = str(list(AuditEvent.objects.values_list()))
    assert plaintext not in dump and "S3cret-Pass!" not in dump
