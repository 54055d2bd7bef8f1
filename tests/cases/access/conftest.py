"""A fuller world for the access tests (the gate, sharing, visibility).

`world` is the standard `case` led by KR-KNP, shared with KH-CCOS at
`manage` (the strongest grant, so a denial can only come from the gate's
visibility rules, never from a weak level), with one task and one note per
agency.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from agencies.models import Agency
from cases import services
from cases.choices import AccessLevel
from cases.models import Case, CaseParticipation, Note, Task
from gate.roles import Role
from tests.factories import make_agency, make_user


@dataclass
class World:
    case: Case
    knp: Agency
    ccos: Agency
    third: Agency
    knp_participation: CaseParticipation
    ccos_participation: CaseParticipation
    knp_task: Task
    ccos_task: Task
    knp_note: Note
    ccos_note: Note


@pytest.fixture
def thcc(db):
    return make_agency("TH-CCIB", name="Cyber Crime Investigation Bureau", country="TH")


@pytest.fixture
def world(case, knp, ccos, thcc, knp_coordinator, kh_coordinator) -> World:
    ccos_participation = services.share_case(
        actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.MANAGE
    )
    knp_task = services.create_task(
        actor=knp_coordinator, case=case, title="Freeze accounts", assigned_agency=knp
    )
    ccos_task = services.create_task(
        actor=knp_coordinator, case=case, title="Raid compound", assigned_agency=ccos
    )
    knp_note = services.add_note(
        actor=knp_coordinator, case=case, body="Victims interviewed.", handling_code="GREEN"
    )
    ccos_note = services.add_note(
        actor=kh_coordinator, case=case, body="Compound located.", handling_code="GREEN"
    )
    case.refresh_from_db()
    return World(
        case=case,
        knp=knp,
        ccos=ccos,
        third=thcc,
        knp_participation=CaseParticipation.objects.get(case=case, agency=knp),
        ccos_participation=ccos_participation,
        knp_task=knp_task,
        ccos_task=ccos_task,
        knp_note=knp_note,
        ccos_note=ccos_note,
    )


@pytest.fixture
def knp_investigator(knp):
    return make_user(knp, Role.INVESTIGATOR)


@pytest.fixture
def kh_admin(ccos):
    return make_user(ccos, Role.AGENCY_ADMIN)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """PBKDF2 costs ~0.3 s per persona on this machine; these tests check
    access, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
