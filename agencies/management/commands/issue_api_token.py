"""Issue a partner system's API token from the shell.

The plaintext is printed once, alone on standard output, so a script can
take it with `TOKEN=$(…)`; what was issued goes to standard error, and so does
any refusal (with a non-zero exit). Only the token's SHA-256 is stored.
`make token AGENCY=KR-KNP ROLE=coordinator` runs this on the demo database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agencies.models import Agency
from agencies.tokens import default_expiry, issue_api_token
from gate.errors import DomainError
from gate.roles import Role


class Command(BaseCommand):
    help = "Create an agency API client (service account) and print its token once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--agency", required=True, help="Agency code, e.g. KR-KNP.")
        parser.add_argument(
            "--role",
            required=True,
            choices=[r for r in Role.values if r != Role.AGENCY_ADMIN],
            help="Role of the API client in its agency.",
        )
        parser.add_argument("--name", required=True, help='e.g. "KNP case system".')
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="Days until the token expires (default: API_TOKEN_DEFAULT_DAYS; 0: never).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(code=options["agency"]).first()
        if agency is None:
            raise CommandError(f"No agency with code {options['agency']!r}.")
        days = options["expires_days"]
        if days is not None and days < 0:
            raise CommandError("--expires-days cannot be negative.")
        if days is None:
            expires_at = default_expiry()
        else:
            expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            token, plaintext = issue_api_token(
                agency=agency,
                role=options["role"],
                name=options["name"],
                expires_at=expires_at,
                created_by=None,
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        expiry = token.expires_at.isoformat() if token.expires_at else "never"
        self.stderr.write(
            f"API client {token.name!r} of {agency.code} ({options['role']}), "
            f"service account {token.user.username}, token prefix {token.prefix}, "
            f"expires {expiry}. Store the token now; it cannot be shown again."
        )
        self.stdout.write(plaintext)
