"""Backup and restore of a deployment: the database and the evidence files,
taken together and proven whole when brought back.

A backup is a directory holding `database.dump` (pg_dump's custom format),
`media.tar` (the evidence storage's directory) and `manifest.json`, written
last: the SHA-256 of both files and the audit chain head the dump contains.
The dump is taken first, from an exported snapshot, and the files after it;
evidence files are written before their document row commits and never
changed, so every document in the dump has its file in the archive.

A restore goes only onto an empty database (and an empty evidence
directory): it never merges into, or overwrites, a live system. It then
proves what it brought back, as an auditor would: the hash chain walks
intact to the head the manifest names, and every evidence file re-hashes to
the SHA-256 its document recorded at upload (a custody `verify` event each;
a mismatch is an integrity failure on the custody record and the audit log).

PostgreSQL and the filesystem evidence storage only; an object-store bucket
is backed up with the store's own versioning. The client programs
(`pg_dump`, `pg_restore`) come from PATH and must be at least the server's
major version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess  # nosec B404  # fixed argument lists to pg_dump / pg_restore, no shell
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.storage import FileSystemStorage, storages
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditChainHead
from audit.services import verify_chain
from cases.documents import orphaned_files, verify_all_documents
from cases.models import CustodyEvent, Document

from .roles import grant_app_role

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media.tar"
CHUNK = 1024 * 1024


class BackupProblem(Exception):
    """A backup or restore cannot go on; the message says why, for an operator."""


@dataclass
class RestoreReport:
    """What a restore brought back and what its verification found."""

    audit_rows: int = 0
    documents: int = 0
    orphaned_files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- helpers ----------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _evidence_root() -> Path:
    storage = storages["evidence"]
    if not isinstance(storage, FileSystemStorage):
        raise BackupProblem(
            f"evidence is stored by {type(storage).__name__}, not on the filesystem: "
            "back up that store with its own versioning or replication"
        )
    return Path(storage.location)


def _program(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupProblem(
            f"{name} is not on PATH: install the PostgreSQL client programs "
            "(Debian: postgresql-client), at least the server's major version"
        )
    return found


def _connection_args() -> tuple[list[str], dict[str, str]]:
    """Where the database is, as libpq arguments; the password only in the
    child's environment, never on its command line (visible in `ps`)."""
    if connection.vendor != "postgresql":
        raise BackupProblem("backup and restore are for PostgreSQL; this database is not")
    db = connection.settings_dict
    args = []
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [option, str(db[key])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    if db.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = db["OPTIONS"]["sslmode"]
    return [*args, "--dbname", db["NAME"]], env


def _run(args: list[str], env: dict[str, str]) -> None:
    # Reviewed: an argument list (no shell) naming a PATH-resolved pg_* program.
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if done.returncode != 0:
        raise BackupProblem(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


# --- backup -----------------------------------------------------------------


def backup(directory: Path) -> dict:
    """Write a backup into `directory` (new or empty); returns the manifest."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupProblem(f"{directory} is not empty: give each backup a new directory")
    media_root = _evidence_root()
    pg_dump = _program("pg_dump")
    args, env = _connection_args()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    # One snapshot for the dump and for the head written into the manifest.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        head = AuditChainHead.objects.filter(pk=1).first()
        documents = Document.objects.count()
        dump = ["--format=custom", f"--snapshot={snapshot}", "--file", str(directory / DUMP)]
        _run([pg_dump, *dump, *args], env)

    media_files = 0
    with tarfile.open(directory / MEDIA, "w") as archive:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    archive.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
                    media_files += 1

    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": connection.settings_dict["NAME"],
        "files": {
            name: {
                "sha256": sha256_of(directory / name),
                "bytes": (directory / name).stat().st_size,
            }
            for name in (DUMP, MEDIA)
        },
        "media_files": media_files,
        "documents": documents,
        "audit_head": {
            "seq": head.last_seq if head else 0,
            "hash": head.last_hash if head else "",
        },
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# --- restore ----------------------------------------------------------------


def read_manifest(directory: Path) -> dict:
    """The manifest, once every file it names re-hashes to its recorded SHA-256."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupProblem(f"{path} is missing: not a backup, or an unfinished one") from None
    except ValueError as error:
        raise BackupProblem(f"{path} is not valid JSON: {error}") from None
    if manifest.get("format") != FORMAT:
        raise BackupProblem(f"unknown backup format {manifest.get('format')!r}")
    for name, expected in manifest["files"].items():
        file = Path(directory) / name
        if not file.is_file():
            raise BackupProblem(f"{name} is missing from the backup")
        if sha256_of(file) != expected["sha256"]:
            raise BackupProblem(f"{name} does not match its SHA-256 in the manifest")
    return manifest


def _refuse_non_empty_targets(media_root: Path) -> None:
    tables = connection.introspection.table_names()
    if tables:
        raise BackupProblem(
            f"database {connection.settings_dict['NAME']} is not empty ({len(tables)} tables): "
            "restore only onto a new, empty database (createdb --owner OWNER NAME)"
        )
    if media_root.is_dir() and any(media_root.iterdir()):
        raise BackupProblem(
            f"the evidence directory {media_root} is not empty: restore into an empty one"
        )


def restore(directory: Path, *, app_role: str = "") -> RestoreReport:
    """Bring a backup up on an empty database, then verify it (see the module
    docstring). Raises `BackupProblem` before changing anything when the backup
    or the targets are not fit; returns a report whose `problems` list what
    verification found."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    media_root = _evidence_root()
    pg_restore = _program("pg_restore")
    args, env = _connection_args()
    _refuse_non_empty_targets(media_root)

    # Owned by whoever restores (the owner role); grants are made afresh below.
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run([pg_restore, *options, *args, str(directory / DUMP)], env)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(directory / MEDIA) as archive:
        archive.extractall(media_root, filter="data")
    if app_role:
        grant_app_role(app_role)

    report = RestoreReport()
    chain = verify_chain()
    report.audit_rows = chain.checked
    if not chain.ok:
        report.problems.append(f"audit chain broken at row {chain.broken_seq}: {chain.problem}")
    head = AuditChainHead.objects.filter(pk=1).first()
    restored_head = {"seq": head.last_seq if head else 0, "hash": head.last_hash if head else ""}
    if restored_head != manifest["audit_head"]:
        report.problems.append(
            f"audit chain head is row {restored_head['seq']}, the manifest says "
            f"{manifest['audit_head']['seq']}"
        )
    report.documents, failed = verify_all_documents()
    if failed:
        failing = (
            Document.objects.filter(custody_events__action=CustodyEvent.Action.INTEGRITY_FAILURE)
            .distinct()
            .values_list("public_id", flat=True)
        )
        report.problems.append(
            f"{failed} of {report.documents} evidence files do not match their recorded "
            f"SHA-256: {', '.join(sorted(str(p) for p in failing))}"
        )
    if report.documents != manifest["documents"]:
        report.problems.append(
            f"{report.documents} documents restored, the manifest says {manifest['documents']}"
        )
    report.orphaned_files = orphaned_files()
    return report
