"""Time and peak memory of a transaction import from CSV (issue 20).

Streams a generated statement of --rows rows (made on the fly as it is read,
so the input itself takes no memory; --accounts distinct senders and as
many wallets) through `cases.transaction_import.import_transactions` on a
fresh case, and prints rows per second and the process's peak RSS before
and after, for a check (`dry_run`) and for the import. Everything it writes
is rolled back. Needs a migrated database:

    DATABASE_URL=postgres://… SECRET_KEY=x DECONFLICTION_HMAC_KEY=bench \\
        python bench/transaction_import.py --rows 100000
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402

HEADER = (
    b"occurred_at,from_kind,from_value,from_bank_code,from_country,"
    b"to_kind,to_value,to_chain,amount,currency,reference\n"
)
# Valid TRON addresses (base58check), cycled as recipients.
WALLETS = (
    "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL",
    "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW",
    "TWCzSQgP2TAZjZfLbzgrR716k6HRXu2cCo",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
)


class Statement(io.RawIOBase):
    """A CSV statement of `rows` rows, produced as it is read."""

    def __init__(self, rows: int, accounts: int):
        self.rows, self.accounts, self.next_row = rows, accounts, 0
        self.pending = HEADER

    def readable(self) -> bool:
        return True

    def _line(self, i: int) -> bytes:
        account = f"110-{i % self.accounts:03d}-567890"
        wallet = WALLETS[i % len(WALLETS)]
        seconds = i % 86400
        day = 1 + i // 86400 % 28
        clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        when = f"2025-03-{day:02d}T{clock}+09:00"
        return (
            f"{when},bank_account,{account},088,KR,crypto_wallet,{wallet},tron,"
            f"{1000 + i}.5,KRW,REF-{i}\n"
        ).encode()

    def readinto(self, buffer) -> int:
        while len(self.pending) < len(buffer) and self.next_row < self.rows:
            self.pending += self._line(self.next_row)
            self.next_row += 1
        n = min(len(buffer), len(self.pending))
        buffer[:n], self.pending = self.pending[:n], self.pending[n:]
        return n


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _Undo(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=200)
    args = parser.parse_args()

    from django.conf import settings

    from agencies import services as agency_services
    from agencies.choices import AgencyKind
    from cases import services
    from cases.transaction_import import import_transactions
    from gate.roles import Role

    settings.TRANSACTION_IMPORT_MAX_ROWS = max(args.rows, settings.TRANSACTION_IMPORT_MAX_ROWS)
    print(f"rows {args.rows:,}, distinct senders {args.accounts}, recipients {len(WALLETS)}")
    print(f"peak RSS before: {peak_rss_mib():.0f} MiB")
    print(f"{'run':<8} {'seconds':>8} {'rows/s':>9} {'imported':>9} {'peak RSS MiB':>13}")
    try:
        with transaction.atomic():
            agency = agency_services.create_agency(
                code="BENCH-IMP",
                name="Bench import",
                country="KR",
                kind=AgencyKind.POLICE,
                timezone="Asia/Seoul",
            )
            user = agency_services.create_member(
                username="bench.import", agency=agency, role=Role.COORDINATOR
            ).user
            case = services.create_case(actor=user, title="Bench import")
            for dry_run in (True, False):
                started = time.monotonic()
                stream = io.BufferedReader(Statement(args.rows, args.accounts))
                report = import_transactions(actor=user, case=case, file=stream, dry_run=dry_run)
                seconds = time.monotonic() - started
                if report.rejected_rows:
                    print("rejected:", report.errors[:5])
                    return 1
                print(
                    f"{'check' if dry_run else 'import':<8} {seconds:>8.1f} "
                    f"{report.valid / seconds:>9,.0f} {report.imported:>9,} "
                    f"{peak_rss_mib():>13.0f}"
                )
            raise _Undo
    except _Undo:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
