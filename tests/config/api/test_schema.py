"""The OpenAPI schema is valid, and the live API keeps to it.

schemathesis generates requests from the schema (at least 50 per operation)
and sends them to the live test server as a partner system's token; every
response must be documented (status, content type, headers, body) and none
may be a 5xx. Random ids are mixed with real ones so detail endpoints are
exercised past the 404.
"""

from __future__ import annotations

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agencies.tokens import issue_api_token
from cases.models import CaseParticipation
from tests.factories import make_network, make_user

pytestmark = pytest.mark.usefixtures("_no_sync_margin")

# The resumable upload's chunks (`PATCH /uploads/{id}/`) are raw bytes.
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))
RAW_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(RAW_SCHEMA)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 50

# Real ids of the current test's world, read by the hook at generation time.
REAL_IDS: dict[str, list[str]] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    def maybe_real(choice: tuple[bool, int]) -> dict:
        use_real, index = choice
        if not use_real or not REAL_IDS or not path_parameters:
            return path_parameters
        path = context.operation.path if context.operation else ""
        mapped = dict(path_parameters)
        if "case_id" in mapped:
            mapped["case_id"] = REAL_IDS["cases"][0]
        if "id" in mapped:
            kind = path.rsplit("/{id}", 1)[0].rsplit("/", 1)[-1]  # e.g. "tasks"
            if kind in REAL_IDS:
                mapped["id"] = REAL_IDS[kind][index % len(REAL_IDS[kind])]
        return mapped

    return st.tuples(st.booleans(), st.integers(0, 7)).map(maybe_real)


def test_schema_is_valid_openapi():
    validate(RAW_SCHEMA)


def test_every_operation_documents_its_errors():
    for path, operations in RAW_SCHEMA["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429", "500"} <= codes, (method, path)
            if "{id}" in path:
                assert "404" in codes, (method, path)
            if method in ("put", "patch", "delete"):
                assert "412" in codes, (method, path)


@pytest.fixture
def partner(
    transactional_db, settings, shared_case, task, note, knp, knp_coordinator, kh_coordinator
):
    """A KR-KNP coordinator API client, on a case shared with KH-CCOS."""
    settings.API_THROTTLE_RATE = ""
    settings.API_SYNC_CLOCK_MARGIN = 0
    make_user(knp, "investigator")
    _, plaintext = issue_api_token(agency=knp, role="coordinator", name="Schemathesis")
    participation = CaseParticipation.objects.filter(case=shared_case).first()
    REAL_IDS.clear()
    REAL_IDS.update(
        {
            "tasks": [str(task.public_id)],
            "notes": [str(note.public_id)],
            "participants": [str(participation.public_id)],
            "cases": [str(shared_case.public_id)],
            "agencies": [str(knp.public_id)],
        }
    )
    REAL_IDS.update(make_network(knp_coordinator, shared_case))
    # Connection: close: no keep-alive sockets left for the live server to wait on.
    yield {"Authorization": f"Bearer {plaintext}", "Connection": "close"}
    REAL_IDS.clear()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_live_api_conforms_to_its_schema(case, live_server, partner):
    case.call_and_validate(base_url=live_server.url, headers=partner, checks=CHECKS)


def test_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
