"""Resumable evidence uploads: the server side of tus 1.0 (`/api/v1/uploads/`).

Agencies in the field send evidence over slow links that break. An upload is
created with its length and what the document will say (case, title,
handling), then its bytes arrive in chunks, each appended at the offset the
server confirms; after a break the client asks for the offset and goes on
from there. When the last byte is in, the bytes go through the ordinary
evidence intake (`documents.upload_document`: type by content, storage,
SHA-256, custody, audit, notification) and only then are they evidence.
An upload nobody finishes expires and is deleted with its bytes.

Why our own and not a library: drf-tus, the Django one still released,
reads each chunk whole into memory through `request.body` (so Django's
`DATA_UPLOAD_MAX_MEMORY_SIZE` would either refuse chunks or have to be
raised for every endpoint), depends on django-fsm 2.8.1 and jsonfield (both
archived), does not stop two PATCHes writing at one offset, answers errors
as plain strings rather than problem+json and brings its own permission
model beside the gate; django-tus has not been released since 2020. The
protocol's core is small: what is here is that core plus the creation,
expiration, checksum and termination extensions.

Hashing: a `hashlib` object cannot be saved between requests, and a
SHA-256 written in Python (which could be) is two orders of magnitude
slower than OpenSSL's. So a chunk is hashed as it arrives for its own
checksum only (tus `Upload-Checksum`, sha1 or sha256: a chunk that does not
match is dropped whole), and the file's SHA-256 is taken in one streaming
pass when complete, by the intake itself while it copies the bytes into the
evidence storage, a pass that copy needs anyway. Memory stays flat (64 KiB
at a time), and a declared hash (metadata `sha256`) that differs means
nothing is stored.

Concurrency: a PATCH holds an exclusive `flock` on the upload's partial file
while it writes, so a second request on the same upload (a client retrying
while its first attempt is still being read) gets 423 at once instead of
interleaving bytes; the offset is written to the database only after the
bytes are on disk (`fsync`). Partial files live under EVIDENCE_UPLOAD_DIR,
which every web process must share.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gate.errors import Conflict, DomainError, NotFound, ValidationFailed

from . import access, documents
from .choices import HandlingCode, HandlingInstruction
from .models import Case, Document, EvidenceUpload, MLARequest, Task

logger = logging.getLogger("casebridge.evidence")

READ_SIZE = 64 * 1024
CHECKSUM_ALGORITHMS = ("sha1", "sha256")


class OffsetMismatch(Conflict):
    """The client's offset is not where the upload stands: it must ask (HEAD)."""

    default_code = "offset_mismatch"
    default_message = _(
        "The upload does not stand at this offset; ask for its offset (HEAD) and go on from there."
    )


class UploadLocked(DomainError):
    """Another request is writing this upload right now."""

    status_code = 423
    default_code = "upload_locked"
    default_message = _(
        "Another request is still writing to this upload; ask for its offset again shortly."
    )


class ChecksumMismatch(DomainError):
    """tus checksum extension: the chunk arrived damaged and was dropped."""

    status_code = 460
    default_code = "checksum_mismatch"
    default_message = _(
        "The chunk does not match its Upload-Checksum and was dropped; send it again."
    )


class ChunkTooLarge(DomainError):
    status_code = 413
    default_code = "too_large"


def upload_dir() -> Path:
    configured = settings.EVIDENCE_UPLOAD_DIR
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / "uploads-in-transit"


def partial_path(upload: EvidenceUpload) -> Path:
    return upload_dir() / upload.public_id.hex


def max_chunk() -> int:
    return settings.EVIDENCE_UPLOAD_MAX_CHUNK


def _expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=settings.EVIDENCE_UPLOAD_EXPIRY_SECONDS)


def _document_fields(upload: EvidenceUpload) -> dict[str, Any]:
    return {
        "case": upload.case,
        "mla_request": upload.mla_request,
        "task": upload.task,
        "supersedes": upload.supersedes,
        "title": upload.title,
        "description": upload.description,
        "handling_code": upload.handling_code,
        "handling_instruction": upload.handling_instruction,
        "handling_restriction": upload.handling_restriction,
    }


