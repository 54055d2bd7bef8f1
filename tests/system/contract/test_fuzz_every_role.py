"""Schemathesis with every check, as every role, on every operation.

Viewer, investigator and coordinator call as partner systems (bearer
tokens); the agency administrator, who has no API token, with a signed-in
session. Each answer must pass all of schemathesis' checks (no 5xx, status,
content type, headers and body as documented, auth not ignored…) and every
error must be RFC 9457 problem details. Real ids are mixed in so that detail
endpoints are exercised past the 404.

One test per role walks every operation in the same database (a fresh
database per operation would cost most of CI's budget in flushes), with a
few examples each: tests/config/api/test_schema.py goes deeper as one coordinator.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.middleware.csrf import get_token
from django.test import Client as DjangoClient
from django.test import RequestFactory
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from agencies.tokens import issue_api_token
from cases.models import CaseParticipation
from gate.roles import Role
from tests.factories import make_document, make_network, make_user

pytestmark = pytest.mark.django_db(transaction=True)

# A tus chunk (PATCH /uploads/{id}/) is raw bytes in its own media type.
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))
SCHEMA = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
EXAMPLES_PER_OPERATION = 2
REAL_IDS: dict[str, list[str]] = {}
PROBLEM = "application/problem+json"
# Every check but one: "a schema-valid request is accepted" cannot hold for
# rules a JSON Schema does not express (an opaque cursor, a completeness
# rule, an illegal transition): those are 400/409 problem details, which the
# other checks verify are documented and well-formed.
EXCLUDED_CHECKS = [positive_data_acceptance]


@SCHEMA.hook
def flatmap_path_parameters(context, path_parameters):
    """Mix real ids in, so detail endpoints are exercised past the 404."""

    def maybe_real(choice: tuple[bool, int]) -> dict:
        use_real, index = choice
        if not use_real or not REAL_IDS or not path_parameters:
            return path_parameters
        path = context.operation.path if context.operation else ""
        mapped = dict(path_parameters)
        if "case_id" in mapped:
            mapped["case_id"] = REAL_IDS["cases"][0]
        if "id" in mapped:
            kind = path.rsplit("/{id}", 1)[0].rsplit("/", 1)[-1]
            if kind in REAL_IDS:
                mapped["id"] = REAL_IDS[kind][index % len(REAL_IDS[kind])]
        return mapped

    return st.tuples(st.booleans(), st.integers(0, 7)).map(maybe_real)


def errors_are_problem_details(ctx, response, case) -> bool | None:
    """Every 4xx/5xx is `application/problem+json` (never an HTML page)."""
    if response.status_code >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]
        assert content_type.startswith(PROBLEM), (
            f"{response.status_code} answered as {content_type!r}, not problem details"
        )
    return None


def _session_headers(user) -> dict[str, str]:
    """An agency administrator's signed-in session (they get no API token)."""
    browser = DjangoClient()
    browser.force_login(user)
    request = RequestFactory().get("/")
    csrf = get_token(request)
    session = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    return {
        "Cookie": (
            f"{django_settings.SESSION_COOKIE_NAME}={session}; "
            f"{django_settings.CSRF_COOKIE_NAME}={request.META['CSRF_COOKIE']}"
        ),
        "X-CSRFToken": csrf,
    }


@pytest.fixture(params=[Role.VIEWER, Role.INVESTIGATOR, Role.COORDINATOR, Role.AGENCY_ADMIN])
def caller(request, settings, tmp_path, shared_case, task, note, knp, knp_coordinator):
    settings.API_THROTTLE_RATE = ""
    settings.API_ANON_THROTTLE_RATE = ""
    settings.API_SYNC_CLOCK_MARGIN = 0
    settings.MEDIA_ROOT = tmp_path
    document = make_document(knp_coordinator, shared_case)
    if request.param == Role.AGENCY_ADMIN:
        headers = _session_headers(make_user(knp, Role.AGENCY_ADMIN))
    else:
        _token, plaintext = issue_api_token(agency=knp, role=request.param, name="fuzz")
        headers = {"Authorization": f"Bearer {plaintext}"}
    participation = CaseParticipation.objects.filter(case=shared_case).first()
    REAL_IDS.clear()
    REAL_IDS.update(
        {
            "cases": [str(shared_case.public_id)],
            "tasks": [str(task.public_id)],
            "notes": [str(note.public_id)],
            "documents": [str(document.public_id)],
            "participants": [str(participation.public_id)],
            "agencies": [str(knp.public_id)],
        }
    )
    REAL_IDS.update(make_network(knp_coordinator, shared_case))
    # Connection: close: no keep-alive sockets left for the live server to wait on.
    yield {**headers, "Connection": "close"}
    REAL_IDS.clear()


def test_every_role_gets_only_documented_answers_and_problem_details(live_server, caller):
    failures, took = [], {}
    for result in SCHEMA.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case):
            case.call_and_validate(
                base_url=live_server.url,
                headers=caller,
                additional_checks=[errors_are_problem_details],
                excluded_checks=EXCLUDED_CHECKS,
            )

        started = time.monotonic()
        try:
            fuzz()
        except Exception as exc:  # collect them all: one report per role
            failures.append(f"{operation.label}: {exc}")
        took[operation.label] = round(time.monotonic() - started, 2)
    print("fuzzed", len(took), "operations in", round(sum(took.values()), 1), "s")
    assert not failures, "\n\n".join(failures)
