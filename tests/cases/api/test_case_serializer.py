"""A listed case is read in one query and shows what a fetched case shows."""

from __future__ import annotations

import pytest

from cases import services
from cases.api.serializers import CaseSerializer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]


def test_a_listed_case_shows_the_lead_agency_code_read_with_its_row(
    knp_coordinator, django_assert_num_queries
):
    from cases.api.views import shaped_for_list
    from cases.models import Case

    case = services.create_case(actor=knp_coordinator, title="Compound payroll")
    with django_assert_num_queries(1):
        [listed] = shaped_for_list(Case.objects.filter(pk=case.pk))
        data = CaseSerializer(listed).data
    assert data == CaseSerializer(Case.objects.get(pk=case.pk)).data
    assert data["lead_agency"] == "KR-KNP"
