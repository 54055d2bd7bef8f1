"""The case list filters on the grant's copies of the case's status,
handling code and lead agency (`access.LIST_FILTER_COLUMNS`), so the copies
must follow the case through every service that changes it, and a filter on
them must select exactly what the same filter on the case selects."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cases import access, services
from cases.api.filters import CaseFilter
from cases.choices import AccessLevel, CaseStatus, HandlingCode
from cases.models import Case, CaseGroupObjectPermission
from tests.bench.bench_subprocess import generate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]


def _copies(case: Case) -> set[tuple]:
    return set(
        CaseGroupObjectPermission.objects.filter(content_object=case).values_list(
            "list_status", "list_handling_code", "list_lead_agency_id"
        )
    )


def test_a_shared_cases_grants_carry_its_filter_values(shared_case):
    assert _copies(shared_case) == {
        (shared_case.status, shared_case.handling_code, shared_case.lead_agency_id)
    }


def test_a_status_change_moves_to_every_grant_of_the_case(shared_case, knp_coordinator):
    services.change_case_status(actor=knp_coordinator, case=shared_case, status=CaseStatus.CLOSED)
    assert _copies(shared_case) == {
        (CaseStatus.CLOSED, shared_case.handling_code, shared_case.lead_agency_id)
    }


def test_a_handling_code_change_moves_to_every_grant(shared_case, knp_coordinator):
    services.update_case(actor=knp_coordinator, case=shared_case, handling_code=HandlingCode.RED)
    assert {code for _, code, _ in _copies(shared_case)} == {HandlingCode.RED}


def test_a_hand_over_moves_the_lead_to_every_grant(shared_case, knp_coordinator, ccos):
    services.hand_over_case(
        actor=knp_coordinator, case=shared_case, new_lead=ccos, keep_level=AccessLevel.VIEW
    )
    assert {lead for _, _, lead in _copies(shared_case)} == {ccos.pk}


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


def test_filters_on_the_copies_select_what_filters_on_the_case_select(generated):
    """Over a generated world (revoked, expired-unswept, confidential shares),
    for each agency and each value."""
    viewers = get_user_model().objects.filter(membership__role="viewer")
    assert viewers.exists()
    for user in viewers:
        listed = access.visible_cases_in_list_order(user)
        visible = access.visible_cases(user)
        for status in CaseStatus.values:
            assert set(listed.filter(list_status=status).values_list("pk", flat=True)) == set(
                visible.filter(status=status).values_list("pk", flat=True)
            ), (user.username, status)
        for code in HandlingCode.values:
            assert set(listed.filter(list_handling_code=code).values_list("pk", flat=True)) == set(
                visible.filter(handling_code=code).values_list("pk", flat=True)
            )
        for lead in set(visible.values_list("lead_agency_id", flat=True)):
            assert set(listed.filter(list_lead_agency_id=lead).values_list("pk", flat=True)) == set(
                visible.filter(lead_agency_id=lead).values_list("pk", flat=True)
            )


def test_the_since_filters_select_what_the_same_filter_on_the_case_selects(generated):
    """`created_after` and `updated_after` also bound the list position, so
    that the agency's index starts there: the bound must drop no case."""
    viewers = get_user_model().objects.filter(membership__role="viewer")
    for user in viewers:
        listed = access.visible_cases_in_list_order(user)
        visible = access.visible_cases(user)
        for field in ("created_at", "updated_at"):
            moments = sorted(visible.values_list(field, flat=True))
            for moment in moments[:: max(1, len(moments) // 10)]:
                query = {f"{field.removesuffix('_at')}_after": moment.isoformat()}
                filtered = CaseFilter(query, queryset=listed)
                assert filtered.is_valid(), filtered.errors
                assert set(filtered.qs.values_list("pk", flat=True)) == set(
                    visible.filter(**{f"{field}__gte": moment}).values_list("pk", flat=True)
                ), (user.username, query)


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
