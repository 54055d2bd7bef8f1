"""Sync that tells about loss of access: `GET /api/v1/cases/tombstones/`.

A partner whose agency loses a case (revoked, expired, handed away) finds it
there in its next sync, as the case's id and a time, and nothing else; an
agency that never saw the case, or still sees it, finds nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases import services
from cases.choices import AccessLevel
from cases.models import CaseParticipation, CaseTombstone
from notifications.models import OutboxMessage
from tests.factories import make_agency, make_user, pass_expiry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]

URL = "/api/v1/cases/tombstones/"


def _participation(case, agency):
    return CaseParticipation.objects.get(case=case, agency=agency, revoked_at__isnull=True)


def _revoke(case, agency, actor):
    services.revoke_case(actor=actor, participation=_participation(case, agency))


def _tombstones(client, **params) -> list[dict]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_revoked_agency_finds_the_case_in_its_tombstones_with_id_and_time_only(
    api, shared_case, knp_coordinator, ccos, kh_investigator
):
    before = timezone.now()
    _revoke(shared_case, ccos, knp_coordinator)

    [tombstone] = _tombstones(api(kh_investigator))
    assert set(tombstone) == {"id", "case", "at"}
    assert tombstone["case"] == str(shared_case.public_id)
    assert dt.datetime.fromisoformat(tombstone["at"]) >= before
    client = api(kh_investigator)
    assert client.get(f"/api/v1/cases/{shared_case.public_id}/").status_code == 404
    assert client.get(f"{URL}{tombstone['id']}/").json() == tombstone


def test_only_the_agency_that_lost_access_gets_a_tombstone(
    api, shared_case, knp_coordinator, ccos, kh_investigator, outsider
):
    thai = make_agency("TH-CCIB", country="TH")
    services.share_case(actor=knp_coordinator, case=shared_case, agency=thai, level="view")
    _revoke(shared_case, ccos, knp_coordinator)

    assert len(_tombstones(api(kh_investigator))) == 1
    assert _tombstones(api(knp_coordinator)) == []  # the lead still sees it
    assert _tombstones(api(make_user(thai))) == []  # still shared with it
    assert _tombstones(api(outsider)) == []  # never saw it


def test_another_agencys_tombstone_is_404(
    api, shared_case, knp_coordinator, ccos, kh_investigator, outsider
):
    _revoke(shared_case, ccos, knp_coordinator)
    tombstone = CaseTombstone.objects.get()
    assert api(outsider).get(f"{URL}{tombstone.public_id}/").status_code == 404


def test_an_expired_share_leaves_a_tombstone_when_swept(
    api, case, knp_coordinator, ccos, kh_investigator
):
    services.share_case(
        actor=knp_coordinator,
        case=case,
        agency=ccos,
        level="view",
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    # An hour later (the expiry job's clock stays the real one: the feed
    # lists nothing stamped in the future).
    pass_expiry(case, ccos)
    assert _tombstones(api(kh_investigator)) == []

    assert services.expire_participations() == 1

    [tombstone] = _tombstones(api(kh_investigator))
    assert tombstone["case"] == str(case.public_id)


def test_a_lead_that_hands_over_and_leaves_gets_a_tombstone(
    api, shared_case, knp_coordinator, ccos
):
    services.hand_over_case(actor=knp_coordinator, case=shared_case, new_lead=ccos, keep_level=None)
    [tombstone] = _tombstones(api(knp_coordinator))
    assert tombstone["case"] == str(shared_case.public_id)


def test_a_lead_that_hands_over_and_stays_gets_none(api, shared_case, knp_coordinator, ccos):
    services.hand_over_case(
        actor=knp_coordinator, case=shared_case, new_lead=ccos, keep_level=AccessLevel.VIEW
    )
    assert _tombstones(api(knp_coordinator)) == []


def test_sharing_again_removes_the_tombstone_and_the_case_is_back_in_the_feed(
    api, shared_case, knp_coordinator, ccos, kh_investigator
):
    _revoke(shared_case, ccos, knp_coordinator)
    services.share_case(actor=knp_coordinator, case=shared_case, agency=ccos, level="view")

    client = api(kh_investigator)
    assert _tombstones(client) == []
    ids = [row["id"] for row in client.get("/api/v1/cases/").json()["results"]]
    assert str(shared_case.public_id) in ids


def test_losing_a_case_again_moves_its_one_tombstone(
    api, shared_case, knp_coordinator, ccos, kh_investigator
):
    _revoke(shared_case, ccos, knp_coordinator)
    first = _tombstones(api(kh_investigator))[0]
    services.share_case(actor=knp_coordinator, case=shared_case, agency=ccos, level="view")
    _revoke(shared_case, ccos, knp_coordinator)

    [again] = _tombstones(api(kh_investigator))
    assert again["case"] == first["case"]
    assert again["at"] > first["at"]


def test_a_refused_revoke_leaves_no_tombstone(api, shared_case, knp_coordinator, ccos):
    participation = _participation(shared_case, ccos)
    url = f"/api/v1/cases/{shared_case.public_id}/participants/{participation.public_id}/"
    response = api(knp_coordinator).delete(url, HTTP_IF_MATCH='"99"')
    assert response.status_code == 412
    assert not CaseTombstone.objects.exists()
    assert not OutboxMessage.objects.filter(event_type="case.access_revoked").exists()


def test_the_tombstone_feed_syncs_by_cursor_and_since(api, knp_coordinator, ccos, kh_investigator):
    from tests.factories import make_case

    cases = [make_case(knp_coordinator, title=f"Case {n}") for n in range(3)]
    for case in cases:
        services.share_case(actor=knp_coordinator, case=case, agency=ccos, level="view")
    for case in cases[:2]:
        _revoke(case, ccos, knp_coordinator)

    client = api(kh_investigator)
    page = client.get(URL, {"page_size": 1}).json()
    assert len(page["results"]) == 1 and page["next"]
    rest = client.get(page["next"]).json()
    assert [r["case"] for r in page["results"] + rest["results"]] == [
        str(c.public_id) for c in cases[:2]
    ]
    # Polling the stored `resume` later gives only what was lost since.
    _revoke(cases[2], ccos, knp_coordinator)
    later = client.get(rest["resume"]).json()["results"]
    assert [r["case"] for r in later] == [str(cases[2].public_id)]
    since = later[0]["at"]
    assert [r["case"] for r in _tombstones(client, since=since)] == [str(cases[2].public_id)]


def test_losing_access_emits_case_access_revoked_with_ids_only(shared_case, knp_coordinator, ccos):
    _revoke(shared_case, ccos, knp_coordinator)

    message = OutboxMessage.objects.get(event_type="case.access_revoked")
    tombstone = CaseTombstone.objects.get()
    assert message.object_type == "case_tombstone"
    assert message.object_id == tombstone.public_id
    assert message.payload["ids"] == {"case": str(shared_case.public_id), "agency": "KH-CCOS"}
