"""Evidence documents: upload, download, verification, custody.

Upload streams the file to the evidence storage in fixed-size chunks while
hashing it, so memory stays flat whatever the size; the type is judged from
the first bytes before anything is written, and any refusal or failure
(too large, wrong type, truncated body, database error) removes whatever
was written: a refused upload leaves no row and no file.

Download re-hashes the stored file before the first byte leaves and again
while streaming. A mismatch is refused, logged, put on the custody record
and the audit log, and announced through `cases.signals.document_integrity_failure`.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from audit import context as audit_context
from audit import services as audit
from audit.models import AuditAction, AuditOutcome
from gate.errors import DomainError, ValidationFailed
from gate.roles import Role
from notifications.outbox import emit

from . import access, filetypes
from .choices import HandlingCode, HandlingInstruction
from .models import Case, CustodyEvent, Document, MLARequest, Task
from .signals import document_integrity_failure

logger = logging.getLogger("casebridge.evidence")

CHUNK_SIZE = 64 * 1024
# TLP 2.0 AMBER and above: whoever takes a copy says why, for the record.
PURPOSE_REQUIRED = {HandlingCode.AMBER, HandlingCode.AMBER_STRICT, HandlingCode.RED}
AUDITED_FIELDS = (
    "case",
    "mla_request",
    "task",
    "title",
    "original_name",
    "size",
    "content_type",
    "sha256",
    "handling_code",
    "handling_instruction",
    "supersedes",
)


class FileTooLarge(DomainError):
    status_code = 413
    default_code = "too_large"


class IntegrityFailure(DomainError):
    """The stored bytes no longer match the hash taken at upload."""

    status_code = 409
    default_code = "integrity_failure"
    default_message = _(
        "This document failed its integrity check and cannot be downloaded. "
        "The incident has been recorded and the custodians alerted."
    )


def evidence_storage() -> Storage:
    return storages["evidence"]


def max_upload_size() -> int:
    return settings.EVIDENCE_MAX_UPLOAD_SIZE


def too_large() -> FileTooLarge:
    mib = max_upload_size() / (1024 * 1024)
    return FileTooLarge(
        _("The file is larger than the %(mib).0f MiB limit.") % {"mib": mib}, field="file"
    )


def _request_ip() -> str:
    ctx = audit_context.current()
    return (ctx.ip or "") if ctx else ""


# --- upload -----------------------------------------------------------------


def _validate_name(name: str) -> str:
    """The original name is kept as data only, but a name that tries to be a
    path is refused outright: it says something about the sender."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"file": [_("The file has no name.")]})
    if "/" in name or "\\" in name or name in {".", ".."} or name.startswith(".."):
        raise ValidationFailed({"file": [_("The file name must not contain a path.")]})
    if any(not ch.isprintable() for ch in name):
        raise ValidationFailed({"file": [_("The file name contains control characters.")]})
    if len(name) > 255:
        raise ValidationFailed({"file": [_("The file name is longer than 255 characters.")]})
    return name


def _chunks(file: Any) -> Iterator[bytes]:
    if hasattr(file, "chunks"):
        yield from file.chunks(CHUNK_SIZE)
        return
    while True:
        data = file.read(CHUNK_SIZE)
        if not data:
            return
        yield data


def _read_head(chunks: Iterator[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= size:
            break
    return head, chunks


class _HashingReader:
    """A read()-only file that hashes and counts what passes through it and
    refuses to go past the size limit (so storage never holds more)."""

    def __init__(self, chunks: Iterable[bytes], limit: int):
        self._chunks = iter(chunks)
        self._buffer = b""
        self.size = 0
        self.limit = limit
        self.sha256 = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buffer) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if n < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:n], self._buffer[n:]
        self.size += len(data)
        if self.size > self.limit:
            raise too_large()
        self.sha256.update(data)
        return data


def _discard(storage: Storage, name: str) -> None:
    try:
        if storage.exists(name):
            storage.delete(name)
    except Exception:  # the original error matters more; the sweep reports leftovers
        logger.exception("Could not remove refused evidence file %s", name)


def _full_clean(doc: Document, exclude: Iterable[str]) -> None:
    try:
        doc.full_clean(exclude=list(exclude), validate_unique=False)
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc


