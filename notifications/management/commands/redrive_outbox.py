"""`manage.py redrive_outbox`: deliver dead letters again, or give up on them.

Without options: empties RabbitMQ's `casebridge.dead` queue into the
database (`notifications.deadletters.drain_dead_queue`), then gives every
dead outbox message a fresh set of attempts and publishes it. `--id` limits
it to some messages (outbox message UUIDs; dropped-message numbers `#N` as
`check_outbox` lists them can only be dismissed: they name nothing to
deliver). `--dismiss` gives up instead: the rows stay, without alarm.
"""

import uuid

from django.core.management.base import BaseCommand, CommandError

from notifications import deadletters


class Command(BaseCommand):
    help = "Re-drive (or with --dismiss, give up on) dead outbox messages and dropped messages."

    def add_arguments(self, parser):
        parser.add_argument(
            "--id",
            action="append",
            dest="ids",
            default=[],
            help="an outbox message UUID or a dropped message's number (repeatable)",
        )
        parser.add_argument(
            "--dismiss", action="store_true", help="give up on them instead of re-driving"
        )

    def handle(self, *args, ids: list[str], dismiss: bool, **options):
        messages: set[uuid.UUID] = set()
        letters: set[int] = set()
        for value in ids:
            if (pk := deadletters.as_uuid(value)) is not None:
                messages.add(pk)
            elif value.lstrip("#").isdigit():
                letters.add(int(value.lstrip("#")))
            else:
                raise CommandError(f"--id {value!r}: neither an outbox message id nor a number.")
        if dismiss:
            deadletters.drain_dead_queue()
            if ids:
                count = deadletters.dismiss(messages=messages, letters=letters)
            else:
                count = deadletters.dismiss()
            self.stdout.write(f"Dismissed {count} dead letter(s).")
            return
        if letters:
            raise CommandError(
                "Dropped messages name nothing to deliver: dismiss them with --dismiss."
            )
        redriven = deadletters.redrive(messages or None)
        for pk in redriven:
            self.stdout.write(f"re-driven {pk}")
        self.stdout.write(f"Re-drove {len(redriven)} dead outbox message(s).")
