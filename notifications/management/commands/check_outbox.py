"""`manage.py check_outbox`: fail when notifications have stopped going out.

Meant for monitoring and the worker's container health check: it exits
non-zero, listing what it found, while undelivered messages have been due
for longer than `--max-age` seconds (NOTIFICATIONS_OVERDUE_SECONDS by
default), or while anything is dead: outbox messages that exhausted their
attempts, broker messages the worker dropped (`DeadLetter`), messages in
RabbitMQ's `casebridge.dead` queue. `manage.py redrive_outbox` re-drives or
dismisses them.
"""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from notifications.deadletters import alarms
from notifications.outbox import backlog


class Command(BaseCommand):
    help = "Exit non-zero when outbox messages are overdue or dead, listing them."

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
        problems = []
        found = backlog(older_than=dt.timedelta(seconds=max_age))
        if found.overdue:
            problems.append(
                f"{found.overdue} notification message(s) undelivered for more than {max_age} s "
                f"(oldest created {found.oldest:%Y-%m-%d %H:%M:%S %Z}): check that Celery "
                "workers are running and consuming, and that beat runs the outbox sweep."
            )
        dead = alarms()
        if dead.dead_total:
            problems.append(f"{dead.dead_total} dead outbox message(s):")
            problems += [
                f"  {m.pk} {m.event_type} {m.object_type}:{m.object_id}, {m.attempts} attempts, "
                f"created {m.created_at:%Y-%m-%d %H:%M:%S}: {_line(m.last_error)}"
                for m in dead.dead
            ]
            problems += _more(dead.dead_total, len(dead.dead))
        if dead.dropped_total:
            problems.append(f"{dead.dropped_total} dropped broker message(s):")
            problems += [
                f"  #{d.pk} {d.task or '(no task)'}, {d.created_at:%Y-%m-%d %H:%M:%S}: "
                f"{d.reason}; body {_line(d.body)}"
                for d in dead.dropped
            ]
            problems += _more(dead.dropped_total, len(dead.dropped))
        if dead.queued:
            problems.append(f"{dead.queued} message(s) in the broker's dead-letter queue.")
        if dead.queue_error:
            self.stderr.write(f"Dead-letter queue not read: broker {dead.queue_error}.")
        if dead:
            problems.append(
                "Re-drive with `manage.py redrive_outbox [--id ID ...]`, "
                "or give up with `manage.py redrive_outbox --dismiss [--id ID ...]`."
            )
        if problems:
            raise CommandError("\n".join(problems))
        done = f"Outbox: nothing undelivered for more than {max_age} s, no dead letters."
        self.stdout.write(self.style.SUCCESS(done))


def _line(text: str, limit: int = 160) -> str:
    first = (text or "").strip().splitlines()[:1]
    return (first[0][:limit] if first else "") or "-"


def _more(total: int, shown: int) -> list[str]:
    return [f"  … and {total - shown} more"] if total > shown else []
