"""The browser views: multipart upload, authenticated download, custody report."""

import hashlib

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from cases.choices import HandlingCode
from cases.models import CustodyEvent, Document
from cases.signals import document_integrity_failure

from .conftest import LIMIT, pdf_bytes, stored_files

UPLOAD_URL = "/documents/upload/"
BOUNDARY = "casebridgeBoundary7MA4YWxk"


def _multipart(case, filename: str, data: bytes, *, close: bool = True) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="case"\r\n\r\n{case.public_id}\r\n',
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nStatement\r\n',
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="handling_code"\r\n\r\nGREEN\r\n',
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n",
    ]
    body = "".join(parts).encode() + data
    if close:
        body += f"\r\n--{BOUNDARY}--\r\n".encode()
    return body


@pytest.fixture
def investigator_client(client, kh_investigator):
    client.force_login(kh_investigator)
    return client


def _post(client, body: bytes):
    return client.generic(
        "POST", UPLOAD_URL, body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


def _assert_nothing_stored(evidence_root):
    assert Document.objects.count() == 0
    assert CustodyEvent.objects.count() == 0
    assert stored_files(evidence_root) == []


def test_multipart_upload_is_stored_and_hashed(investigator_client, shared_case, evidence_root):
    data = pdf_bytes(20_000)
    response = _post(investigator_client, _multipart(shared_case, "statement.pdf", data))
    assert response.status_code == 201, response.content
    assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()
    doc = Document.objects.get()
    assert (evidence_root / doc.storage_path).read_bytes() == data


def test_upload_response_carries_a_request_id(investigator_client, shared_case):
    response = _post(investigator_client, _multipart(shared_case, "statement.pdf", pdf_bytes()))
    event = AuditEvent.objects.get(action="upload")
    assert response["X-Request-ID"] == event.request_id
    assert event.ip == "127.0.0.1"


def test_oversized_multipart_upload_is_refused_with_413(
    investigator_client, shared_case, evidence_root
):
    response = _post(investigator_client, _multipart(shared_case, "big.pdf", pdf_bytes(LIMIT + 1)))
    assert response.status_code == 413
    assert "limit" in response.json()["errors"]["file"][0]
    _assert_nothing_stored(evidence_root)


def test_exe_renamed_pdf_is_refused_with_400(investigator_client, shared_case, evidence_root):
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500
    response = _post(investigator_client, _multipart(shared_case, "invoice.pdf", exe))
    assert response.status_code == 400
    assert "Executable" in response.json()["errors"]["file"][0]
    _assert_nothing_stored(evidence_root)


def test_path_in_file_name_is_refused_with_400(investigator_client, shared_case, evidence_root):
    body = _multipart(shared_case, "../../etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    response = _post(investigator_client, body)
    assert response.status_code == 400
    assert response.json()["errors"]["file"]
    _assert_nothing_stored(evidence_root)


def test_empty_file_is_refused_with_400(investigator_client, shared_case, evidence_root):
    response = _post(investigator_client, _multipart(shared_case, "empty.pdf", b""))
    assert response.status_code == 400
    assert "empty" in response.json()["errors"]["file"][0]
    _assert_nothing_stored(evidence_root)


def test_truncated_multipart_body_is_refused_with_400(
    investigator_client, shared_case, evidence_root
):
    body = _multipart(shared_case, "statement.pdf", pdf_bytes(30_000), close=False)
    response = _post(investigator_client, body[:-1000])
    assert response.status_code == 400
    assert "incomplete" in response.json()["errors"]["file"][0]
    _assert_nothing_stored(evidence_root)


def test_outsider_gets_404_when_uploading_to_an_unshared_case(
    client, outsider, shared_case, evidence_root
):
    client.force_login(outsider)
    response = _post(client, _multipart(shared_case, "statement.pdf", pdf_bytes()))
    assert response.status_code == 404
    _assert_nothing_stored(evidence_root)


def test_anonymous_upload_is_sent_to_login(client, shared_case, evidence_root):
    response = _post(client, _multipart(shared_case, "statement.pdf", pdf_bytes()))
    assert response.status_code == 302
    _assert_nothing_stored(evidence_root)


# --- download ---------------------------------------------------------------


def _download_url(doc) -> str:
    return reverse("cases:document-download", args=[doc.public_id])


def test_download_streams_the_original_bytes(investigator_client, upload):
    data = pdf_bytes(200_000 if LIMIT > 200_000 else LIMIT)
    doc = upload(data)
    response = investigator_client.get(_download_url(doc))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert "statement.pdf" in response["Content-Disposition"]
    assert doc.custody_events.filter(action="download").count() == 1
    assert AuditEvent.objects.filter(action="download", object_id=str(doc.public_id)).count() == 1


def test_amber_download_without_a_purpose_asks_for_one(investigator_client, upload):
    doc = upload(handling_code=HandlingCode.AMBER)
    response = investigator_client.get(_download_url(doc))
    assert response.status_code == 200
    assert 'name="purpose"' in response.content.decode()
    assert doc.custody_events.filter(action="download").count() == 0


def test_amber_download_records_its_purpose(investigator_client, upload):
    doc = upload(handling_code=HandlingCode.AMBER)
    response = investigator_client.post(_download_url(doc), {"purpose": "MLA annex for court"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert doc.custody_events.get(action="download").purpose == "MLA annex for court"


def test_outsider_gets_404_on_download_and_custody_report(client, outsider, upload):
    doc = upload()
    client.force_login(outsider)
    assert client.get(_download_url(doc)).status_code == 404
    report = reverse("cases:document-custody", args=[doc.public_id])
    assert client.get(report).status_code == 404
    assert doc.custody_events.count() == 1
    refusals = AuditEvent.objects.filter(action="permission_refused", actor=outsider)
    assert refusals.count() == 2


def test_red_document_stays_with_its_agency(client, knp_coordinator, kh_investigator, upload):
    doc = upload(actor=knp_coordinator, handling_code=HandlingCode.RED)
    client.force_login(kh_investigator)
    assert client.get(_download_url(doc), {"purpose": "x"}).status_code == 404


def test_flipped_byte_refuses_download_and_raises_the_alert(
    investigator_client, upload, evidence_root, django_capture_on_commit_callbacks
):
    doc = upload(pdf_bytes(10_000))
    stored = evidence_root / doc.storage_path
    content = bytearray(stored.read_bytes())
    content[5000] ^= 0x01
    stored.write_bytes(bytes(content))
    alerts = []

    def receiver(sender, document, **kwargs):
        alerts.append((document.pk, kwargs["expected"], kwargs["actual"]))

    document_integrity_failure.connect(receiver, dispatch_uid="test-alert")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = investigator_client.get(_download_url(doc))
    finally:
        document_integrity_failure.disconnect(dispatch_uid="test-alert")
    assert response.status_code == 409
    assert "integrity" in response.json()["errors"]["non_field_errors"][0]
    failure = doc.custody_events.get(action="integrity_failure")
    assert failure.sha256 == hashlib.sha256(bytes(content)).hexdigest()
    assert doc.custody_events.filter(action="download").count() == 0
    assert AuditEvent.objects.filter(action="integrity_failure", outcome="failed").count() == 1
    assert alerts == [(doc.pk, doc.sha256, failure.sha256)]


def test_custody_report_lists_every_event_with_hashes(investigator_client, upload):
    doc = upload()
    b"".join(investigator_client.get(_download_url(doc)).streaming_content)
    response = investigator_client.get(reverse("cases:document-custody", args=[doc.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert doc.sha256 in html
    assert "Upload" in html and "Download" in html


def test_verify_evidence_command_fails_on_a_tampered_file(upload, evidence_root):
    from django.core.management import CommandError, call_command

    good, bad = upload(), upload(pdf_bytes(3000))
    (evidence_root / bad.storage_path).write_bytes(b"%PDF-1.7 replaced")
    with pytest.raises(CommandError, match="1 of 2"):
        call_command("verify_evidence")
    assert good.custody_events.filter(action="verify").count() == 1
    assert bad.custody_events.filter(action="integrity_failure").count() == 1