def new_document(
    *,
    actor,
    case: Case | None = None,
    title: str,
    name: str,
    description: str = "",
    handling_code: str = HandlingCode.AMBER,
    handling_instruction: str = HandlingInstruction.H0,
    handling_restriction: str = "",
    task: Task | None = None,
    supersedes: Document | None = None,
    mla_request: MLARequest | None = None,
) -> Document:
    """The unsaved, checked record of an upload about to start: may `actor`
    add this evidence here, and is everything but the bytes valid?

    Investigators of a contributing agency add to a case; with `mla_request`,
    investigators of either party attach to the request (annexes; the
    requested side's returned evidence) and it lands on the request's case,
    which the requested side need not see. Shared by the one-request upload
    below and the resumable one (`cases.uploads`), which asks it again when
    the last byte arrives.
    """
    if mla_request is not None:
        access.require(actor, "view", mla_request)
        access.require_role(actor, Role.INVESTIGATOR)
        if case is not None and case.pk != mla_request.case_id:
            raise ValidationFailed({"case": [_("The request belongs to another case.")]})
        case = mla_request.case
    elif case is None:
        raise ValidationFailed({"case": [_("Attach the document to a case or a request.")]})
    else:
        access.require(actor, "contribute", case)
    agency = access.agency_of(actor)
    original_name = _validate_name(name)
    if task is not None and (task.case_id != case.pk or not access.can(actor, "view", task)):
        raise ValidationFailed({"task": [_("The task must belong to this case.")]})
    if supersedes is not None:
        _check_supersedable(actor, case, supersedes)
    doc = Document(
        case=case,
        mla_request=mla_request,
        task=task,
        title=title,
        description=description,
        handling_code=handling_code,
        handling_instruction=handling_instruction,
        handling_restriction=handling_restriction,
        original_name=original_name,
        uploaded_by=actor,
        agency=agency,
        supersedes=supersedes,
    )
    _full_clean(doc, exclude=["size", "content_type", "sha256", "storage_path"])
    if (
        handling_instruction == HandlingInstruction.H3 and not handling_restriction.strip()
    ):  # same rule as cases and notes
        raise ValidationFailed(
            {"handling_restriction": [_("H3 needs the restriction written out.")]}
        )
    return doc


def upload_document(
    *,
    actor,
    case: Case | None = None,
    file: IO[bytes] | Any,
    title: str,
    description: str = "",
    handling_code: str = HandlingCode.AMBER,
    handling_instruction: str = HandlingInstruction.H0,
    handling_restriction: str = "",
    task: Task | None = None,
    supersedes: Document | None = None,
    mla_request: MLARequest | None = None,
    name: str | None = None,
    expected_sha256: str = "",
) -> Document:
    """Store an evidence file on `case` (or `mla_request`: see `new_document`).

    `file` is a Django UploadedFile or any binary file-like object; `name`
    (default: the file's own name) is the original file name, kept as data.
    With `expected_sha256` (hex), bytes that hash otherwise are refused and
    nothing is stored.
    """
    doc = new_document(
        actor=actor,
        case=case,
        title=title,
        name=name if name is not None else getattr(file, "name", ""),
        description=description,
        handling_code=handling_code,
        handling_instruction=handling_instruction,
        handling_restriction=handling_restriction,
        task=task,
        supersedes=supersedes,
        mla_request=mla_request,
    )
    agency = doc.agency
    original_name = doc.original_name
    chunks = _chunks(file)
    head, rest = _read_head(chunks, filetypes.SNIFF_BYTES)
    if not head:
        raise ValidationFailed({"file": [_("The file is empty.")]})
    if len(head) > max_upload_size():
        raise too_large()
    doc.content_type = filetypes.check(head, original_name)

    storage = evidence_storage()
    path = f"evidence/{uuid.uuid4().hex}"
    reader = _HashingReader(itertools.chain([head], rest), max_upload_size())
    try:
        stored = storage.save(path, File(reader, name=path))
        doc.storage_path, doc.size = stored, reader.size
        doc.sha256 = reader.sha256.hexdigest()
        if expected_sha256 and doc.sha256 != expected_sha256.lower():
            raise ValidationFailed(
                {
                    "sha256": [
                        _(
                            "The file's SHA-256 is %(actual)s, not the %(expected)s you declared: "
                            "it was damaged on the way and has not been stored."
                        )
                        % {"actual": doc.sha256, "expected": expected_sha256.lower()}
                    ]
                }
            )
        with transaction.atomic():
            doc.save(force_insert=True)
            _custody(doc, CustodyEvent.Action.UPLOAD, actor=actor, agency=agency)
            if supersedes is not None:
                _custody(
                    supersedes,
                    CustodyEvent.Action.SUPERSEDE,
                    actor=actor,
                    agency=agency,
                    purpose=str(doc.public_id),
                )
            audit.record(
                action=AuditAction.UPLOAD,
                obj=doc,
                actor=actor,
                agency=agency,
                changes=audit.created(doc, AUDITED_FIELDS),
            )
            emit("document.added", obj=doc, actor=actor)
    except BaseException:
        # Nothing half-stored: the row rolled back with the atomic block, the
        # file goes here (a truncated body, a refusal mid-stream, a DB error).
        _discard(storage, path)
        raise
    # If an enclosing transaction rolls back later, the file is left without a
    # row; `orphaned_files()` finds such files for removal.
    return doc


