"""Uploads: stored whole and hashed, or refused with nothing left behind."""

import hashlib
import io

import pytest

from audit.models import AuditEvent
from cases import documents
from cases.documents import FileTooLarge
from cases.models import CustodyEvent, Document
from gate.errors import NotFound, PermissionDenied, ValidationFailed

from .conftest import LIMIT, pdf_bytes, stored_files

MZ_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def _refused(evidence_root, call, message_part: str, error=ValidationFailed):
    rows, custody = Document.objects.count(), CustodyEvent.objects.count()
    audit = AuditEvent.objects.count()
    with pytest.raises(error) as exc:
        call()
    assert message_part in str(exc.value.errors)
    assert Document.objects.count() == rows
    assert CustodyEvent.objects.count() == custody
    assert AuditEvent.objects.count() == audit
    assert stored_files(evidence_root) == []
    return exc.value


def test_upload_stores_the_file_under_a_generated_path_with_its_hash(upload, evidence_root):
    data = pdf_bytes(10_000)
    doc = upload(data)
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.size == len(data)
    assert doc.content_type == "application/pdf"
    assert doc.original_name == "statement.pdf"
    assert doc.storage_path.startswith("evidence/")
    assert "statement" not in doc.storage_path
    assert (evidence_root / doc.storage_path).read_bytes() == data


def test_upload_writes_one_custody_event_and_one_audit_event(upload):
    doc = upload()
    assert list(doc.custody_events.values_list("action", flat=True)) == ["upload"]
    events = AuditEvent.objects.filter(object_id=str(doc.public_id))
    assert [e.action for e in events] == ["upload"]


def test_file_at_the_limit_is_accepted(upload):
    assert upload(pdf_bytes(LIMIT)).size == LIMIT


def test_file_one_byte_over_the_limit_is_refused(upload, evidence_root):
    error = _refused(evidence_root, lambda: upload(pdf_bytes(LIMIT + 1)), "limit", FileTooLarge)
    assert error.status_code == 413


def test_exe_renamed_pdf_is_refused(upload, evidence_root):
    _refused(evidence_root, lambda: upload(MZ_EXE, name="invoice.pdf"), "Executable")


def test_elf_binary_is_refused_whatever_its_name(upload, evidence_root):
    _refused(evidence_root, lambda: upload(b"\x7fELF\x02\x01\x01" + b"\0" * 100, "a.txt"), "Exec")


def test_name_with_a_path_is_refused(upload, evidence_root):
    _refused(evidence_root, lambda: upload(b"root:x:0:0:root\n", "../../etc/passwd"), "path")


def test_empty_file_is_refused(upload, evidence_root):
    _refused(evidence_root, lambda: upload(b"", "empty.pdf"), "empty")


def test_zip_named_pdf_is_refused(upload, evidence_root):
    _refused(evidence_root, lambda: upload(_zip_bytes(), "report.pdf"), "does not match")


def test_pdf_named_zip_is_refused(upload, evidence_root):
    _refused(evidence_root, lambda: upload(pdf_bytes(), "archive.zip"), "does not match")


def test_zip_archive_is_stored_as_is(upload, evidence_root):
    data = _zip_bytes()
    doc = upload(data, "seized-phone-export.zip")
    assert doc.content_type == "application/zip"
    assert (evidence_root / doc.storage_path).read_bytes() == data


def test_csv_is_accepted_as_text(upload):
    assert upload(b"wallet,amount\nTXYZ,1000\n", "ledger.csv").content_type == "text/csv"


def test_binary_junk_named_csv_is_refused(upload, evidence_root):
    _refused(evidence_root, lambda: upload(b"\x00\x01\x02\xff" * 50, "ledger.csv"), "match")


def test_type_missing_from_the_allowed_list_is_refused(upload, evidence_root, settings):
    settings.EVIDENCE_ALLOWED_TYPES = ["image/png"]
    _refused(evidence_root, lambda: upload(pdf_bytes(), "statement.pdf"), "not accepted")


def test_failure_after_the_file_is_written_leaves_no_file(upload, evidence_root, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(documents.audit, "record", broken)
    with pytest.raises(RuntimeError):
        upload()
    assert Document.objects.count() == 0
    assert stored_files(evidence_root) == []


def test_stream_that_breaks_mid_upload_leaves_no_file(shared_case, kh_investigator, evidence_root):
    class Broken(io.RawIOBase):
        sent = 0

        def read(self, n=-1):
            if self.sent > 3:
                raise OSError("client disconnected")
            self.sent += 1
            return pdf_bytes(20_000)

    with pytest.raises(OSError):
        documents.upload_document(
            actor=kh_investigator,
            case=shared_case,
            file=Broken(),
            name="statement.pdf",
            title="x",
        )
    assert Document.objects.count() == 0
    assert stored_files(evidence_root) == []


def test_viewer_cannot_upload(upload, kh_viewer, evidence_root):
    with pytest.raises(PermissionDenied):
        upload(actor=kh_viewer)
    assert Document.objects.count() == 0
    assert stored_files(evidence_root) == []


def test_outsider_gets_not_found_on_upload(upload, outsider, evidence_root):
    with pytest.raises(NotFound):
        upload(actor=outsider)
    assert stored_files(evidence_root) == []


def test_correction_supersedes_the_original(upload):
    original = upload()
    correction = upload(pdf_bytes(5000), "statement-v2.pdf", supersedes=original)
    assert correction.supersedes == original
    assert original.custody_events.filter(action="supersede").count() == 1
    with pytest.raises(ValidationFailed):
        upload(supersedes=original)


def test_stored_document_cannot_be_changed(upload):
    doc = upload()
    doc.title = "rewritten"
    with pytest.raises(ValueError):
        doc.save()


def _zip_bytes() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("chat.txt", "meet at the compound gate")
    return buffer.getvalue()
