"""`manage.py expire_uploads`: what beat's `cases.expire_uploads` does, by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cases import uploads


class Command(BaseCommand):
    help = "Delete expired resumable evidence uploads and their partial files."

    def handle(self, *args, **options) -> None:
        removed = uploads.expire_uploads()
        self.stdout.write(f"Removed {removed} expired upload(s) or partial file(s).")
