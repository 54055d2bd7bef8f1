"""Bulk import of identifiers from a CSV file into one case.

Each row goes through `add_identifier`, as if typed in by the user named
with --as, in its own savepoint: valid rows are imported, invalid ones are
reported with their line number and message, and a refused row changes
nothing.

Columns (header row required; only kind and value are mandatory): kind,
value, chain, country, date_of_birth, platform, bank_code,
registration_number, notes, handling_code, handling_instruction,
handling_restriction.
"""

from __future__ import annotations

import csv
import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from cases import access
from cases.deconfliction import add_identifier
from gate.errors import DomainError

COLUMNS = {
    "kind",
    "value",
    "chain",
    "country",
    "date_of_birth",
    "platform",
    "bank_code",
    "registration_number",
    "notes",
    "handling_code",
    "handling_instruction",
    "handling_restriction",
}


class Command(BaseCommand):
    help = "Import deconfliction identifiers from a CSV file into a case."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8, header row)")
        parser.add_argument("--case", required=True, help="case public id or reference")
        parser.add_argument(
            "--as", dest="username", required=True, help="the user recording the identifiers"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file, case, username, no_progress, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        target = self._case(user, case)
        rows = self._read(file)
        imported, errors = 0, []
        for line, row in tqdm(
            rows, unit="row", disable=no_progress, file=self.stderr._out, desc="identifiers"
        ):
            fields = {k: v.strip() for k, v in row.items() if k in COLUMNS and v and v.strip()}
            try:
                with transaction.atomic():
                    add_identifier(
                        actor=user,
                        case=target,
                        kind=fields.pop("kind", ""),
                        value=fields.pop("value", ""),
                        **fields,
                    )
            except DomainError as exc:
                messages = "; ".join(f"{f}: {', '.join(m)}" for f, m in exc.errors.items())
                errors.append((line, messages))
            else:
                imported += 1
        for line, message in errors:
            self.stderr.write(f"line {line}: {message}")
        self.stdout.write(
            f"{imported} identifiers imported into {target.reference}; {len(errors)} rows refused."
        )

    def _case(self, user, value: str):
        cases = access.visible_cases(user)
        try:
            found = cases.filter(public_id=uuid.UUID(value)).first()
        except ValueError:
            found = cases.filter(reference=value).first()
        if found is None:
            raise CommandError(f"Case {value!r} not found (or not visible to {user}).")
        return found

    def _read(self, path: str) -> list[tuple[int, dict[str, str]]]:
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                header = set(reader.fieldnames or ())
                if not {"kind", "value"} <= header:
                    raise CommandError("The header row must name at least kind and value.")
                unknown = header - COLUMNS
                if unknown:
                    raise CommandError(f"Unknown columns: {', '.join(sorted(unknown))}.")
                return [(reader.line_num, row) for row in reader]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
