"""`manage.py verify_audit`: prove the audit chain is whole and recently vouched
for by a signed checkpoint, or say where it breaks."""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import checkpoint_problem, verify_chain


class Command(BaseCommand):
    help = (
        "Walk the audit hash chain and its signed checkpoints; exit non-zero on a break "
        "or when the newest checkpoint is missing or stale."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-checkpoint-age",
            type=int,
            default=None,
            help="Seconds the newest checkpoint may be old (default: twice "
            "AUDIT_CHECKPOINT_SECONDS).",
        )

    def handle(self, *args, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                f"Audit chain broken at row {result.broken_seq}: {result.problem} "
                f"({result.checked} rows verified before it)."
            )
        max_age = options["max_checkpoint_age"] or 2 * settings.AUDIT_CHECKPOINT_SECONDS
        if max_age <= 0:
            raise CommandError("--max-checkpoint-age must be a positive number of seconds.")
        problem = checkpoint_problem(max_age=dt.timedelta(seconds=max_age))
        if problem:
            raise CommandError(
                f"Audit chain not vouched for: {problem}; {result.checked} rows verified. "
                "Run `manage.py record_audit_checkpoint` once the cause is known."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.checked} rows."))
