"""`manage.py record_audit_checkpoint`: sign the chain head (for cron; Celery beat
calls `audit.services.record_checkpoint` directly)."""

from django.core.management.base import BaseCommand

from audit.services import record_checkpoint


class Command(BaseCommand):
    help = "Record an HMAC-signed checkpoint of the audit chain head."

    def handle(self, *args, **options):
        checkpoint = record_checkpoint()
        self.stdout.write(f"Checkpoint at row {checkpoint.seq}: {checkpoint.hash}")
