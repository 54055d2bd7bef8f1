"""The case list filters on the grant's copies of the case's status,
handling code, lead agency, crime types, creation and own last change
(`access.LIST_FILTER_COLUMNS`), and orders by creation on the copy of it
(`access.LIST_CREATED_COLUMNS`), so the copies must follow the case through
every service that changes it, and a filter on them must select exactly what
the same filter on the case selects."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F

from cases import access, services
from cases.api.filters import CaseFilter
from cases.choices import AccessLevel, CaseStatus, CrimeType, HandlingCode
from cases.models import Case, CaseGroupObjectPermission
from tests.bench.bench_subprocess import generate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]

COPIES = (
    "list_status",
    "list_handling_code",
    "list_lead_agency_id",
    "list_crime_types",
    "list_created_at",
    "list_case_updated_at",
)


def _copies(case: Case) -> set[tuple]:
    rows = CaseGroupObjectPermission.objects.filter(content_object=case).values_list(*COPIES)
    return {(*row[:3], tuple(row[3]), *row[4:]) for row in rows}


def _values(case: Case) -> tuple:
    case.refresh_from_db()
    return (
        case.status,
        case.handling_code,
        case.lead_agency_id,
        tuple(case.crime_types),
        case.created_at,
        case.updated_at,
    )


def test_the_copies_are_the_list_filter_columns():
    assert set(COPIES) == set(access.LIST_FILTER_COLUMNS)


def test_a_shared_cases_grants_carry_its_filter_values(shared_case):
    assert _copies(shared_case) == {_values(shared_case)}


def test_a_status_change_moves_to_every_grant_of_the_case(shared_case, knp_coordinator):
    services.change_case_status(actor=knp_coordinator, case=shared_case, status=CaseStatus.CLOSED)
    assert _copies(shared_case) == {_values(shared_case)}
    assert shared_case.status == CaseStatus.CLOSED


def test_a_handling_code_change_moves_to_every_grant(shared_case, knp_coordinator):
    services.update_case(actor=knp_coordinator, case=shared_case, handling_code=HandlingCode.RED)
    assert {code for _, code, *_ in _copies(shared_case)} == {HandlingCode.RED}


def test_a_hand_over_moves_the_lead_to_every_grant(shared_case, knp_coordinator, ccos):
    services.hand_over_case(
        actor=knp_coordinator, case=shared_case, new_lead=ccos, keep_level=AccessLevel.VIEW
    )
    assert {lead for _, _, lead, *_ in _copies(shared_case)} == {ccos.pk}


def test_a_crime_types_change_moves_to_every_grant(shared_case, knp_coordinator):
    crimes = [CrimeType.HUMAN_TRAFFICKING, CrimeType.FORCED_LABOUR]
    services.update_case(actor=knp_coordinator, case=shared_case, crime_types=crimes)
    assert {row[3] for row in _copies(shared_case)} == {tuple(crimes)}


def test_a_change_moves_the_cases_own_last_change_and_keeps_its_creation(
    shared_case, knp_coordinator
):
    created, updated = shared_case.created_at, shared_case.updated_at
    services.update_case(actor=knp_coordinator, case=shared_case, title="Renamed")
    assert _copies(shared_case) == {_values(shared_case)}
    assert shared_case.updated_at > updated and shared_case.created_at == created


def test_a_later_share_copies_the_cases_own_last_change_not_the_share_time(
    shared_case, knp_coordinator, unodc
):
    """The list position is the later of the two; the copy is the case's own."""
    Case.objects.filter(pk=shared_case.pk).update(updated_at=F("updated_at") - dt.timedelta(days=9))
    services.share_case(actor=knp_coordinator, case=shared_case, agency=unodc, level="view")
    grant = CaseGroupObjectPermission.objects.filter(
        content_object=shared_case, group=unodc.group
    ).get()
    assert grant.list_case_updated_at == _values(shared_case)[5]
    assert grant.list_updated_at == grant.granted_at > grant.list_case_updated_at


