"""One error shape for every 4xx/5xx: RFC 9457 problem details."""

import pytest

from cases.models import Case

pytestmark = pytest.mark.usefixtures("_no_sync_margin")

PROBLEM = "application/problem+json"


def test_unauthenticated_request_is_401_with_bearer_challenge(api, case):
    response = api().get("/api/v1/cases/")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "not_authenticated"


def test_validation_error_lists_field_errors(api, knp_coordinator):
    response = api(knp_coordinator).post(
        "/api/v1/cases/", {"title": "", "crime_types": ["nope"]}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:casebridge:problem:invalid"
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"title", "crime_types.0"}
    assert Case.objects.count() == 0


def test_service_validation_error_keeps_its_field(api, knp_coordinator):
    response = api(knp_coordinator).post(
        "/api/v1/cases/", {"title": "T", "handling_instruction": "H3"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "handling_restriction"
    assert Case.objects.count() == 0


def test_illegal_transition_is_409(api, case, knp_coordinator):
    response = api(knp_coordinator).post(
        f"/api/v1/cases/{case.public_id}/status/",
        {"status": "archived"},
        format="json",
        HTTP_IF_MATCH=f'"{case.version}"',
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_malformed_id_is_404_not_500(api, knp_coordinator):
    response = api(knp_coordinator).get("/api/v1/cases/not-a-uuid/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_unknown_api_path_is_a_problem_404(api, knp_coordinator):
    response = api(knp_coordinator).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_found"


def test_delete_on_a_case_is_405(api, case, knp_coordinator):
    response = api(knp_coordinator).delete(f"/api/v1/cases/{case.public_id}/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert Case.objects.filter(pk=case.pk).exists()


def test_user_without_agency_is_403(api, django_user_model):
    user = django_user_model.objects.create_user("platform-admin", is_superuser=True)
    response = api(user).get("/api/v1/cases/")
    assert response.status_code == 403
