"""Importing a bank statement and exporting the network, in real Chromium.

KR-KNP's investigator opens the case's Network tab, follows "Import
transactions from CSV", checks a statement with a bad row (the report names
the row and the column; nothing is recorded), checks and imports the
corrected file (progress bar, report), goes back to the tab and downloads
the GraphML and CSV exports. The import page is also shown in Khmer and
Korean. Screenshots go to test-results/admin-browser/.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from cases import services
from cases.choices import AccessLevel
from cases.models import Transaction
from gate.roles import Role
from tests.browser import Session
from tests.factories import make_agency, make_case, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WALLET = "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"
HEADER = (
    "occurred_at,from_kind,from_value,from_bank_code,from_country,"
    "to_kind,to_value,to_chain,amount,currency,reference\n"
)
GOOD = [
    f"2025-03-01 14:05,bank_account,110-234-567890,088,KR,crypto_wallet,{WALLET},tron,"
    '"25,000,000",KRW,KB-0042\n',
    f"2025-03-02 09:30,bank_account,110-234-567890,088,KR,crypto_wallet,{WALLET},tron,"
    "1520.5,USDT-TRC20,0x5b1d\n",
]
BAD = f"2025-03-03 10:00,bank_account,110-234-567890,088,KR,crypto_wallet,{WALLET},tron,-7,KRW,X\n"


@pytest.fixture
def world(db):
    knp = make_agency(
        "KR-KNP", name="Korean National Police Agency", country="KR", timezone="Asia/Seoul"
    )
    ccos = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    lead = make_user(knp, Role.COORDINATOR, "knp.coordinator")
    case = make_case(lead, title="Golden Fortune compound")
    services.share_case(actor=lead, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    return {"case": case, "investigator": make_user(knp, Role.INVESTIGATOR, "knp.investigator")}


def _choose(page, name: str, body: str) -> None:
    page.set_input_files(
        "#id_file", files=[{"name": name, "mimeType": "text/csv", "buffer": body.encode()}]
    )


def test_an_investigator_imports_a_statement_and_exports_the_network(browser, live_server, world):
    case = world["case"]
    session = Session(browser, live_server, world["investigator"], "knp-import")
    page = session.page
    session.goto(f"/admin/cases/case/{case.pk}/change/")
    page.click("#cb-tab-network")
    page.click("#cb-import-transactions")
    page.wait_for_selector("#cb-import-form")
    session.shot("import-01-page")

    # A statement with a bad row: the check names it; nothing is recorded.
    _choose(page, "statement.csv", HEADER + "".join(GOOD) + BAD)
    page.click("#cb-import-check")
    page.wait_for_selector("#cb-import-rejected")
    assert page.locator("#cb-import-progress").is_visible()
    assert page.eval_on_selector("#cb-import-bar", "e => e.value") == 100
    row = page.locator("#cb-import-rejected tbody tr").first.inner_text()
    assert row.split("\t")[:2] == ["4", "amount"]
    session.shot("import-02-rejected")
    assert not Transaction.objects.filter(case=case).exists()

    # The corrected file: checked (preview), then imported.
    _choose(page, "statement-fixed.csv", HEADER + "".join(GOOD))
    page.click("#cb-import-check")
    page.wait_for_selector("#cb-import-preview")
    assert "can be imported" in page.inner_text("#cb-import-outcome")
    session.shot("import-03-checked")
    page.click("#cb-import-submit")
    page.wait_for_function(
        "() => (document.getElementById('cb-import-outcome') || {}).innerText"
        " && document.getElementById('cb-import-outcome').innerText.includes('imported')"
    )
    assert "2 transactions imported" in page.inner_text("#cb-import-outcome")
    session.shot("import-04-imported")
    assert Transaction.objects.filter(case=case).count() == 2

    # Back on the Network tab: the transactions, and the exports.
    page.click("#cb-import-outcome a")
    page.click("#cb-tab-network")
    page.locator("#cb-transactions").wait_for(state="visible")
    assert "25,000,000 KRW" in page.inner_text("#cb-transactions")
    session.shot("import-05-network")
    with page.expect_download() as graphml:
        page.click("#cb-export-graphml")
    body = Path(graphml.value.path()).read_bytes()
    assert graphml.value.suggested_filename.endswith("-network.graphml")
    assert WALLET.encode() in body and b"25000000" in body
    with page.expect_download() as zipped:
        page.click("#cb-export-csv")
    archive = zipfile.ZipFile(io.BytesIO(Path(zipped.value.path()).read_bytes()))
    assert WALLET in archive.read("nodes.csv").decode("utf-8-sig")
    session.close()


@pytest.mark.parametrize(
    ("language", "title"),
    [("km", "នាំចូលប្រតិបត្តិការពី CSV"), ("ko", "CSV에서 거래 가져오기")],
)
def test_the_import_page_speaks_khmer_and_korean(browser, live_server, world, language, title):
    membership = world["investigator"].membership
    membership.language = language
    membership.save(update_fields=["language"])
    session = Session(browser, live_server, world["investigator"], f"knp-import-{language}")
    page = session.page
    session.goto(f"/admin/cases/case/{world['case'].pk}/change/")
    page.click("#cb-tab-network")
    page.click("#cb-import-transactions")
    assert title in page.inner_text("#content")
    _choose(page, "statement.csv", HEADER + GOOD[0] + BAD)
    page.click("#cb-import-check")
    page.wait_for_selector("#cb-import-rejected")
    session.shot(f"import-06-{language}")
    session.close()
