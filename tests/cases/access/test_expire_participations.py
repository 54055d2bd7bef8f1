"""The expiry job: ends what is due, drops its grants, counts, and leaves the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases import access, services
from cases.choices import AccessLevel
from cases.models import CaseGroupObjectPermission, CaseParticipation
from tests.factories import make_agency, pass_expiry


@pytest.fixture
def timed(world, knp_coordinator, thcc):
    """KH-CCOS expires in 1 hour, TH-CCIB in 3 hours; KR-KNP (lead) never."""
    now = timezone.now()
    ccos = services.change_access(
        actor=knp_coordinator,
        participation=world.ccos_participation,
        expires_at=now + dt.timedelta(hours=1),
    )
    th = services.share_case(
        actor=knp_coordinator,
        case=world.case,
        agency=thcc,
        level=AccessLevel.VIEW,
        expires_at=now + dt.timedelta(hours=3),
    )
    return now, ccos, th


def _grants(case, agency):
    return CaseGroupObjectPermission.objects.filter(content_object=case, group_id=agency.group_id)


def test_nothing_due_nothing_changed(world, timed):
    now, _, _ = timed
    assert services.expire_participations(now=now) == 0
    assert CaseParticipation.objects.filter(revoked_at__isnull=False).count() == 0


def test_due_participation_is_ended_and_its_grants_removed(world, timed):
    now, ccos, _ = timed
    assert _grants(world.case, world.ccos).exists()
    count = services.expire_participations(now=now + dt.timedelta(hours=2))
    assert count == 1
    ccos.refresh_from_db()
    assert ccos.revoked_at == now + dt.timedelta(hours=2)
    assert ccos.end_reason == CaseParticipation.EndReason.EXPIRED
    assert not _grants(world.case, world.ccos).exists()


def test_participations_not_yet_due_are_left_alone(world, timed):
    now, _, th = timed
    services.expire_participations(now=now + dt.timedelta(hours=2))
    th.refresh_from_db()
    assert th.revoked_at is None
    assert access.agency_level(th.agency, world.case) == AccessLevel.VIEW
    assert access.agency_level(world.knp, world.case) == AccessLevel.MANAGE


def test_second_run_finds_nothing(world, timed):
    now, _, _ = timed
    later = now + dt.timedelta(hours=4)
    assert services.expire_participations(now=later) == 2
    assert services.expire_participations(now=later) == 0


def test_other_cases_grants_of_the_same_agency_survive(world, timed, knp_coordinator):
    now, _, _ = timed
    other = services.create_case(actor=knp_coordinator, title="Second case")
    services.share_case(actor=knp_coordinator, case=other, agency=world.ccos, level="view")
    services.expire_participations(now=now + dt.timedelta(hours=2))
    assert access.agency_level(world.ccos, other) == AccessLevel.VIEW


def test_agency_can_be_shared_again_after_expiry(world, timed, knp_coordinator, kh_viewer):
    now, _, _ = timed
    services.expire_participations(now=now + dt.timedelta(hours=2))
    assert not access.visible_cases(kh_viewer).exists()
    services.share_case(actor=knp_coordinator, case=world.case, agency=world.ccos, level="view")
    assert list(access.visible_cases(kh_viewer)) == [world.case]


def test_unswept_expired_participation_is_replaced_on_re_share(world, knp_coordinator):
    """Sharing again before the job ran ends the stale record first."""
    agency = make_agency("INTERPOL", country="INT", kind="international")
    old = services.share_case(
        actor=knp_coordinator,
        case=world.case,
        agency=agency,
        level=AccessLevel.VIEW,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    pass_expiry(world.case, agency)
    new = services.share_case(
        actor=knp_coordinator, case=world.case, agency=agency, level=AccessLevel.CONTRIBUTE
    )
    old.refresh_from_db()
    assert old.end_reason == CaseParticipation.EndReason.EXPIRED
    assert access.agency_level(agency, world.case) == AccessLevel.CONTRIBUTE
    assert new.is_active
