"""The Network tab's export buttons and the import page of the admin."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Identifier, Transaction
from tests.admin_client import login

from .conftest import TRON_WALLET
from .helpers import unchanged

pytestmark = pytest.mark.django_db

HEADER = (
    "occurred_at,from_kind,from_value,from_bank_code,from_country,"
    "to_kind,to_value,to_chain,amount,currency\n"
)
GOOD = (
    "2025-03-01 14:05,bank_account,110-234-567890,088,KR,"
    f"crypto_wallet,{TRON_WALLET},tron,1520.5,USDT-TRC20\n"
)
BAD = (
    "2025-03-02 14:05,bank_account,110-234-567890,088,KR,"
    f"crypto_wallet,{TRON_WALLET},tron,abc,USDT-TRC20\n"
)


def _page(case) -> str:
    return reverse("admin:cases_transaction_import", args=[case.pk])


def _post(client, case, body: str, button: str = "import", **headers):
    return client.post(
        _page(case),
        {
            "file": SimpleUploadedFile("statement.csv", body.encode(), content_type="text/csv"),
            "handling_code": "AMBER",
            "handling_instruction": "H0",
            "handling_restriction": "",
            "time_zone": "Asia/Seoul",
            button: "1",
        },
        **headers,
    )


def test_the_network_tab_offers_the_exports_and_the_import(shared_case, kh_investigator):
    html = login(kh_investigator).get(reverse("admin:cases_case_change", args=[shared_case.pk]))
    content = html.content.decode()
    assert f"/api/v1/cases/{shared_case.public_id}/graphml/" in content
    assert f"/api/v1/cases/{shared_case.public_id}/network-csv/" in content
    assert f"/api/v1/cases/{shared_case.public_id}/stix/" in content
    assert _page(shared_case) in content


def test_a_viewer_is_offered_the_exports_but_not_the_import(shared_case, kh_viewer):
    content = (
        login(kh_viewer)
        .get(reverse("admin:cases_case_change", args=[shared_case.pk]))
        .content.decode()
    )
    assert "cb-export-graphml" in content and _page(shared_case) not in content


def test_an_import_records_the_file_and_reports_it(shared_case, knp_coordinator):
    response = _post(login(knp_coordinator), shared_case, HEADER + GOOD)
    assert response.status_code == 200
    assert 'id="cb-import-report"' in response.content.decode()
    assert Transaction.objects.filter(case=shared_case).count() == 1


def test_a_check_shows_the_preview_and_records_nothing(shared_case, knp_coordinator):
    client = login(knp_coordinator)
    with unchanged():
        response = _post(client, shared_case, HEADER + GOOD, button="check")
    content = response.content.decode()
    assert 'id="cb-import-preview"' in content and TRON_WALLET in content
    assert not Identifier.objects.filter(case=shared_case).exists()


def test_rejected_rows_are_listed_and_nothing_is_recorded(shared_case, knp_coordinator):
    client = login(knp_coordinator)
    with unchanged():
        response = _post(
            client, shared_case, HEADER + GOOD + BAD,
            HTTP_X_REQUESTED_WITH="XMLHttpRequest",
        )  # fmt: skip
    content = response.content.decode()
    assert "<html" not in content  # the fragment the script swaps in
    assert 'id="cb-import-rejected"' in content
    assert "<td>3</td><td><code>amount</code></td>" in content
    assert not Identifier.objects.filter(case=shared_case).exists()


def test_a_wrong_header_is_a_form_error(shared_case, knp_coordinator):
    client = login(knp_coordinator)
    with unchanged():
        response = _post(client, shared_case, "date,amount\n1,2\n")
    assert 'id="cb-import-errors"' in response.content.decode()


def test_an_outsider_gets_404(shared_case, outsider):
    client = login(outsider)
    assert client.get(_page(shared_case)).status_code == 404
    with unchanged():
        assert _post(client, shared_case, HEADER + GOOD).status_code == 404


def test_a_read_only_participant_gets_403(shared_case, kh_viewer):
    client = login(kh_viewer)
    with unchanged():
        assert _post(client, shared_case, HEADER + GOOD).status_code == 403
