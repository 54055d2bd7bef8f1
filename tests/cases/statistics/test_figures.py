"""What `cases.statistics` counts, for an agency and pooled across agencies."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from cases import services
from cases.choices import AccessLevel
from cases.deconfliction import add_identifier
from cases.models import MLARequest
from cases.statistics import SUPPRESSED, statistics
from gate.errors import PermissionDenied, ValidationFailed
from gate.roles import Role
from tests.factories import make_user

from .conftest import open_cases, record_assets, record_victims, requests_in

WALLET = "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"


def _count(rows, **match):
    found = [row["count"] for row in rows if all(row[k] == v for k, v in match.items())]
    return found[0] if found else 0


def test_an_agencys_figures_never_count_another_agencys_unshared_case(
    knp_coordinator, kh_coordinator
):
    open_cases(knp_coordinator, 6)
    open_cases(kh_coordinator, 7, crime_types=("human_trafficking",))
    figures = statistics(knp_coordinator)
    assert figures["cases"]["total"] == 6
    assert figures["cases"]["by_country"] == [{"country": "KR", "count": 6}]
    assert _count(figures["cases"]["by_crime_type"], crime_type="human_trafficking") == 0


def test_a_case_shared_with_the_agency_counts_in_its_figures(knp_coordinator, kh_coordinator, ccos):
    shared = open_cases(knp_coordinator, 5)
    for case in shared:
        services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.VIEW)
    open_cases(kh_coordinator, 5)
    figures = statistics(kh_coordinator)
    assert figures["cases"]["by_country"] == [
        {"country": "KH", "count": 5},
        {"country": "KR", "count": 5},
    ]


def test_counts_below_five_are_shown_as_less_than_five(knp_coordinator):
    open_cases(knp_coordinator, 3)
    figures = statistics(knp_coordinator)
    assert figures["cases"]["total"] == SUPPRESSED
    assert figures["cases"]["by_crime_type_and_country"] == [
        {"crime_type": "investment_fraud", "country": "KR", "count": SUPPRESSED}
    ]
    assert "3" not in json.dumps(figures["cases"])


def test_a_small_cell_cannot_be_recomputed_from_the_totals(knp_coordinator):
    """6 fraud cases and 2 trafficking ones, all in Korea: with the Korean
    total (8) shown, the fraud cell (6) would give the 2 back, so it is
    hidden too, and so are the crime-type totals that would give either."""
    open_cases(knp_coordinator, 6)
    open_cases(knp_coordinator, 2, crime_types=("human_trafficking",))
    cases = statistics(knp_coordinator)["cases"]
    cells = {row["crime_type"]: row["count"] for row in cases["by_crime_type_and_country"]}
    assert cells == {"investment_fraud": SUPPRESSED, "human_trafficking": SUPPRESSED}
    totals = {row["crime_type"]: row["count"] for row in cases["by_crime_type"]}
    assert totals == {"investment_fraud": SUPPRESSED, "human_trafficking": SUPPRESSED}
    assert cases["by_country"] == [{"country": "KR", "count": 8}]
    assert cases["total"] == 8


def test_non_contributing_agencies_are_left_out_of_pooled_figures(
    knp_coordinator, kh_coordinator, outsider, thcc, contributing
):
    th_coordinator = make_user(thcc, Role.COORDINATOR)
    for actor in (knp_coordinator, kh_coordinator, th_coordinator):
        open_cases(actor, 5)
    open_cases(outsider, 9, crime_types=("money_laundering",))  # UNODC does not contribute
    contributing(knp_coordinator.membership.agency, kh_coordinator.membership.agency, thcc)
    figures = statistics(outsider, scope="contributors")
    assert figures["contributors"] == ["KH-CCOS", "KR-KNP", "TH-CCIB"]
    assert figures["cases"]["total"] == 15
    assert "INT" not in {row["country"] for row in figures["cases"]["by_country"]}
    assert _count(figures["cases"]["by_crime_type"], crime_type="money_laundering") == 0


def test_pooled_figures_are_withheld_while_fewer_than_three_agencies_contribute(
    knp_coordinator, kh_coordinator, contributing
):
    open_cases(knp_coordinator, 6)
    contributing(knp_coordinator.membership.agency, kh_coordinator.membership.agency)
    figures = statistics(knp_coordinator, scope="contributors")
    assert figures["withheld"] is True
    assert figures["cases"] is None


def test_red_victims_are_counted_not_named(shared_case, knp_coordinator, kh_coordinator):
    names = ["김민지", "Park Ji-ho", "Lee Soo-jin", "Choi Min", "Jung Ha-eun"]
    record_victims(knp_coordinator, shared_case, names)
    figures = statistics(knp_coordinator)
    assert figures["victims"]["identified"] == 5
    assert figures["victims"]["by_nationality"] == [{"nationality": "KR", "count": 5}]
    assert figures["victims"]["repatriated"] is None
    text = json.dumps(figures, default=str, ensure_ascii=False)
    assert not any(name in text for name in names)
    # KH-CCOS sees the case but not KR-KNP's TLP:RED victims: not in its figures.
    assert statistics(kh_coordinator)["victims"]["identified"] == 0


def test_pooled_figures_count_red_victims_of_contributors(
    shared_case, knp_coordinator, kh_coordinator, thcc, contributing
):
    record_victims(knp_coordinator, shared_case, [f"Victim {i}" for i in range(6)])
    contributing(knp_coordinator.membership.agency, kh_coordinator.membership.agency, thcc)
    figures = statistics(kh_coordinator, scope="contributors")
    assert figures["victims"]["identified"] == 6
    assert "Victim" not in json.dumps(figures, default=str)


def test_assets_are_summed_per_state_and_currency(case, knp_coordinator):
    record_assets(knp_coordinator, case, ["100", "200", "300", "400", "500"])
    record_assets(knp_coordinator, case, ["1000000", "2000000"], currency="KRW")
    figures = statistics(knp_coordinator)["assets"]
    assert figures == [
        {"state": "frozen", "currency": "KRW", "count": SUPPRESSED, "total_value": None},
        {"state": "frozen", "currency": "USDT-TRC20", "count": 5, "total_value": "1500"},
    ]


def test_a_sum_one_asset_dominates_is_withheld(case, knp_coordinator):
    record_assets(knp_coordinator, case, ["1", "1", "1", "1", "1000"])
    (row,) = statistics(knp_coordinator)["assets"]
    assert row["count"] == 5
    assert row["total_value"] is None


def test_medians_of_the_mla_clocks(case, knp_coordinator, kh_moj, moj_coordinator):
    executed = requests_in(
        "executed",
        5,
        case=case,
        requesting=knp_coordinator,
        requested_agency=kh_moj,
        requested=moj_coordinator,
    )
    start = timezone.now() - dt.timedelta(days=100)
    for days, request in zip((2, 4, 6, 8, 10), executed, strict=True):
        MLARequest.objects.filter(pk=request.pk).update(
            received_at=start,
            accepted_at=start + dt.timedelta(days=days),
            closed_at=start + dt.timedelta(days=days + 30),
        )
    figures = statistics(knp_coordinator)["mla_requests"]
    assert figures["median_days_to_decision"] == {"days": 6.0, "suppressed": False}
    assert figures["median_days_to_execution"] == {"days": 30.0, "suppressed": False}
    assert figures["by_state"] == [{"state": "executed", "count": 5}]


def test_a_median_of_fewer_than_five_requests_is_withheld(
    case, knp_coordinator, kh_moj, moj_coordinator
):
    requests_in(
        "refused",
        2,
        case=case,
        requesting=knp_coordinator,
        requested_agency=kh_moj,
        requested=moj_coordinator,
    )
    figures = statistics(knp_coordinator)["mla_requests"]
    assert figures["median_days_to_decision"] == {"days": None, "suppressed": True}
    assert figures["by_state"] == [{"state": "refused", "count": SUPPRESSED}]


def test_the_period_bounds_what_is_counted(knp_coordinator):
    cases = open_cases(knp_coordinator, 6)
    old = timezone.now() - dt.timedelta(days=400)
    type(cases[0]).objects.filter(pk=cases[0].pk).update(created_at=old)
    today = timezone.now().date()
    assert statistics(knp_coordinator, since=today)["cases"]["total"] == 5
    assert statistics(knp_coordinator, until=old.date())["cases"]["total"] == SUPPRESSED


def test_a_period_that_ends_before_it_starts_is_refused(knp_coordinator):
    with pytest.raises(ValidationFailed):
        statistics(knp_coordinator, since=dt.date(2025, 5, 1), until=dt.date(2025, 4, 1))


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INVESTIGATOR, Role.AGENCY_ADMIN])
def test_only_coordinators_read_statistics(knp, role):
    with pytest.raises(PermissionDenied):
        statistics(make_user(knp, role))


def test_a_platform_administrator_of_no_agency_reads_no_statistics(django_user_model, db):
    admin = django_user_model.objects.create(username="root", is_superuser=True)
    with pytest.raises(PermissionDenied):
        statistics(admin, scope="contributors")


def _wallet_in_own_case(actor, **case_fields):
    case = open_cases(actor, 1)[0]
    if case_fields:
        services.update_case(actor=actor, case=case, **case_fields)
    return add_identifier(actor=actor, case=case, kind="crypto_wallet", value=WALLET, chain="tron")


def test_an_identifier_two_agencies_hold_links_their_cases(
    knp_coordinator, kh_coordinator, thcc, contributing
):
    _wallet_in_own_case(knp_coordinator)
    _wallet_in_own_case(kh_coordinator)
    contributing(knp_coordinator.membership.agency, kh_coordinator.membership.agency, thcc)
    assert statistics(knp_coordinator, scope="contributors")["linking_identifiers"] == SUPPRESSED
    assert statistics(knp_coordinator)["linking_identifiers"] == SUPPRESSED


def test_a_case_that_is_not_discoverable_makes_no_link(
    knp_coordinator, kh_coordinator, thcc, contributing
):
    _wallet_in_own_case(knp_coordinator)
    _wallet_in_own_case(kh_coordinator, discoverable=False)
    contributing(knp_coordinator.membership.agency, kh_coordinator.membership.agency, thcc)
    assert statistics(knp_coordinator, scope="contributors")["linking_identifiers"] == 0
    assert statistics(knp_coordinator)["linking_identifiers"] == 0


def test_an_outsider_sees_no_figure_of_others(case, knp_coordinator, outsider):
    open_cases(knp_coordinator, 5)
    figures = statistics(outsider)
    assert figures["cases"]["total"] == 0
    assert figures["cases"]["by_country"] == []
    assert figures["agency"] == "UNODC"


def test_a_case_of_two_crime_types_counts_once_in_each_and_once_in_its_country(
    knp_coordinator,
):
    open_cases(knp_coordinator, 6, crime_types=("investment_fraud", "money_laundering"))
    open_cases(knp_coordinator, 5, crime_types=("investment_fraud",))
    figures = statistics(knp_coordinator)["cases"]
    assert figures["total"] == 11
    assert _count(figures["by_country"], country="KR") == 11
    assert _count(figures["by_crime_type"], crime_type="investment_fraud") == 11
    assert _count(figures["by_crime_type"], crime_type="money_laundering") == 6
    assert (
        _count(figures["by_crime_type_and_country"], crime_type="money_laundering", country="KR")
        == 6
    )
