"""The MLA world: KR-KNP (leads `case`) asks Cambodia's central authority
(KH-MOJ), which is not on the case; UNODC stays outside."""

import pytest

from agencies.choices import AgencyKind
from cases.models import MLARequest
from gate.roles import Role
from tests.factories import make_agency, make_user

from .helpers import draft, drive, path_to


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The graph tests create hundreds of users; real hashing would dominate."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def kh_moj(db):
    return make_agency(
        "KH-MOJ",
        name="Ministry of Justice of Cambodia",
        country="KH",
        kind=AgencyKind.CENTRAL_AUTHORITY,
    )


@pytest.fixture
def moj_coordinator(kh_moj):
    return make_user(kh_moj, Role.COORDINATOR)


@pytest.fixture
def moj_investigator(kh_moj):
    return make_user(kh_moj, Role.INVESTIGATOR)


@pytest.fixture
def knp_investigator(knp):
    return make_user(knp, Role.INVESTIGATOR)


@pytest.fixture
def mla_draft(knp_coordinator, case, kh_moj):
    return draft(knp_coordinator, case, kh_moj)


@pytest.fixture
def in_state(mla_draft, knp_coordinator, moj_coordinator):
    """A factory: the draft driven along the table to a given state."""

    def build(state: str, request: MLARequest | None = None) -> MLARequest:
        return drive(
            request or mla_draft,
            path_to(state),
            requesting=knp_coordinator,
            requested=moj_coordinator,
        )

    return build
