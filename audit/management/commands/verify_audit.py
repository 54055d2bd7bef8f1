"""`manage.py verify_audit`: prove the audit chain is whole, or say where it breaks."""

from django.core.management.base import BaseCommand, CommandError

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Walk the audit hash chain and its signed checkpoints; exit non-zero on a break."

    def handle(self, *args, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                f"Audit chain broken at row {result.broken_seq}: {result.problem} "
                f"({result.checked} rows verified before it)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.checked} rows."))
