"""The restore drill: a backup of a deployment, brought up on an empty
database, proves its audit chain and every evidence file whole; a tampered
one fails loudly."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture(scope="module")
def backup_dir(deployment, seeded, tmp_path_factory) -> Path:
    """`manage.py backup`, run as the app role (it reads everything, owns nothing)."""
    directory = tmp_path_factory.mktemp("backups") / "nightly"
    done = deployment.manage(deployment.app, "backup", str(directory))
    assert done.returncode == 0, done.stderr
    return directory


def _restore(deployment, backup: Path, database: str, media: Path):
    return deployment.manage(
        deployment.owner,
        "restore",
        str(backup),
        "--app-role",
        deployment.app,
        database=database,
        MEDIA_ROOT=str(media),
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_manifest_names_each_file_with_its_sha256_and_the_audit_head(deployment, backup_dir):
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert _sha256(backup_dir / name) == entry["sha256"]
    with deployment.connect(deployment.app) as conn:
        head = conn.execute("SELECT last_seq, last_hash FROM audit_auditchainhead").fetchone()
    assert (manifest["audit_head"]["seq"], manifest["audit_head"]["hash"]) == head
    assert manifest["documents"] == manifest["media_files"] == 3


def test_a_restore_onto_an_empty_database_verifies_the_chain_and_every_evidence_file(
    deployment, seeded, backup_dir, tmp_path
):
    target = deployment.create_database()
    done = _restore(deployment, backup_dir, target, tmp_path / "media")
    assert done.returncode == 0, done.stderr
    assert "audit chain intact" in done.stdout
    assert "3 evidence files match their SHA-256" in done.stdout
    # The app role serves the restored database: it reads what was backed up.
    with deployment.connect(deployment.app, target) as conn:
        ids = {str(r[0]) for r in conn.execute("SELECT public_id FROM cases_document")}
    assert ids == set(seeded["documents"])
    for storage_path in seeded["documents"].values():
        assert (tmp_path / "media" / storage_path).is_file()


def test_a_restore_refuses_a_database_that_is_not_empty(db, backup_dir, tmp_path, settings):
    """The test database has tables: nothing is restored over them."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(backup_dir))
    assert not (tmp_path / "media").exists()


def test_tampered_evidence_fails_the_restore_drill(deployment, seeded, backup_dir, tmp_path):
    """One file altered in the archive, the manifest made to agree: the
    document's recorded SHA-256 still tells."""
    tampered = tmp_path / "tampered"
    shutil.copytree(backup_dir, tampered)
    public_id, victim = next(iter(seeded["documents"].items()))
    with (
        tarfile.open(backup_dir / "media.tar") as src,
        tarfile.open(tampered / "media.tar", "w") as dst,
    ):
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == victim:
                data = data.replace(b"0", b"1", 1)
            dst.addfile(member, io.BytesIO(data))
    manifest = json.loads((tampered / "manifest.json").read_text())
    manifest["files"]["media.tar"]["sha256"] = _sha256(tampered / "media.tar")
    (tampered / "manifest.json").write_text(json.dumps(manifest))

    done = _restore(deployment, tampered, deployment.create_database(), tmp_path / "media")
    assert done.returncode == 1
    assert "1 of 3 evidence files do not match their recorded SHA-256" in done.stderr
    assert public_id in done.stderr


def test_a_backup_altered_after_it_was_written_is_refused_before_anything_changes(
    db, backup_dir, tmp_path, settings
):
    altered = tmp_path / "altered"
    shutil.copytree(backup_dir, altered)
    with (altered / "database.dump").open("r+b") as dump:
        dump.seek(-20, 2)
        dump.write(b"\0" * 20)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with (
        mock.patch("ops.backup._run") as pg_restore,
        pytest.raises(CommandError, match=r"database\.dump does not match its SHA-256"),
    ):
        call_command("restore", str(altered))
    pg_restore.assert_not_called()
    assert not (tmp_path / "media").exists()
