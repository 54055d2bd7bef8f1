"""Evidence tests store files under a temporary MEDIA_ROOT with a small limit."""

import io
import os
from pathlib import Path

import pytest

from cases import documents
from cases.choices import HandlingCode

LIMIT = 64 * 1024
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"


def pdf_bytes(size: int = 4096) -> bytes:
    return (PDF + b"0" * size)[:size]


def stored_files(root: Path) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _dirs, fs in os.walk(root) for f in fs
    )


@pytest.fixture(autouse=True)
def evidence_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    settings.EVIDENCE_MAX_UPLOAD_SIZE = LIMIT
    settings.AUDIT_HMAC_KEY = "test-audit-key"
    return root


@pytest.fixture
def upload(shared_case, kh_investigator):
    """Upload a document on `shared_case` as the KH-CCOS investigator."""

    def _upload(data: bytes | None = None, name: str = "statement.pdf", **kwargs):
        kwargs.setdefault("actor", kh_investigator)
        kwargs.setdefault("case", shared_case)
        kwargs.setdefault("title", "Victim bank statement")
        kwargs.setdefault("handling_code", HandlingCode.GREEN)
        return documents.upload_document(
            file=io.BytesIO(pdf_bytes() if data is None else data), name=name, **kwargs
        )

    return _upload