def start_upload(
    *,
    actor,
    length: int,
    name: str,
    title: str,
    case: Case | None = None,
    mla_request: MLARequest | None = None,
    task: Task | None = None,
    supersedes: Document | None = None,
    description: str = "",
    handling_code: str = HandlingCode.AMBER,
    handling_instruction: str = HandlingInstruction.H0,
    handling_restriction: str = "",
    sha256: str = "",
) -> EvidenceUpload:
    """Open a resumable upload of `length` bytes that will become this document.

    Asks the evidence intake everything it will ask at the end except the
    bytes (may `actor` add evidence here, is the record valid), so that
    nobody sends 300 MB to learn that the title was missing.
    """
    doc = documents.new_document(
        actor=actor,
        case=case,
        mla_request=mla_request,
        task=task,
        supersedes=supersedes,
        title=title,
        name=name,
        description=description,
        handling_code=handling_code,
        handling_instruction=handling_instruction,
        handling_restriction=handling_restriction,
    )
    if length <= 0:
        raise ValidationFailed({"file": [_("The file is empty.")]})
    if length > documents.max_upload_size():
        raise documents.too_large()
    upload = EvidenceUpload.objects.create(
        created_by=actor,
        agency=doc.agency,
        case=doc.case,
        mla_request=doc.mla_request,
        task=doc.task,
        supersedes=doc.supersedes,
        title=doc.title,
        description=doc.description,
        handling_code=doc.handling_code,
        handling_instruction=doc.handling_instruction,
        handling_restriction=doc.handling_restriction,
        original_name=doc.original_name,
        declared_sha256=sha256.lower(),
        length=length,
        expires_at=_expiry(),
    )
    try:
        upload_dir().mkdir(mode=0o750, parents=True, exist_ok=True)
        partial_path(upload).touch(mode=0o640, exist_ok=False)
    except BaseException:
        upload.delete()
        raise
    return upload


@contextmanager
def _locked(upload: EvidenceUpload) -> Iterator[IO[bytes]]:
    """The upload's partial file, opened for writing under an exclusive lock."""
    try:
        fh = open(partial_path(upload), "r+b")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise NotFound() from None  # swept or abandoned meanwhile
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadLocked() from None
        try:
            upload.refresh_from_db()
        except EvidenceUpload.DoesNotExist:
            raise NotFound() from None
        if upload.expires_at <= timezone.now():
            raise NotFound()
        yield fh


def _receive(fh: IO[bytes], offset: int, stream: Any, length: int, digest) -> int:
    """Write up to `length` bytes of `stream` at `offset`, 64 KiB at a time.

    A body that stops early (the link broke) keeps what arrived: the client
    resumes from there. Whatever the file held past `offset` (bytes of an
    attempt whose offset was never confirmed) is cut off first.
    """
    fh.seek(offset)
    fh.truncate()
    received = 0
    while received < length:
        try:
            data = stream.read(min(READ_SIZE, length - received))
        except OSError:  # the client went away mid-body (UnreadablePostError, gunicorn's)
            break
        if not data:
            break
        fh.write(data)
        if digest is not None:
            digest.update(data)
        received += len(data)
    fh.flush()
    os.fsync(fh.fileno())
    return received


