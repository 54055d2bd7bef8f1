"""Sharing with many agencies, or one agency on many cases, at once.

The bulk services apply `share_case`'s and `revoke_case`'s rules item by
item (they are the same code), write all or nothing, and cost a constant
number of queries whatever the number of items (issue 10: share one case
with 50 agencies in at most 10 queries).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.backends import MemberBackend
from audit.models import AuditEvent
from audit.services import verify_chain
from cases import access, services
from cases.choices import AccessLevel, HandlingCode
from cases.models import Case, CaseGroupObjectPermission, CaseParticipation, CustodyEvent
from cases.sharing import PROPOSE_INSTEAD
from gate.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from notifications.models import OutboxMessage
from tests.factories import make_agency, make_case, make_document, pass_expiry

pytestmark = pytest.mark.django_db


def _fresh(user):
    """A user as a request loads it (with its membership and agency, as the
    session backend and the token authentication read them)."""
    return MemberBackend().get_user(user.pk)


def _agencies(n: int, prefix: str = "BK"):
    return [make_agency(f"{prefix}-{i:02d}") for i in range(n)]


def _codenames(case, agency) -> set[str]:
    return set(
        CaseGroupObjectPermission.objects.filter(
            content_object=case, group_id=agency.group_id
        ).values_list("permission__codename", flat=True)
    )


def _snapshot(case) -> tuple:
    """Everything a share or revoke writes, to show a refused call wrote nothing."""
    return (
        list(CaseParticipation.objects.order_by("pk").values_list("pk", "revoked_at")),
        CaseGroupObjectPermission.objects.count(),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
        Case.objects.get(pk=case.pk).version,
    )


@pytest.fixture
def agencies(db):
    return _agencies(3)


# --- share one case with many agencies -----------------------------------------


def test_bulk_share_opens_one_participation_per_agency_on_its_terms(
    case, knp_coordinator, agencies
):
    expiry = timezone.now() + dt.timedelta(days=3)
    shares = [
        services.Share(agencies[0], AccessLevel.VIEW),
        (agencies[1], AccessLevel.CONTRIBUTE, expiry),
        {"agency": agencies[2], "level": AccessLevel.MANAGE, "confidential": True},
    ]
    made = services.share_case_with_agencies(actor=knp_coordinator, case=case, shares=shares)
    assert [p.agency for p in made] == agencies
    stored = {p.agency_id: p for p in CaseParticipation.objects.filter(case=case)}
    assert stored[agencies[0].pk].level == AccessLevel.VIEW
    assert stored[agencies[1].pk].expires_at == expiry
    assert stored[agencies[2].pk].confidential is True
    assert all(p.granted_by == knp_coordinator for p in made)


def test_bulk_share_writes_exactly_the_grants_share_case_writes(case, knp_coordinator, agencies):
    other = make_case(knp_coordinator)
    for level, agency in zip(AccessLevel.values, agencies, strict=False):
        services.share_case(actor=knp_coordinator, case=other, agency=agency, level=level)
    services.share_case_with_agencies(
        actor=knp_coordinator,
        case=case,
        shares=[(a, level) for level, a in zip(AccessLevel.values, agencies, strict=False)],
    )
    for agency in agencies:
        assert _codenames(case, agency) == _codenames(other, agency)
    assert _codenames(case, agencies[0]) == {"view_case"}


def test_bulk_share_opens_the_case_to_each_agency(case, knp_coordinator, agencies):
    from tests.factories import make_user

    services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, AccessLevel.VIEW) for a in agencies]
    )
    for agency in agencies:
        assert access.visible_cases(make_user(agency, "viewer")).filter(pk=case.pk).exists()


def test_bulk_share_returns_the_participations_as_stored(case, knp_coordinator, agencies):
    expiry = timezone.now() + dt.timedelta(days=3)
    made = services.share_case_with_agencies(
        actor=knp_coordinator,
        case=case,
        shares=[(agencies[0], "view"), (agencies[1], "manage", expiry, True)],
    )
    fields = [f.attname for f in CaseParticipation._meta.concrete_fields]
    for participation in made:
        stored = CaseParticipation.objects.get(pk=participation.pk)
        assert [getattr(participation, f) for f in fields] == [getattr(stored, f) for f in fields]
        assert participation.granted_by_agency == knp_coordinator.membership.agency


def test_bulk_share_with_one_bad_item_writes_nothing_and_names_it(case, knp_coordinator, agencies):
    agencies[1].active = False
    agencies[1].save()
    before = _snapshot(case)
    with pytest.raises(ValidationFailed) as refused:
        services.share_case_with_agencies(
            actor=knp_coordinator,
            case=case,
            shares=[(a, AccessLevel.VIEW) for a in agencies],
        )
    assert set(refused.value.errors) == {"1.agency"}
    assert _snapshot(case) == before


def test_bulk_share_lists_every_bad_item(case, knp_coordinator, agencies, knp):
    with pytest.raises(ValidationFailed) as refused:
        services.share_case_with_agencies(
            actor=knp_coordinator,
            case=case,
            shares=[
                (agencies[0], "admin"),
                (agencies[1], "view"),
                (knp, "view"),
                (agencies[1], "view"),
            ],
        )
    assert set(refused.value.errors) == {"0.level", "2.agency", "3.agency"}


def test_bulk_share_with_a_current_participant_is_a_conflict_naming_it(
    case, knp_coordinator, agencies
):
    services.share_case(actor=knp_coordinator, case=case, agency=agencies[2], level="view")
    before = _snapshot(case)
    with pytest.raises(Conflict) as refused:
        services.share_case_with_agencies(
            actor=knp_coordinator, case=case, shares=[(a, "view") for a in agencies]
        )
    assert refused.value.field == "2.agency"
    assert _snapshot(case) == before


def test_bulk_share_by_a_co_manager_is_refused_whole_telling_it_to_propose(
    case, knp_coordinator, kh_coordinator, ccos, agencies
):
    """Only the lead shares onward (the third-party rule); a co-manager proposes."""
    services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.MANAGE)
    for call in (
        lambda: services.share_case_with_agencies(
            actor=kh_coordinator, case=case, shares=[(agencies[0], "view"), (agencies[1], "view")]
        ),
        lambda: services.share_cases_with_agency(
            actor=kh_coordinator, cases=[case], agency=agencies[0], level="view"
        ),
    ):
        with pytest.raises(PermissionDenied) as refused:
            call()
        assert refused.value.message == PROPOSE_INSTEAD
    assert not CaseParticipation.objects.filter(agency__in=agencies).exists()


def test_bulk_share_by_an_outsider_is_not_found_and_writes_nothing(case, outsider, agencies):
    before = _snapshot(case)
    with pytest.raises(NotFound):
        services.share_case_with_agencies(
            actor=outsider, case=case, shares=[(a, "view") for a in agencies]
        )
    assert _snapshot(case) == before


def _case_row(case) -> tuple:
    return Case.objects.filter(pk=case.pk).values_list("version", "updated_at", "updated_by")[0]


def test_bulk_share_leaves_the_case_row_alone(case, knp_coordinator, agencies):
    before = _case_row(case)
    services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, "view") for a in agencies]
    )
    assert _case_row(case) == before


def test_bulk_revoke_leaves_the_case_row_alone(case, knp_coordinator, agencies):
    made = services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, "view") for a in agencies]
    )
    before = _case_row(case)
    services.revoke_agencies(actor=knp_coordinator, case=case, participations=made)
    assert _case_row(case) == before


def test_bulk_share_emits_one_outbox_message_per_agency(case, knp_coordinator, agencies):
    services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, "view") for a in agencies]
    )
    messages = OutboxMessage.objects.filter(event_type="case.shared", object_id=case.public_id)
    assert sorted(m.payload["ids"]["agency"] for m in messages) == sorted(
        str(a.public_id) for a in agencies
    )


def test_bulk_share_audits_each_share_and_keeps_the_chain_valid(case, knp_coordinator, agencies):
    made = services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, "view") for a in agencies]
    )
    events = list(AuditEvent.objects.filter(action="share").order_by("seq"))
    assert [e.changes["participation"] for e in events] == [str(p.public_id) for p in made]
    assert {e.object_id for e in events} == {str(case.public_id)}
    assert verify_chain().ok


def test_bulk_share_puts_the_share_on_each_document_custody_record(
    settings, tmp_path, case, knp_coordinator, agencies
):
    settings.MEDIA_ROOT = str(tmp_path)
    document = make_document(knp_coordinator, case)
    services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, "view") for a in agencies]
    )
    recipients = CustodyEvent.objects.filter(document=document, action="share").values_list(
        "recipient_agency_id", flat=True
    )
    assert sorted(recipients) == sorted(a.pk for a in agencies)


def test_a_share_custody_event_names_who_shared_with_whom_and_the_hash(
    settings, tmp_path, case, knp_coordinator, agencies
):
    settings.MEDIA_ROOT = str(tmp_path)
    document = make_document(knp_coordinator, case)
    services.share_case(actor=knp_coordinator, case=case, agency=agencies[0], level="view")
    event = CustodyEvent.objects.get(document=document, action="share")
    assert (event.user, event.agency, event.recipient_agency, event.sha256) == (
        knp_coordinator,
        knp_coordinator.membership.agency,
        agencies[0],
        document.sha256,
    )


def test_a_red_document_gets_no_share_custody_event(
    settings, tmp_path, case, knp_coordinator, agencies
):
    settings.MEDIA_ROOT = str(tmp_path)
    red = make_document(knp_coordinator, case, title="Informant list", handling_code="RED")
    services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, "view") for a in agencies]
    )
    assert not CustodyEvent.objects.filter(document=red, action="share").exists()


def test_bulk_share_ends_an_expired_unswept_participation_first(case, knp_coordinator, agencies):
    soon = timezone.now() + dt.timedelta(minutes=5)
    old = services.share_case(
        actor=knp_coordinator, case=case, agency=agencies[0], level="manage", expires_at=soon
    )
    pass_expiry(case, agencies[0])
    services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(agencies[0], "view"), (agencies[1], "view")]
    )
    old.refresh_from_db()
    assert old.end_reason == CaseParticipation.EndReason.EXPIRED
    assert _codenames(case, agencies[0]) == {"view_case"}


# --- revoke many agencies from one case -------------------------------------------


def test_bulk_revoke_ends_each_participation_and_drops_only_their_grants(
    case, knp_coordinator, agencies, knp
):
    made = services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, "contribute") for a in agencies]
    )
    ended = services.revoke_agencies(actor=knp_coordinator, case=case, participations=made[:2])
    assert all(p.end_reason == CaseParticipation.EndReason.REVOKED for p in ended)
    assert not CaseParticipation.objects.filter(pk__in=[p.pk for p in made[:2]], revoked_at=None)
    assert _codenames(case, agencies[0]) == _codenames(case, agencies[1]) == set()
    assert _codenames(case, agencies[2]) == {"view_case", "contribute_case"}
    assert _codenames(case, knp) == {"view_case", "contribute_case", "manage_case"}
    revoked = OutboxMessage.objects.filter(event_type="case.revoked")
    assert sorted(m.payload["ids"]["participation"] for m in revoked) == sorted(
        str(p.public_id) for p in made[:2]
    )
    assert AuditEvent.objects.filter(action="revoke").count() == 2
    assert verify_chain().ok


def test_bulk_revoke_of_the_lead_writes_nothing_and_names_it(case, knp_coordinator, agencies):
    made = services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, "view") for a in agencies]
    )
    lead = CaseParticipation.objects.get(case=case, agency=case.lead_agency)
    before = _snapshot(case)
    with pytest.raises(Conflict) as refused:
        services.revoke_agencies(actor=knp_coordinator, case=case, participations=[made[0], lead])
    assert refused.value.field == "1"
    assert _snapshot(case) == before


def test_bulk_revoke_of_another_cases_participation_is_not_found(case, knp_coordinator, agencies):
    other = make_case(knp_coordinator)
    (foreign,) = services.share_case_with_agencies(
        actor=knp_coordinator, case=other, shares=[(agencies[0], "view")]
    )
    with pytest.raises(NotFound):
        services.revoke_agencies(actor=knp_coordinator, case=case, participations=[foreign])
    assert CaseParticipation.objects.get(pk=foreign.pk).revoked_at is None


# --- one agency on many cases -----------------------------------------------------


def test_share_cases_with_agency_shares_each_case(knp_coordinator, ccos, kh_viewer):
    cases = [make_case(knp_coordinator) for _ in range(3)]
    made = services.share_cases_with_agency(
        actor=knp_coordinator, cases=cases, agency=ccos, level=AccessLevel.CONTRIBUTE
    )
    assert [p.case for p in made] == cases
    assert set(access.visible_cases(kh_viewer)) == set(cases)
    assert all(_codenames(c, ccos) == {"view_case", "contribute_case"} for c in cases)
    assert OutboxMessage.objects.filter(event_type="case.shared").count() == 3
    assert verify_chain().ok


def test_share_cases_with_agency_names_the_refused_case_and_writes_nothing(knp_coordinator, ccos):
    cases = [make_case(knp_coordinator) for _ in range(2)]
    cases.append(make_case(knp_coordinator, handling_code=HandlingCode.AMBER_STRICT))
    before = _snapshot(cases[0])
    with pytest.raises(ValidationFailed) as refused:
        services.share_cases_with_agency(
            actor=knp_coordinator, cases=cases, agency=ccos, level="view"
        )
    assert set(refused.value.errors) == {"2.agency"}
    assert _snapshot(cases[0]) == before


def test_share_cases_with_agency_is_not_found_if_any_case_is_invisible(
    knp_coordinator, outsider, ccos
):
    mine = make_case(outsider)
    with pytest.raises(NotFound):
        services.share_cases_with_agency(
            actor=outsider, cases=[mine, make_case(knp_coordinator)], agency=ccos, level="view"
        )
    assert not CaseParticipation.objects.filter(agency=ccos).exists()


def test_revoke_agency_from_cases_ends_each_participation(knp_coordinator, ccos, kh_viewer):
    cases = [make_case(knp_coordinator) for _ in range(3)]
    services.share_cases_with_agency(actor=knp_coordinator, cases=cases, agency=ccos, level="view")
    ended = services.revoke_agency_from_cases(actor=knp_coordinator, agency=ccos, cases=cases[:2])
    assert [p.case for p in ended] == cases[:2]
    assert list(access.visible_cases(kh_viewer)) == [cases[2]]
    assert AuditEvent.objects.filter(action="revoke").count() == 2
    assert verify_chain().ok


def test_revoke_agency_from_a_case_it_is_not_in_names_the_case(knp_coordinator, ccos):
    cases = [make_case(knp_coordinator) for _ in range(2)]
    services.share_case(actor=knp_coordinator, case=cases[0], agency=ccos, level="view")
    with pytest.raises(Conflict) as refused:
        services.revoke_agency_from_cases(actor=knp_coordinator, agency=ccos, cases=cases)
    assert refused.value.field == "1.case"
    assert CaseParticipation.objects.get(case=cases[0], agency=ccos).revoked_at is None


# --- query counts -----------------------------------------------------------------


def _share_queries(case, coordinator, agencies) -> int:
    with CaptureQueriesContext(connection) as captured:
        services.share_case_with_agencies(
            actor=_fresh(coordinator), case=case, shares=[(a, "view") for a in agencies]
        )
    return len(captured)


def test_sharing_one_case_with_fifty_agencies_takes_at_most_eight_queries(
    case, knp_coordinator, django_assert_max_num_queries
):
    agencies = _agencies(50)
    actor = _fresh(knp_coordinator)
    with django_assert_max_num_queries(8):
        services.share_case_with_agencies(
            actor=actor, case=case, shares=[(a, "contribute") for a in agencies]
        )
    assert CaseParticipation.objects.filter(case=case, revoked_at=None).count() == 51


def test_sharing_a_case_with_evidence_with_fifty_agencies_takes_at_most_nine_queries(
    settings, tmp_path, case, knp_coordinator, django_assert_max_num_queries
):
    settings.MEDIA_ROOT = str(tmp_path)
    document = make_document(knp_coordinator, case)
    agencies = _agencies(50)
    actor = _fresh(knp_coordinator)
    with django_assert_max_num_queries(9):
        services.share_case_with_agencies(
            actor=actor, case=case, shares=[(a, "view") for a in agencies]
        )
    shared = CustodyEvent.objects.filter(document=document, action="share")
    assert shared.count() == 50


def test_revoking_forty_nine_agencies_takes_at_most_ten_queries(
    case, knp_coordinator, django_assert_max_num_queries
):
    made = services.share_case_with_agencies(
        actor=knp_coordinator, case=case, shares=[(a, "view") for a in _agencies(50)]
    )
    participations = list(CaseParticipation.objects.filter(pk__in=[p.pk for p in made[1:]]))
    actor = _fresh(knp_coordinator)
    # Two of them tell the agencies that lost access: their tombstones and
    # their `case.access_revoked` messages, one statement each.
    with django_assert_max_num_queries(10):
        services.revoke_agencies(actor=actor, case=case, participations=participations)
    assert CaseParticipation.objects.filter(case=case, revoked_at=None).count() == 2


def test_the_query_count_does_not_grow_with_the_number_of_agencies(knp_coordinator):
    five = _share_queries(make_case(knp_coordinator), knp_coordinator, _agencies(5, "FV"))
    fifty = _share_queries(make_case(knp_coordinator), knp_coordinator, _agencies(50, "FT"))
    assert fifty == five


def test_the_query_count_does_not_grow_with_the_number_of_cases(
    knp_coordinator, ccos, django_assert_max_num_queries
):
    counts = []
    for n in (2, 20):
        cases = [make_case(knp_coordinator) for _ in range(n)]
        actor = _fresh(knp_coordinator)
        with CaptureQueriesContext(connection) as shared:
            services.share_cases_with_agency(actor=actor, cases=cases, agency=ccos, level="view")
        with CaptureQueriesContext(connection) as revoked:
            services.revoke_agency_from_cases(actor=actor, agency=ccos, cases=cases)
        counts.append((len(shared), len(revoked)))
    assert counts[0] == counts[1]
    shared, revoked = counts[0]
    assert shared <= 8
    assert revoked <= 11  # two for the tombstones and their messages


def test_share_cases_with_agency_returns_cases_whose_other_fields_still_load(knp_coordinator, ccos):
    cases = [make_case(knp_coordinator, title=f"Loaded {n}") for n in range(2)]
    made = services.share_cases_with_agency(
        actor=knp_coordinator, cases=cases, agency=ccos, level="view"
    )
    assert [p.case.title for p in made] == ["Loaded 0", "Loaded 1"]
