"""`manage.py restore DIR`: bring a backup up on an empty database and prove it
whole (audit chain, every evidence file's SHA-256); ops/backup.py says how."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupProblem, restore


class Command(BaseCommand):
    help = (
        "Restore a backup written by `backup` onto an EMPTY database and evidence directory, "
        "as the owner role; then verify the audit chain and every evidence file. Exits "
        "non-zero on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--app-role",
            default="",
            help="Grant this role the application's privileges afterwards (grant_app_role).",
        )

    def handle(self, *args, directory: Path, app_role: str, **options):
        try:
            report = restore(directory, app_role=app_role)
        except BackupProblem as problem:
            raise CommandError(f"Restore refused: {problem}.") from problem
        self.stdout.write(f"Audit chain: {report.audit_rows} rows checked.")
        self.stdout.write(f"Evidence: {report.documents} documents re-hashed.")
        for name in report.orphaned_files:
            self.stderr.write(f"Stored file without a document: {name}")
        if not report.ok:
            for mismatch in report.problems:
                self.stderr.write(f"MISMATCH: {mismatch}")
            raise CommandError(
                f"Restore verification failed ({len(report.problems)} problems): do not put "
                "this database in service."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Restore verified: audit chain intact ({report.audit_rows} rows), "
                f"{report.documents} evidence files match their SHA-256."
            )
        )
