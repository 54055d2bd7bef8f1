"""Statistics' world: the personas of tests/conftest.py, and builders that
record what the figures count through the services, as agencies would."""

from __future__ import annotations

import datetime as dt

import pytest

from agencies import services as agency_services
from cases import networks
from cases.choices import EntityKind, PersonRole
from tests.factories import make_agency, make_case, make_user

from ..mla.helpers import draft, drive, path_to


@pytest.fixture
def contributing():
    """Switch on `agencies`' consent, as the platform administrator does."""

    def switch(*agencies) -> None:
        admin = _superuser()
        for agency in agencies:
            agency_services.set_statistics_contribution(
                actor=admin, agency=agency, contributes=True
            )
            agency.refresh_from_db()

    return switch


def _superuser():
    from django.contrib.auth import get_user_model

    user, _created = get_user_model().objects.get_or_create(
        username="platform.admin", defaults={"is_superuser": True, "is_staff": True}
    )
    return user


def open_cases(actor, n: int, crime_types=("investment_fraud",)) -> list:
    return [make_case(actor, title=f"Case {i}", crime_types=list(crime_types)) for i in range(n)]


def record_victims(actor, case, names) -> list:
    return [
        networks.create_entity(
            actor=actor,
            case=case,
            kind=EntityKind.PERSON,
            name=name,
            role=PersonRole.VICTIM,
            nationality="KR",
        )
        for name in names
    ]


def record_assets(actor, case, values, *, currency="USDT-TRC20", state="frozen") -> list:
    return [
        networks.record_asset(
            actor=actor,
            case=case,
            kind="crypto",
            description=f"Wallet balance {i}",
            value=value,
            currency=currency,
            state=state,
            state_on=dt.date(2025, 4, 2),
        )
        for i, value in enumerate(values)
    ]


@pytest.fixture
def kh_moj(db):
    return make_agency("KH-MOJ", country="KH", kind="central_authority")


@pytest.fixture
def moj_coordinator(kh_moj):
    return make_user(kh_moj, "coordinator")


def requests_in(state, n, *, case, requesting, requested_agency, requested):
    return [
        drive(
            draft(requesting, case, requested_agency),
            path_to(state),
            requesting=requesting,
            requested=requested,
        )
        for _ in range(n)
    ]
