"""`manage.py check_outbox`: fail when notifications have stopped going out.

Meant for monitoring and the worker's container health check: it exits
non-zero while undelivered messages have been due for longer than
`--max-age` seconds (NOTIFICATIONS_OVERDUE_SECONDS by default).
"""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from notifications.outbox import backlog


class Command(BaseCommand):
    help = "Exit non-zero when outbox messages have been undelivered for too long."

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-age",
            type=int,
            default=settings.NOTIFICATIONS_OVERDUE_SECONDS,
            help="seconds a due message may stay undelivered (default: %(default)s)",
        )

    def handle(self, *args, max_age: int, **options):
        if max_age < 1:
            raise CommandError("--max-age must be at least 1 second.")
        found = backlog(older_than=dt.timedelta(seconds=max_age))
        if found.overdue:
            raise CommandError(
                f"{found.overdue} notification message(s) undelivered for more than {max_age} s "
                f"(oldest created {found.oldest:%Y-%m-%d %H:%M:%S %Z}): check that Celery "
                "workers are running and consuming, and that beat runs the outbox sweep."
            )
        done = f"Outbox: nothing undelivered for more than {max_age} s."
        self.stdout.write(self.style.SUCCESS(done))