def _check_supersedable(actor, case: Case, old: Document) -> None:
    if old.case_id != case.pk or not access.is_visible(actor, old):
        raise ValidationFailed({"supersedes": [_("The document must belong to this case.")]})
    if Document.objects.filter(supersedes=old).exists():
        raise ValidationFailed(
            {"supersedes": [_("This document has already been superseded; correct the newest.")]}
        )


def _custody(
    document: Document,
    action: str,
    *,
    actor=None,
    agency: Agency | None = None,
    purpose: str = "",
    sha256: str | None = None,
    recipient_agency: Agency | None = None,
) -> CustodyEvent:
    return CustodyEvent.objects.create(
        document=document,
        action=action,
        user=actor,
        agency=agency,
        recipient_agency=recipient_agency,
        ip=_request_ip(),
        purpose=purpose,
        sha256=document.sha256 if sha256 is None else sha256,
    )


# --- integrity --------------------------------------------------------------


def _hash_stored(storage: Storage, name: str) -> str:
    """SHA-256 of the stored file, or "" when it is missing or unreadable."""
    digest = hashlib.sha256()
    try:
        with storage.open(name, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK_SIZE), b""):
                digest.update(chunk)
    except (FileNotFoundError, OSError):
        return ""
    return digest.hexdigest()


def _integrity_failure(document: Document, *, actor, actual: str, stage: str) -> None:
    """Record the failure (committed even though the caller then refuses) and
    raise the alert: custody event, audit event, error log, signal."""
    agency = access.agency_of(actor) if actor is not None else None
    logger.error(
        "Evidence integrity failure on document %s (%s): expected %s, found %s",
        document.public_id,
        stage,
        document.sha256,
        actual or "missing file",
    )
    with transaction.atomic():
        _custody(
            document,
            CustodyEvent.Action.INTEGRITY_FAILURE,
            actor=actor,
            agency=agency,
            sha256=actual,
            purpose=stage,
        )
        audit.record(
            action=AuditAction.INTEGRITY_FAILURE,
            obj=document,
            actor=actor,
            agency=agency,
            outcome=AuditOutcome.FAILED,
            changes={"sha256": {"before": document.sha256, "after": actual}},
            reason=stage,
        )
        transaction.on_commit(
            lambda: document_integrity_failure.send(
                sender=Document,
                document=document,
                actor=actor,
                expected=document.sha256,
                actual=actual,
            )
        )


def verify_document(*, document: Document, actor=None) -> bool:
    """Re-hash a stored document and put the result on its custody record.

    With an actor, the actor must see the document; without one it is the
    scheduled integrity sweep.
    """
    if actor is not None:
        access.require(actor, "view", document)
    actual = _hash_stored(evidence_storage(), document.storage_path)
    if actual != document.sha256:
        _integrity_failure(document, actor=actor, actual=actual, stage="verification")
        return False
    _custody(
        document,
        CustodyEvent.Action.VERIFY,
        actor=actor,
        agency=access.agency_of(actor) if actor is not None else None,
        sha256=actual,
    )
    return True


def verify_all_documents() -> tuple[int, int]:
    """Re-hash every stored document (a scheduled sweep; beat wiring lives
    with the other periodic jobs). Returns (checked, failed)."""
    checked = failed = 0
    for document in Document.objects.order_by("pk").iterator(chunk_size=200):
        checked += 1
        failed += not verify_document(document=document)
    return checked, failed


# --- download ---------------------------------------------------------------


def download_document(*, actor, document: Document, purpose: str = "") -> Iterator[bytes]:
    """Check, record and open a download; returns the byte stream.

    The file is hashed once before anything is sent, so a tampered file is
    refused with a clear error rather than half-delivered; the stream hashes
    again and breaks off (the client sees a truncated transfer) if the file
    changes underneath it.
    """
    access.require(actor, "view", document)
    document = Document.objects.get(pk=document.pk)
    purpose = (purpose or "").strip()
    if document.handling_code in PURPOSE_REQUIRED and not purpose:
        raise ValidationFailed(
            {
                "purpose": [
                    _("Say why you need a copy: %(code)s material requires a purpose.")
                    % {"code": document.get_handling_code_display()}
                ]
            }
        )
    storage = evidence_storage()
    actual = _hash_stored(storage, document.storage_path)
    if actual != document.sha256:
        _integrity_failure(document, actor=actor, actual=actual, stage="before download")
        raise IntegrityFailure()
    agency = access.agency_of(actor)
    with transaction.atomic():
        _custody(
            document,
            CustodyEvent.Action.DOWNLOAD,
            actor=actor,
            agency=agency,
            purpose=purpose,
            sha256=actual,
        )
        audit.record(
            action=AuditAction.DOWNLOAD,
            obj=document,
            actor=actor,
            agency=agency,
            changes={"purpose": purpose} if purpose else {},
        )
    return _verified_stream(storage, document, actor)


