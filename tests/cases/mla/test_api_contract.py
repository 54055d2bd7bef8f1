"""The OpenAPI document tells the truth where generated clients once crashed.

Each response is fetched over HTTP from the live server and validated against
the operation's documented response schema by schemathesis (the check a
generated client's parser amounts to).
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator

from agencies.tokens import issue_api_token
from cases import deconfliction
from cases.models import Identifier
from tests.factories import make_document

from .helpers import draft

pytestmark = pytest.mark.django_db(transaction=True)

RAW = SchemaGenerator().get_schema(request=None, public=True)
SCHEMA = schemathesis.openapi.from_dict(RAW)


@pytest.fixture
def http(live_server, knp, settings):
    settings.API_THROTTLE_RATE = ""
    _, token = issue_api_token(agency=knp, role="coordinator", name="contract")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def call(method: str, template: str, path: str, **kwargs) -> requests.Response:
        response = session.request(method, live_server.url + path, timeout=30, **kwargs)
        SCHEMA[template][method.upper()].validate_response(response)
        return response

    return call


def test_a_draft_without_follow_up_parses_with_follow_up_null(http, knp_coordinator, case, kh_moj):
    request = draft(knp_coordinator, case, kh_moj)
    body = http("get", "/api/v1/mla-requests/{id}/", f"/api/v1/mla-requests/{request.public_id}/")
    assert body.json()["follow_up"] is None


def test_history_is_documented_as_the_list_it_returns(http, knp_coordinator, case, kh_moj):
    request = draft(knp_coordinator, case, kh_moj)
    response = http(
        "get",
        "/api/v1/mla-requests/{id}/history/",
        f"/api/v1/mla-requests/{request.public_id}/history/",
    )
    assert isinstance(response.json(), list)


@pytest.mark.parametrize("verb", ["refuse", "request-more-info", "provide-info", "submit"])
def test_every_transition_documents_its_comment_body(verb):
    operation = RAW["paths"][f"/api/v1/mla-requests/{{id}}/{verb}/"]["post"]
    body = operation["requestBody"]["content"]
    assert list(body) == ["application/json"]
    assert body["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TransitionInputRequest"
    }
    assert operation["summary"].startswith(verb)


def test_custody_is_documented_as_the_report_it_returns(http, knp_coordinator, case):
    doc = make_document(knp_coordinator, case)
    response = http(
        "get", "/api/v1/documents/{id}/custody/", f"/api/v1/documents/{doc.public_id}/custody/"
    )
    assert set(response.json()) == {"document", "events"}
    operation = RAW["paths"]["/api/v1/documents/{id}/custody/"]["get"]
    assert [p["name"] for p in operation["parameters"] if p["in"] != "header"] == ["id"]


def test_download_takes_one_body_format(http, knp_coordinator, case):
    operation = RAW["paths"]["/api/v1/documents/{id}/download/"]["post"]
    assert list(operation["requestBody"]["content"]) == ["application/json"]
    doc = make_document(knp_coordinator, case, handling_code="AMBER")
    response = http(
        "post",
        "/api/v1/documents/{id}/download/",
        f"/api/v1/documents/{doc.public_id}/download/",
        json={"purpose": "Contract test"},
    )
    assert response.status_code == 200


def test_a_phone_identifier_with_no_chain_parses(http, knp_coordinator, case):
    deconfliction.add_identifier(
        actor=knp_coordinator, case=case, kind="phone", value="+855 12 345 678"
    )
    identifier = Identifier.objects.get()
    response = http(
        "get", "/api/v1/identifiers/{id}/", f"/api/v1/identifiers/{identifier.public_id}/"
    )
    assert response.json()["chain"] == ""
