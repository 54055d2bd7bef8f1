"""`POST /api/v1/cases/{id}/participants/bulk/`: share with several agencies at once."""

from __future__ import annotations

import uuid

import pytest

from audit.models import AuditEvent
from cases.models import Case, CaseGroupObjectPermission, CaseParticipation
from notifications.models import OutboxMessage
from tests.factories import make_agency

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_sync_margin")]


def _url(case) -> str:
    return f"/api/v1/cases/{case.public_id}/participants/bulk/"


def _state(case) -> tuple:
    return (
        Case.objects.get(pk=case.pk).version,
        tuple(CaseParticipation.objects.order_by("pk").values_list("pk", "revoked_at")),
        CaseGroupObjectPermission.objects.count(),
        OutboxMessage.objects.count(),
        AuditEvent.objects.exclude(action="permission_refused").count(),
    )


@pytest.fixture
def targets(db):
    return [make_agency(f"BA-{i}") for i in range(3)]


def test_bulk_share_answers_201_with_each_new_participation(api, case, knp_coordinator, targets):
    body = [
        {"agency": "BA-0", "level": "view"},
        {"agency": "BA-1", "level": "contribute"},
        {"agency": "BA-2", "level": "view", "confidential": True},
    ]
    response = api(knp_coordinator).post(_url(case), body, format="json")
    assert response.status_code == 201, response.content
    rows = response.json()
    assert [(r["agency"], r["level"], r["confidential"]) for r in rows] == [
        ("BA-0", "view", False),
        ("BA-1", "contribute", False),
        ("BA-2", "view", True),
    ]
    assert all(r["granted_by_agency"] == "KR-KNP" and r["active"] for r in rows)
    assert CaseParticipation.objects.filter(case=case, agency__in=targets).count() == 3


def test_bulk_share_with_a_bad_item_is_400_naming_it_and_changes_nothing(
    api, case, knp_coordinator, targets
):
    targets[1].active = False
    targets[1].save()
    before = _state(case)
    body = [
        {"agency": "BA-0", "level": "view"},
        {"agency": "BA-1", "level": "view"},
        {"agency": "BA-2", "level": "boss"},
    ]
    response = api(knp_coordinator).post(_url(case), body, format="json")
    assert response.status_code == 400, response.content
    fields = {e["field"] for e in response.json()["errors"]}
    assert "2.level" in fields
    assert _state(case) == before


def test_bulk_share_with_an_inactive_agency_is_400_naming_its_index(
    api, case, knp_coordinator, targets
):
    targets[1].active = False
    targets[1].save()
    before = _state(case)
    body = [{"agency": "BA-0", "level": "view"}, {"agency": "BA-1", "level": "view"}]
    response = api(knp_coordinator).post(_url(case), body, format="json")
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["1.agency"]
    assert _state(case) == before


@pytest.mark.parametrize("body", [[], {"agency": "BA-0", "level": "view"}, "BA-0", None])
def test_bulk_share_of_no_list_is_400(api, case, knp_coordinator, targets, body):
    before = _state(case)
    response = api(knp_coordinator).post(_url(case), body, format="json")
    assert response.status_code == 400, response.content
    assert _state(case) == before


def test_bulk_share_with_a_current_participant_is_409_naming_it(
    api, case, knp_coordinator, targets
):
    api(knp_coordinator).post(_url(case), [{"agency": "BA-1", "level": "view"}], format="json")
    before = _state(case)
    body = [{"agency": "BA-0", "level": "view"}, {"agency": "BA-1", "level": "view"}]
    response = api(knp_coordinator).post(_url(case), body, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["errors"][0]["field"] == "1.agency"
    assert _state(case) == before


def test_bulk_share_by_a_non_participating_agency_is_404_and_leaks_nothing(
    api, case, outsider, targets
):
    before = _state(case)
    body = [{"agency": "BA-0", "level": "view"}]
    hidden = api(outsider).post(_url(case), body, format="json")
    missing = api(outsider).post(
        f"/api/v1/cases/{uuid.uuid4()}/participants/bulk/", body, format="json"
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == missing.json()["detail"]
    assert str(case.public_id) not in hidden.content.decode()
    assert case.reference not in hidden.content.decode()
    assert _state(case) == before


def test_bulk_share_by_an_outsider_with_bad_input_is_still_404(api, case, outsider):
    response = api(outsider).post(_url(case), "nonsense", format="json")
    assert response.status_code == 404


def test_bulk_share_by_a_viewer_of_the_case_is_403(api, shared_case, kh_viewer, targets):
    before = _state(shared_case)
    body = [{"agency": "BA-0", "level": "view"}]
    response = api(kh_viewer).post(_url(shared_case), body, format="json")
    assert response.status_code == 403
    assert _state(shared_case) == before


def test_bulk_share_is_documented_with_its_list_body_and_errors():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/cases/{case_id}/participants/bulk/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert "200" in operation["description"]
    assert operation["responses"]["201"]["content"]["application/json"]["schema"]["type"] == (
        "array"
    )
    assert {"400", "403", "404", "409"} <= set(operation["responses"])
    assert "Location" not in operation["responses"]["201"].get("headers", {})


def test_bulk_share_request_queries_do_not_grow_with_the_number_of_agencies(api, knp_coordinator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_case

    counts = []
    for n, prefix in ((5, "QF"), (50, "QT")):
        case = make_case(knp_coordinator)
        body = [
            {"agency": make_agency(f"{prefix}-{i:02d}").code, "level": "view"} for i in range(n)
        ]
        client = api(knp_coordinator)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(_url(case), body, format="json")
        assert response.status_code == 201, response.content
        counts.append(len(captured))
    assert counts[0] == counts[1]