def _verified_stream(storage: Storage, document: Document, actor) -> Iterator[bytes]:
    digest = hashlib.sha256()
    with storage.open(document.storage_path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_SIZE), b""):
            digest.update(chunk)
            yield chunk
    if digest.hexdigest() != document.sha256:
        _integrity_failure(
            document, actor=actor, actual=digest.hexdigest(), stage="during download"
        )
        raise IntegrityFailure()


# --- custody ----------------------------------------------------------------


def record_case_shared(*, actor, case: Case, agency: Agency) -> int:
    """Put "shared with `agency`" on the custody record of every document of
    `case` that agency can now see (RED and AMBER+STRICT ones stay home).
    Called by `cases.sharing` in the sharing transaction."""
    return record_cases_shared(actor=actor, shares=[(case, agency)])


def record_cases_shared(*, actor, shares: Iterable[tuple[Case, Agency]]) -> int:
    """`record_case_shared` for many (case, agency) pairs, in one statement on
    PostgreSQL (an INSERT ... SELECT over the cases' documents: sharing a case
    that holds evidence with 50 agencies stays within its 10-query budget) and
    in two elsewhere (the documents read, then one INSERT)."""
    pairs = [(case.pk, agency.pk) for case, agency in shares]
    if not pairs:
        return 0
    me = access.agency_of(actor)
    if connection.vendor == "postgresql":
        return _insert_share_events(actor, me, pairs)
    recipients: dict[int, list[int]] = {}
    for case_id, agency_id in pairs:
        recipients.setdefault(case_id, []).append(agency_id)
    ip = _request_ip()
    documents = (
        Document.objects.filter(case_id__in=recipients)
        .exclude(handling_code__in=access.AGENCY_ONLY_CODES)
        .order_by("pk")
        .values_list("pk", "case_id", "sha256")
    )
    events = [
        CustodyEvent(
            document_id=pk,
            action=CustodyEvent.Action.SHARE,
            user=actor,
            agency=me,
            recipient_agency_id=agency_id,
            ip=ip,
            sha256=sha256,
        )
        for pk, case_id, sha256 in documents
        for agency_id in recipients[case_id]
    ]
    CustodyEvent.objects.bulk_create(events)
    return len(events)


def _insert_share_events(actor, me: Agency | None, pairs: list[tuple[int, int]]) -> int:
    """The share custody events of every (case, agency) pair, written by the
    database from the cases' documents: by document, then in the pairs'
    order, as the bulk_create form writes them."""
    qn = connection.ops.quote_name
    events, docs = CustodyEvent._meta.db_table, Document._meta.db_table
    # Only quoted table names are spliced in; every value is bound.
    sql = (
        f"INSERT INTO {qn(events)} (public_id, document_id, action, user_id, agency_id,"  # noqa: S608  # nosec B608
        " recipient_agency_id, occurred_at, ip, purpose, sha256)"
        " SELECT gen_random_uuid(), d.id, %s, %s, %s, r.agency_id, %s, %s, '', d.sha256"
        " FROM UNNEST(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS r(case_id, agency_id, n)"
        f" JOIN {qn(docs)} d ON d.case_id = r.case_id"
        " WHERE NOT (d.handling_code = ANY(%s))"
        " ORDER BY d.id, r.n"
    )
    params = [
        CustodyEvent.Action.SHARE,
        getattr(actor, "pk", None),
        getattr(me, "pk", None),
        timezone.now(),
        _request_ip(),
        [c for c, _a in pairs],
        [a for _c, a in pairs],
        [str(code) for code in access.AGENCY_ONLY_CODES],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def custody_report(*, actor, document: Document) -> QuerySet[CustodyEvent]:
    """The custody events of `document` this user may see, oldest first."""
    access.require(actor, "view", document)
    return (
        access.visible_custody_events(actor)
        .filter(document=document)
        .select_related("user", "agency", "recipient_agency")
        .order_by("occurred_at", "id")
    )


def orphaned_files() -> list[str]:
    """Stored evidence files no document row points to (a rollback after
    upload, a crash between write and commit): for an operator to review."""
    storage = evidence_storage()
    try:
        _dirs, files = storage.listdir("evidence")
    except FileNotFoundError:
        return []
    names = {f"evidence/{f}" for f in files}
    known = set(
        Document.objects.filter(storage_path__in=names).values_list("storage_path", flat=True)
    )
    return sorted(names - known)
