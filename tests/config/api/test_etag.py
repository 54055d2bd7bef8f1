"""Optimistic concurrency: ETag on object responses, 412 on a stale If-Match."""

import pytest

from cases.models import Case, CaseParticipation

pytestmark = pytest.mark.usefixtures("_no_sync_margin")


def _url(case):
    return f"/api/v1/cases/{case.public_id}/"


def test_case_response_carries_its_version_as_etag(api, case, knp_coordinator):
    response = api(knp_coordinator).get(_url(case))
    assert response["ETag"] == '"1"'


def test_patch_with_current_etag_succeeds_and_returns_new_etag(api, case, knp_coordinator):
    response = api(knp_coordinator).patch(
        _url(case), {"title": "Renamed"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200, response.json()
    assert response["ETag"] == '"2"'
    assert response.json()["title"] == "Renamed"


def test_patch_with_stale_etag_is_412_and_changes_nothing(api, case, knp_coordinator):
    client = api(knp_coordinator)
    client.patch(_url(case), {"title": "First edit"}, format="json", HTTP_IF_MATCH='"1"')
    response = client.patch(
        _url(case), {"title": "Lost update"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    case.refresh_from_db()
    assert (case.title, case.version) == ("First edit", 2)


def test_put_with_stale_etag_is_412(api, case, knp_coordinator):
    response = api(knp_coordinator).put(
        _url(case), {"title": "Lost update"}, format="json", HTTP_IF_MATCH='"7"'
    )
    assert response.status_code == 412
    assert Case.objects.get(pk=case.pk).title != "Lost update"


def test_weak_etag_never_matches_if_match(api, case, knp_coordinator):
    """RFC 9110: If-Match uses strong comparison."""
    response = api(knp_coordinator).patch(
        _url(case), {"title": "X"}, format="json", HTTP_IF_MATCH='W/"1"'
    )
    assert response.status_code == 412


def test_if_match_star_accepts_any_version(api, case, knp_coordinator):
    response = api(knp_coordinator).patch(
        _url(case), {"title": "X"}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 200


def test_status_change_with_stale_etag_is_412(api, case, knp_coordinator):
    response = api(knp_coordinator).post(
        f"{_url(case)}status/", {"status": "active"}, format="json", HTTP_IF_MATCH='"0"'
    )
    assert response.status_code == 412
    case.refresh_from_db()
    assert case.status == "open"


def test_revoke_with_stale_etag_is_412_and_keeps_access(api, shared_case, knp_coordinator):
    participation = CaseParticipation.objects.get(case=shared_case, agency__code="KH-CCOS")
    url = f"/api/v1/cases/{shared_case.public_id}/participants/{participation.public_id}/"
    response = api(knp_coordinator).delete(url, HTTP_IF_MATCH='"99"')
    assert response.status_code == 412
    participation.refresh_from_db()
    assert participation.revoked_at is None


def test_revoke_with_current_etag_ends_access(api, shared_case, knp_coordinator):
    participation = CaseParticipation.objects.get(case=shared_case, agency__code="KH-CCOS")
    url = f"/api/v1/cases/{shared_case.public_id}/participants/{participation.public_id}/"
    etag = api(knp_coordinator).get(url)["ETag"]
    response = api(knp_coordinator).delete(url, HTTP_IF_MATCH=etag)
    assert response.status_code == 204
    participation.refresh_from_db()
    assert participation.revoked_at is not None


def test_stale_write_after_concurrent_change_is_refused_by_the_service(api, case, knp_coordinator):
    """The view's check passes, but the row changed before the service locked it."""
    from cases import services

    client = api(knp_coordinator)
    etag = client.get(_url(case))["ETag"]
    services.update_case(actor=knp_coordinator, case=case, title="Concurrent edit")
    response = client.patch(_url(case), {"title": "Mine"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    case.refresh_from_db()
    assert case.title == "Concurrent edit"