def append_chunk(
    *,
    actor,
    upload: EvidenceUpload,
    offset: int,
    stream: Any,
    length: int,
    checksum: tuple[str, bytes] | None = None,
) -> EvidenceUpload:
    """Append `length` bytes read from `stream` at `offset` (tus PATCH).

    `checksum` is (algorithm, digest) from `Upload-Checksum`. The upload's
    uploader must still be allowed to add this evidence (asked again before
    the bytes are taken). With the last byte, the upload becomes a document
    (`upload.document`) or, refused, is deleted with its bytes and the
    refusal raised.
    """
    if upload.is_complete:
        raise Conflict(_("This upload is complete."), code="upload_complete")
    if length <= 0:
        raise ValidationFailed({"Content-Length": [_("The chunk is empty.")]})
    if length > max_chunk():
        raise ChunkTooLarge(
            _("A chunk may carry at most %(mib).0f MiB.") % {"mib": max_chunk() / (1024 * 1024)},
            field="Content-Length",
        )
    if checksum is not None and checksum[0] not in CHECKSUM_ALGORITHMS:
        raise ValidationFailed(
            {"Upload-Checksum": [_("Supported algorithms: %s.") % ", ".join(CHECKSUM_ALGORITHMS)]}
        )
    with _locked(upload) as fh:
        if offset != upload.offset:
            raise OffsetMismatch()
        if offset + length > upload.length:
            raise ChunkTooLarge(
                _("The chunk would take the upload past its declared length."),
                field="Content-Length",
            )
        documents.new_document(actor=actor, name=upload.original_name, **_document_fields(upload))
        digest = None
        if checksum is not None:
            digest = hashlib.new(checksum[0], usedforsecurity=False)
        received = _receive(fh, offset, stream, length, digest)
        if digest is not None and (received != length or digest.digest() != checksum[1]):
            fh.truncate(offset)
            if received == length:
                raise ChecksumMismatch()
            received = 0  # cut short: nothing of it can be checked, so nothing is kept
        upload.offset = offset + received
        upload.expires_at = _expiry()
        upload.save(update_fields=["offset", "expires_at"])
        if upload.offset == upload.length:
            _complete(actor, upload)
    return upload


def _complete(actor, upload: EvidenceUpload) -> None:
    """The bytes become evidence through the one intake, or nothing remains."""
    try:
        with open(partial_path(upload), "rb") as source:
            document = documents.upload_document(
                actor=actor,
                file=source,
                name=upload.original_name,
                expected_sha256=upload.declared_sha256,
                **_document_fields(upload),
            )
    except BaseException:
        _delete(upload)
        raise
    upload.document = document
    upload.save(update_fields=["document"])
    partial_path(upload).unlink(missing_ok=True)


def _delete(upload: EvidenceUpload) -> None:
    partial_path(upload).unlink(missing_ok=True)
    EvidenceUpload.objects.filter(pk=upload.pk).delete()


def abandon_upload(*, actor, upload: EvidenceUpload) -> None:
    """tus termination: the uploader drops the upload and its bytes."""
    access.require(actor, "view", upload)
    if upload.is_complete:
        _delete(upload)  # only the record of the transfer: the document stays
        return
    with _locked(upload):
        _delete(upload)


def expire_uploads() -> int:
    """Delete uploads past their expiry with their bytes (beat runs this), and
    partial files no upload owns any more that are older than the expiry.
    An upload being written right now is left for the next run."""
    removed = 0
    for upload in EvidenceUpload.objects.filter(expires_at__lte=timezone.now()).iterator():
        if upload.is_complete:
            _delete(upload)
            removed += 1
            continue
        try:
            with _locked_for_sweep(upload):
                _delete(upload)
                removed += 1
        except UploadLocked:
            continue
    removed += _sweep_orphans()
    return removed


@contextmanager
def _locked_for_sweep(upload: EvidenceUpload) -> Iterator[None]:
    try:
        fh = open(partial_path(upload), "r+b")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        yield
        return
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadLocked() from None
        yield


def _sweep_orphans() -> int:
    directory = upload_dir()
    if not directory.is_dir():
        return 0
    cutoff = timezone.now().timestamp() - settings.EVIDENCE_UPLOAD_EXPIRY_SECONDS
    known = {u.hex for u in EvidenceUpload.objects.values_list("public_id", flat=True)}
    removed = 0
    for path in directory.iterdir():
        if path.name in known or not path.is_file() or path.stat().st_mtime > cutoff:
            continue
        path.unlink(missing_ok=True)
        logger.info("Removed partial upload file %s: no upload owns it", path.name)
        removed += 1
    return removed
