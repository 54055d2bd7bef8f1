"""The benchmarks run, at a tiny size, and their data is what the app accepts.

The generator writes rows with COPY rather than through the services, so
these tests check the app's own selectors and audit verifier against the
generator's independent record of who should see what. No timings here:
the figures are in bench/README.md.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from audit.services import verify_chain
from cases import access
from cases.models import Case

pytestmark = pytest.mark.django_db

AGENCIES, CASES = 5, 300


@pytest.fixture
def world(settings):
    settings.DECONFLICTION_HMAC_KEY = "test-deconfliction-key"
    from bench import generate

    return generate.generate(
        agencies=AGENCIES, cases=CASES, users=40, batch=100, keep_expected=True, quiet=True
    )


def _member(agency_id):
    return (
        get_user_model()
        .objects.filter(membership__agency_id=agency_id, membership__role="viewer")
        .first()
    )


def test_every_agency_sees_exactly_the_cases_the_generator_shared_with_it(world):
    assert Case.objects.count() == CASES
    for agency in world.agencies:
        user = _member(agency["id"])
        visible = set(access.visible_cases(user).values_list("id", flat=True))
        assert visible == world.expected.get(agency["id"], set()), agency["code"]


def test_generated_shares_include_ones_the_selector_must_hide(world):
    """Revoked and expired-but-unswept participations exist, so the check above bites."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FILTER (WHERE revoked_at IS NOT NULL),"
            " COUNT(*) FILTER (WHERE revoked_at IS NULL AND expires_at < now())"
            " FROM cases_caseparticipation"
        )
        revoked, expired = cursor.fetchone()
    assert revoked > 0 and expired > 0


def test_generated_rows_reference_existing_rows(world):
    """Foreign keys are not checked during the COPY: check the main ones here."""
    checks = [
        "SELECT COUNT(*) FROM cases_caseparticipation p"
        " LEFT JOIN cases_case c ON c.id = p.case_id WHERE c.id IS NULL",
        "SELECT COUNT(*) FROM cases_caseparticipation p"
        " LEFT JOIN agencies_agency a ON a.id = p.agency_id WHERE a.id IS NULL",
        "SELECT COUNT(*) FROM cases_casegroupobjectpermission g"
        " LEFT JOIN cases_case c ON c.id = g.content_object_id WHERE c.id IS NULL",
        "SELECT COUNT(*) FROM cases_note n"
        " LEFT JOIN auth_user u ON u.id = n.author_id WHERE u.id IS NULL",
        "SELECT COUNT(*) FROM cases_task t"
        " LEFT JOIN cases_case c ON c.id = t.case_id WHERE c.id IS NULL",
    ]
    with connection.cursor() as cursor:
        for sql in checks:
            cursor.execute(sql)
            assert cursor.fetchone()[0] == 0, sql


def test_generated_audit_chain_verifies(world):
    result = verify_chain()
    assert result.ok, result


def test_case_page_benchmark_runs_and_its_plans_scan_no_grant_table(world, settings, capsys):
    """The benchmark's own assertions (raw SQL returns the API's ids, every
    request succeeds) hold, and it prints its table; exit status 0 means no
    production plan scanned the grant or participation table sequentially."""
    from bench import cases_page

    settings.ROOT_URLCONF = "bench.cases_page"
    status = cases_page.main(["--users", "3", "--runs", "2", "--share-many", "5"])
    out = capsys.readouterr().out
    assert "1. case page (50) end-to-end p50" in out
    assert "5. queries, share 50 + revoke 49" in out
    assert status == 0, out
