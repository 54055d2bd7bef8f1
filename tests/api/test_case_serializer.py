"""The case serializer's unrolled output is DRF's generic output, field for field."""

from __future__ import annotations

import pytest
from rest_framework import serializers as drf

from cases import services
from cases.api.serializers import CaseSerializer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("zone", ["Asia/Seoul", "UTC"])
def test_unrolled_case_representation_equals_the_generic_one(knp_coordinator, settings, zone):
    settings.TIME_ZONE = zone  # rendered in the active time zone, as DRF does (UTC as Z)
    case = services.create_case(
        actor=knp_coordinator,
        title="Compound payroll",
        summary="Wallets",
        crime_types=["investment_fraud", "money_laundering"],
        handling_code="GREEN",
    )
    serializer = CaseSerializer(case)
    generic = drf.ModelSerializer.to_representation(serializer, case)
    assert serializer.data == generic
    assert list(serializer.data) == list(generic)


def test_a_listed_case_shows_the_lead_agency_code_read_with_its_row(
    knp_coordinator, django_assert_num_queries
):
    from cases.api.views import shaped_for_list
    from cases.models import Case

    case = services.create_case(actor=knp_coordinator, title="Compound payroll")
    with django_assert_num_queries(1):
        [listed] = shaped_for_list(Case.objects.filter(pk=case.pk))
        data = CaseSerializer(listed).data
    assert "lead_agency" not in listed._state.fields_cache  # no Agency object built
    assert data == CaseSerializer(Case.objects.get(pk=case.pk)).data
    assert data["lead_agency"] == "KR-KNP"
