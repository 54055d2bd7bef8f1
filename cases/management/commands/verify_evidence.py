"""`manage.py verify_evidence`: re-hash every stored evidence file."""

from django.core.management.base import BaseCommand, CommandError

from cases.documents import orphaned_files, verify_all_documents


class Command(BaseCommand):
    help = "Re-hash every evidence document (custody 'verify' events); list orphaned files."

    def handle(self, *args, **options):
        checked, failed = verify_all_documents()
        for name in orphaned_files():
            self.stderr.write(f"Stored file without a document: {name}")
        if failed:
            raise CommandError(f"{failed} of {checked} documents failed their integrity check.")
        self.stdout.write(self.style.SUCCESS(f"{checked} documents verified."))
