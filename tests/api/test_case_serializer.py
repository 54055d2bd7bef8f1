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
