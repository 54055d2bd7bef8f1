"""The admin's Statistics page: charts for coordinators, consent for agency administrators."""

from __future__ import annotations

from audit.models import AuditEvent
from gate.roles import Role
from tests.admin_client import login
from tests.factories import make_user

from .conftest import open_cases, record_victims

URL = "/admin/statistics/"


def test_a_coordinator_sees_the_charts(case, knp_coordinator):
    open_cases(knp_coordinator, 5)
    response = login(knp_coordinator).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    for chart in ("crime-types", "countries", "mla-states", "nationalities"):
        assert f'id="cb-chart-{chart}"' in page
    assert '<svg class="cb-bar"' in page
    assert 'width="100.0"' in page  # investment fraud: 6 cases, the longest bar


def test_a_suppressed_count_gets_no_bar(case, knp_coordinator):
    response = login(knp_coordinator).get(URL)
    page = response.content.decode()
    assert "cb-suppressed" in page
    assert '<svg class="cb-bar"' not in page


def test_red_victims_are_counted_on_the_page_not_named(shared_case, knp_coordinator):
    names = ["김민지", "Park Ji-ho", "Lee Soo-jin", "Choi Min", "Jung Ha-eun"]
    record_victims(knp_coordinator, shared_case, names)
    page = login(knp_coordinator).get(URL).content.decode()
    assert not any(name in page for name in names)
    assert "Identified: 5" in page


def test_a_period_that_ends_before_it_starts_is_a_form_error(knp_coordinator):
    response = login(knp_coordinator).get(URL, {"since": "2025-05-01", "until": "2025-04-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["until"]
    assert "figures" not in response.context


def test_a_viewer_is_refused(knp_viewer):
    response = login(knp_viewer).get(URL)
    assert response.status_code == 403
    assert "charts" not in response.context


def test_an_agency_administrator_sets_the_agencys_consent(knp):
    admin = make_user(knp, Role.AGENCY_ADMIN)
    client = login(admin)
    page = client.get(URL)
    assert page.status_code == 200 and "figures" not in page.context
    response = client.post(URL, {"contributes": "on"})
    assert response.status_code == 302
    knp.refresh_from_db()
    assert knp.contributes_statistics is True
    event = AuditEvent.objects.filter(object_type="agencies.agency").latest("seq")
    assert event.changes == {"contributes_statistics": {"before": False, "after": True}}


def test_a_coordinator_cannot_set_the_consent(knp, knp_coordinator):
    response = login(knp_coordinator).post(URL, {"contributes": "on"})
    assert response.status_code == 200  # read as a GET: the figures, nothing changed
    knp.refresh_from_db()
    assert knp.contributes_statistics is False


def test_the_pooled_figures_show_who_contributes(
    knp_coordinator, kh_coordinator, thcc, contributing
):
    contributing(knp_coordinator.membership.agency, kh_coordinator.membership.agency, thcc)
    page = login(knp_coordinator).get(URL, {"scope": "contributors"}).content.decode()
    assert "KH-CCOS, KR-KNP, TH-CCIB" in page
