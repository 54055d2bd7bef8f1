"""`manage.py backup DIR`: the database and the evidence files, with a manifest
(ops/backup.py says what is in it and why in that order)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupProblem, backup


class Command(BaseCommand):
    help = (
        "Write a backup into DIR (new or empty): pg_dump custom-format dump, an archive of "
        "the evidence files, and manifest.json with their SHA-256 and the audit chain head."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory: Path, **options):
        try:
            manifest = backup(directory)
        except BackupProblem as problem:
            raise CommandError(f"Backup failed: {problem}.") from problem
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {directory}: {manifest['documents']} documents, "
                f"{manifest['media_files']} stored files, audit chain at row "
                f"{manifest['audit_head']['seq']}."
            )
        )