def _listed(api, user, query: str) -> list[str]:
    response = api(user).get(f"/api/v1/cases/?{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_status_filter_follows_a_change_at_once(api, shared_case, knp_coordinator, kh_viewer):
    services.change_case_status(actor=knp_coordinator, case=shared_case, status=CaseStatus.CLOSED)
    assert _listed(api, kh_viewer, "status=closed") == [str(shared_case.public_id)]
    assert _listed(api, kh_viewer, "status=open&status=active") == []


def test_the_lead_agency_filter_names_the_lead_by_code(api, shared_case, kh_viewer):
    assert _listed(api, kh_viewer, "lead_agency=KR-KNP") == [str(shared_case.public_id)]
    assert _listed(api, kh_viewer, "lead_agency=KH-CCOS") == []
    assert _listed(api, kh_viewer, "lead_agency=NO-SUCH") == []


def test_an_outside_agency_filtering_on_another_agencys_case_finds_nothing(
    api, shared_case, knp_coordinator, outsider
):
    services.update_case(actor=knp_coordinator, case=shared_case, handling_code=HandlingCode.RED)
    assert _listed(api, outsider, "handling_code=RED") == []
    assert _listed(api, outsider, "lead_agency=KR-KNP&status=open") == []


def test_the_crime_type_filter_follows_a_change_at_once(
    api, shared_case, knp_coordinator, kh_viewer
):
    assert _listed(api, kh_viewer, "crime_type=investment_fraud") == [str(shared_case.public_id)]
    services.update_case(
        actor=knp_coordinator, case=shared_case, crime_types=[CrimeType.ROMANCE_FRAUD]
    )
    assert _listed(api, kh_viewer, "crime_type=investment_fraud") == []
    assert _listed(api, kh_viewer, "crime_type=romance_fraud") == [str(shared_case.public_id)]


def test_the_date_filters_follow_a_change_at_once(api, shared_case, knp_coordinator, kh_viewer):
    mine = [str(shared_case.public_id)]
    before = shared_case.updated_at.isoformat().replace("+00:00", "Z")
    assert _listed(api, kh_viewer, f"updated_before={before}") == []
    Case.objects.filter(pk=shared_case.pk).update(
        created_at=F("created_at") - dt.timedelta(days=30),
        updated_at=F("updated_at") - dt.timedelta(days=20),
    )
    assert _listed(api, kh_viewer, f"updated_before={before}") == mine
    assert _listed(api, kh_viewer, f"created_before={before}") == mine
    assert _listed(api, kh_viewer, f"created_after={before}") == []
    services.update_case(actor=knp_coordinator, case=shared_case, title="Renamed")
    assert _listed(api, kh_viewer, f"updated_before={before}") == []
    assert _listed(api, kh_viewer, f"updated_after={before}") == mine


def test_the_list_by_creation_pages_through_every_case_in_creation_order(
    api, knp_coordinator, kh_viewer, ccos
):
    cases = [services.create_case(actor=knp_coordinator, title=f"Case {n}") for n in range(5)]
    for case in cases:
        services.share_case(actor=knp_coordinator, case=case, agency=ccos, level="view")
    # A change after creation moves the sync order, never the creation order.
    services.update_case(actor=knp_coordinator, case=cases[0], title="Changed last")
    client, seen = api(kh_viewer), []
    url = "/api/v1/cases/?ordering=-created_at&page_size=2"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == [str(case.public_id) for case in reversed(cases)]


def test_an_outside_agency_filtering_on_the_copies_finds_nothing(
    api, shared_case, knp_coordinator, outsider
):
    services.update_case(
        actor=knp_coordinator, case=shared_case, crime_types=[CrimeType.ILLEGAL_GAMBLING]
    )
    long_ago = "2000-01-01T00:00:00Z"
    for query in (
        "crime_type=illegal_gambling",
        f"created_after={long_ago}",
        f"updated_after={long_ago}",
        "created_before=2100-01-01T00:00:00Z",
        "updated_before=2100-01-01T00:00:00Z",
        "ordering=-created_at",
        "ordering=created_at",
    ):
        assert _listed(api, outsider, query) == [], query


def test_the_agency_filter_finds_the_cases_an_agency_takes_part_in(
    api, shared_case, knp_coordinator, kh_viewer
):
    other = services.create_case(actor=knp_coordinator, title="Not shared")
    listed = _listed(api, knp_coordinator, "agency=KH-CCOS")
    assert listed == [str(shared_case.public_id)]
    assert str(other.public_id) not in listed
    assert _listed(api, kh_viewer, "agency=KR-KNP") == [str(shared_case.public_id)]


def test_the_agency_filter_does_not_reveal_a_confidential_participant(
    api, shared_case, knp_coordinator, kh_viewer, unodc
):
    services.share_case(
        actor=knp_coordinator, case=shared_case, agency=unodc, level="view", confidential=True
    )
    assert _listed(api, kh_viewer, "agency=UNODC") == []
    assert _listed(api, knp_coordinator, "agency=UNODC") == [str(shared_case.public_id)]


@pytest.fixture
def generated(transactional_db):
    """Committed by the generator's own process; flushed after the test."""
    generate(agencies=6, cases=400, users=24)


def _pks(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_filters_on_the_copies_select_what_filters_on_the_case_select(generated):
    """Over a generated world (revoked, expired-unswept, confidential shares),
    for each agency and each value."""
    viewers = get_user_model().objects.filter(membership__role="viewer")
    assert viewers.exists()
    for user in viewers:
        listed = access.visible_cases_in_list_order(user)
        visible = access.visible_cases(user)
        for status in CaseStatus.values:
            assert _pks(listed.filter(list_status=status)) == _pks(visible.filter(status=status)), (
                user.username,
                status,
            )
        for code in HandlingCode.values:
            assert _pks(listed.filter(list_handling_code=code)) == _pks(
                visible.filter(handling_code=code)
            )
        for lead in set(visible.values_list("lead_agency_id", flat=True)):
            assert _pks(listed.filter(list_lead_agency_id=lead)) == _pks(
                visible.filter(lead_agency_id=lead)
            )


def test_the_crime_type_filter_selects_what_the_same_filter_on_the_case_selects(generated):
    viewers = get_user_model().objects.filter(membership__role="viewer")
    found = 0
    for user in viewers:
        listed = access.visible_cases_in_list_order(user)
        visible = access.visible_cases(user)
        for crime in CrimeType.values:
            filtered = CaseFilter({"crime_type": crime}, queryset=listed)
            assert filtered.is_valid(), filtered.errors
            expected = _pks(visible.filter(crime_types__contains=[crime]))
            assert _pks(filtered.qs) == expected, (user.username, crime)
            found += len(expected)
    assert found


def test_the_date_filters_select_what_the_same_filter_on_the_case_selects(generated):
    """`created_after` and `updated_after` also bound the list position, so
    that the agency's index starts there: the bound must drop no case. The
    `_before` filters read the copies alone."""
    viewers = get_user_model().objects.filter(membership__role="viewer")
    for user in viewers:
        listed = access.visible_cases_in_list_order(user)
        visible = access.visible_cases(user)
        for field in ("created_at", "updated_at"):
            moments = sorted(visible.values_list(field, flat=True))
            for moment in moments[:: max(1, len(moments) // 10)]:
                for suffix, lookup in (("after", "gte"), ("before", "lt")):
                    query = {f"{field.removesuffix('_at')}_{suffix}": moment.isoformat()}
                    filtered = CaseFilter(query, queryset=listed)
                    assert filtered.is_valid(), filtered.errors
                    assert _pks(filtered.qs) == _pks(
                        visible.filter(**{f"{field}__{lookup}": moment})
                    ), (user.username, query)


def test_the_order_by_creation_on_the_copies_is_the_cases_own(generated):
    for user in get_user_model().objects.filter(membership__role="viewer"):
        listed = access.visible_cases_in_list_order(user).order_by(*access.LIST_CREATED_COLUMNS)
        visible = access.visible_cases(user).order_by("created_at", "public_id")
        assert list(listed.values_list("pk", flat=True)) == list(
            visible.values_list("pk", flat=True)
        )


@pytest.mark.parametrize(
    ("listed", "visible"),
    [
        (access.listed_tasks, access.visible_tasks),
        (access.listed_notes, access.visible_notes),
        (access.listed_identifiers, access.visible_identifiers),
    ],
)
def test_a_child_list_read_case_by_case_holds_what_the_walk_holds(
    generated, monkeypatch, listed, visible
):
    """An agency seeing few cases has its child lists narrowed to their ids
    (`access.in_few_cases`); one seeing many has them walked. Same rows."""
    for user in get_user_model().objects.filter(membership__role="viewer"):
        expected = set(visible(user).values_list("pk", flat=True))
        assert expected, user.username
        monkeypatch.setattr(access, "FEW_CASES", 10_000)
        assert "IN (" in str(listed(user).query)
        assert set(listed(user).values_list("pk", flat=True)) == expected
        monkeypatch.setattr(access, "FEW_CASES", 0)
        assert set(listed(user).values_list("pk", flat=True)) == expected
