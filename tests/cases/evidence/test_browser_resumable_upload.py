"""In Chromium: the admin's evidence upload goes in chunks (uploads.js over
`/api/v1/uploads/`) with a progress bar, survives a lost answer by asking the
server where it stands, and lands on the new, verified document.

The browser is the session's one Chromium (the `browser` fixture, tests/browser.py).
"""

from __future__ import annotations

import hashlib

import pytest

from cases.models import Document
from gate.roles import Role
from tests.browser import Session
from tests.factories import make_agency, make_case, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHUNK = 64 * 1024
DATA = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 1000  # ~250 KiB: 4 chunks


def test_investigator_uploads_in_chunks_and_resumes_after_a_lost_answer(
    browser, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EVIDENCE_UPLOAD_MAX_CHUNK = CHUNK
    settings.EVIDENCE_MAX_UPLOAD_SIZE = 1024 * 1024
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR")
    investigator = make_user(knp, Role.INVESTIGATOR, "knp.investigator")
    case = make_case(make_user(knp, Role.COORDINATOR, "knp.coordinator"), title="Golden Fortune")
    evidence = tmp_path / "ledger.pdf"
    evidence.write_bytes(DATA)

    session = Session(browser, live_server, investigator, "resumable-upload")
    page = session.page
    calls: list[tuple[str, str]] = []

    def flaky_link(route, request):
        """The second chunk reaches the server, but its answer is lost."""
        offset = request.headers.get("upload-offset", "")
        calls.append((request.method, offset))
        if (
            request.method == "PATCH"
            and offset == str(CHUNK)
            and calls.count(("PATCH", offset)) == 1
        ):
            route.fetch()
            route.abort("connectionreset")
            return
        route.continue_()

    page.route("**/api/v1/uploads/**", flaky_link)
    session.goto(f"/admin/cases/document/add/?case={case.public_id}")
    page.fill("#id_title", "Seized ledger")
    page.select_option("#id_handling_code", "GREEN")
    page.set_input_files("#id_file", str(evidence))
    page.click("input[name=_save]")
    page.wait_for_selector("#cb-upload-progress", state="visible")
    session.shot("evidence-03-chunked-upload")
    # Started from the case: back on its Evidence tab, the new document listed.
    page.wait_for_url(f"**/admin/cases/case/{case.pk}/change/#evidence", timeout=30_000)
    session.shot("evidence-04-uploaded")
    message = page.inner_text(".messagelist")
    listed = page.inner_text("#cb-evidence")
    session.close()

    doc = Document.objects.get()
    assert doc.sha256 == hashlib.sha256(DATA).hexdigest()
    assert (doc.size, doc.original_name, doc.uploaded_by) == (len(DATA), "ledger.pdf", investigator)
    assert doc.custody_events.get().action == "upload"
    assert "Seized ledger" in message and "Seized ledger" in listed
    patches = [offset for method, offset in calls if method == "PATCH"]
    # Each chunk sent once: after the lost answer the script asked (HEAD) and
    # went on from the server's offset, not from its own.
    assert patches == [str(n) for n in range(0, len(DATA), CHUNK)]
    assert ("HEAD", "") in calls
