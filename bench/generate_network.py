"""Add networks and money to a data set made by `bench.generate` (issue 20).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_1m SECRET_KEY=x \\
        DECONFLICTION_HMAC_KEY=bench .venv/bin/python -m bench.generate_network \\
        --cases 500000 --transactions 10000000

For `--cases` random cases: four to eight accounts and wallets (identifiers,
recorded by the case's lead agency), two to four entities (a suspect, a
company, a compound) with links between them and to the accounts, and on
average `--transactions / --cases` transactions between the case's accounts.
Money crosses cases as it does in the field: a share of each case's accounts
are mule wallets and accounts drawn from a Zipf-popular pool
(`--shared-accounts`), so the same value, and so the same deconfliction
hash, is recorded in several cases of several agencies, and a trace hops
from case to case. One case of the busiest agency gets a large network
(`--big-case-transactions`), for the graph benchmark; its id is printed.

Rows are written with COPY, as `bench.generate` writes its own (no audit
events for them). `--reset` removes what an earlier run wrote (the network
tables, and the identifiers it added, which carry the chain `bench-net`)
first; without it, a data set that already has transactions is left alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from agencies.models import Membership  # noqa: E402
from bench.generate import (  # noqa: E402
    Progress,
    Table,
    build_indexes,
    drop_indexes,
    next_id,
    pick,
    refresh_recorded_values,
    sync_sequence,
    zipf_cum,
)
from cases.identifiers import keyed_hash  # noqa: E402
from cases.models import Entity, Identifier, Link, Transaction  # noqa: E402

#: The first id of the identifiers this generator adds.
IDENTIFIER_IDS_FROM = 100_000_000
#: The chain of every identifier this generator adds (and `--reset` removes).
MARK = "bench-net"
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
CURRENCIES = (("USDT-TRC20", 0.6), ("KRW", 0.25), ("USD", 0.1), ("KHR", 0.05))

TABLES = {
    "identifier": Table(
        Identifier,
        [
            "id",
            "public_id",
            "case_id",
            "kind",
            "raw_value",
            "normalised_value",
            "value_hash",
            "chain",
            "added_by_id",
            "agency_id",
            "created_at",
            # Migration 0031's copies of the case (`agency` is its lead; the
            # generated cases are all discoverable).
            "case_lead_agency_id",
            "case_discoverable",
        ],
    ),
    "entity": Table(
        Entity,
        [
            "id",
            "public_id",
            "case_id",
            "agency_id",
            "created_by_id",
            "created_at",
            "updated_at",
            "kind",
            "name",
            "role",
            "handling_code",
        ],
    ),
    "link": Table(
        Link,
        [
            "id",
            "public_id",
            "case_id",
            "agency_id",
            "created_by_id",
            "created_at",
            "updated_at",
            "kind",
            "from_entity_id",
            "from_identifier_id",
            "to_entity_id",
            "to_identifier_id",
        ],
    ),
    "transaction": Table(
        Transaction,
        [
            "id",
            "public_id",
            "case_id",
            "agency_id",
            "created_by_id",
            "created_at",
            "updated_at",
            "from_identifier_id",
            "to_identifier_id",
            "from_hash",
            "to_hash",
            "amount",
            "currency",
            "occurred_at",
            "reference",
            "handling_code",
        ],
    ),
}


def _account(n: int, shared: bool) -> tuple[str, str, str]:
    """(kind, value, chain) of account number `n` of the pool or of a case."""
    prefix = "S" if shared else "C"
    if n % 3:
        return "crypto_wallet", f"T{prefix}{n:032d}", MARK
    return "bank_account", f"{prefix}{n:012d}", MARK


def reset(cursor) -> None:
    cursor.execute(
        "TRUNCATE cases_assetstatechange, cases_asset, cases_transaction, cases_link, cases_entity"
    )
    cursor.execute("DELETE FROM cases_identifier WHERE chain = %s", [MARK])


def _coordinators() -> dict[int, int]:
    """A member of each agency, to record its rows (a coordinator if any)."""
    chosen: dict[int, int] = {}
    for agency_id, user_id, role in Membership.objects.values_list("agency_id", "user_id", "role"):
        if agency_id not in chosen or role == "coordinator":
            chosen[agency_id] = user_id
    return chosen


def _busiest_lead_case(cursor) -> int:
    cursor.execute(
        "SELECT c.id FROM cases_case c WHERE c.lead_agency_id = ("
        "  SELECT lead_agency_id FROM cases_case GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ") ORDER BY c.id LIMIT 1"
    )
    return cursor.fetchone()[0]


class Writer:
    """Buffers the rows of each table and COPYs them in batches."""

    def __init__(self, cursor, key: bytes, rng: random.Random, pool: int):
        self.cursor, self.key, self.rng = cursor, key, rng
        self.rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
        self.ids = {
            # Far above bench.generate's own ids, so that this may run while
            # it is still loading cases.
            "identifier": max(next_id(cursor, Identifier), IDENTIFIER_IDS_FROM),
            "entity": next_id(cursor, Entity),
            "link": next_id(cursor, Link),
            "transaction": next_id(cursor, Transaction),
        }
        self.counts = dict.fromkeys(TABLES, 0)
        self.pool_cum = zipf_cum(pool, 1.1, rng, shuffle=True)
        self.private = 0
        self.reference = 0

    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] += 1
        return value

    def flush(self) -> None:
        for name, rows in self.rows.items():
            if rows:
                self.counts[name] += TABLES[name].write(self.cursor, rows)
                rows.clear()

    def _when(self) -> dt.datetime:
        return NOW - dt.timedelta(seconds=self.rng.randrange(2 * 365 * 86400))

    def case(self, case_id: int, agency: int, user: int, accounts: int, transactions: int,
             entities: int) -> None:  # fmt: skip
        rng = self.rng
        created = self._when()
        held: list[tuple[int, bytes]] = []
        for _ in range(accounts):
            if rng.random() < 0.3:
                kind, value, chain = _account(pick(self.pool_cum, rng), shared=True)
            else:
                self.private += 1
                kind, value, chain = _account(self.private, shared=False)
            value_hash = keyed_hash(kind, value, key=self.key)
            if any(value_hash == h for _, h in held):
                continue  # a pool account drawn twice: once per case
            pk = self._next("identifier")
            self.rows["identifier"].append(
                (pk, uuid.uuid4(), case_id, kind, value, value, value_hash, chain, user, agency,
                 created, agency, True)
            )  # fmt: skip
            held.append((pk, value_hash))
        people: list[int] = []
        for i in range(entities):
            pk = self._next("entity")
            kind, name, role = (
                ("person", f"Suspect {pk}", "suspect")
                if i % 3 == 0
                else ("organisation", f"Golden Sands {pk} Ltd", "")
                if i % 3 == 1
                else ("place", f"Compound {pk}", "")
            )
            self.rows["entity"].append(
                (pk, uuid.uuid4(), case_id, agency, user, created, created, kind, name, role,
                 "AMBER")
            )  # fmt: skip
            people.append(pk)
        for i, entity in enumerate(people):
            account = held[i % len(held)][0]
            self.rows["link"].append(
                (self._next("link"), uuid.uuid4(), case_id, agency, user, created, created,
                 "holds_account", entity, None, None, account)
            )  # fmt: skip
            if i:
                self.rows["link"].append(
                    (self._next("link"), uuid.uuid4(), case_id, agency, user, created, created,
                     "controls", people[0], None, entity, None)
                )  # fmt: skip
        for _ in range(transactions):
            (a, a_hash), (b, b_hash) = rng.sample(held, 2)
            currency = rng.choices(*zip(*CURRENCIES, strict=True))[0]
            amount = Decimal(rng.randrange(100, 5_000_000)) / 100
            if currency == "KRW":
                amount = Decimal(int(amount * 1000))
            when = self._when()
            self.reference += 1
            self.rows["transaction"].append(
                (self._next("transaction"), uuid.uuid4(), case_id, agency, user, when, when,
                 a, b, a_hash, b_hash, amount, currency, when, f"ref-{self.reference}",
                 "GREEN" if rng.random() < 0.3 else "AMBER")
            )  # fmt: skip


def generate(*, cases: int, transactions: int, pool: int, big: int, seed: int,
             do_reset: bool, batch: int = 5_000) -> dict:  # fmt: skip
    rng = random.Random(seed)
    key = settings.DECONFLICTION_HMAC_KEY.encode()
    started = time.perf_counter()
    users = _coordinators()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute("SET session_replication_role = replica")
        try:
            if do_reset:
                with transaction.atomic():
                    reset(cursor)
            elif Transaction.objects.exists():
                return {}
            cursor.execute("SELECT count(*) FROM cases_case")
            total = cursor.fetchone()[0]
            chosen = min(cases, total)
            cursor.execute(
                "SELECT id, lead_agency_id FROM cases_case TABLESAMPLE BERNOULLI (%s) "
                "REPEATABLE (%s) LIMIT %s",
                [min(100.0, 100.0 * chosen / total * 1.05), seed, chosen],
            )
            picked = cursor.fetchall()
            big_case = _busiest_lead_case(cursor)
            cursor.execute("SELECT lead_agency_id FROM cases_case WHERE id = %s", [big_case])
            big_agency = cursor.fetchone()[0]
            writer = Writer(cursor, key, rng, pool)
            dropped = drop_indexes(cursor, ["cases_transaction"]) if transactions > 10**6 else []
            per_case = max(1, transactions // max(len(picked), 1))
            progress = Progress(len(picked), "network")
            with transaction.atomic():
                writer.case(big_case, big_agency, users[big_agency], 1_000, big, 300)
                writer.flush()
            for start in range(0, len(picked), batch):
                with transaction.atomic():
                    for case_id, agency in picked[start : start + batch]:
                        if case_id == big_case:
                            continue
                        writer.case(
                            case_id,
                            agency,
                            users[agency],
                            accounts=rng.randint(4, 8),
                            transactions=rng.randint(1, 2 * per_case - 1),
                            entities=rng.randint(2, 4),
                        )
                    writer.flush()
                progress.update(min(start + batch, len(picked)),
                                f"({writer.counts['transaction']:,} transactions)")  # fmt: skip
            progress.done()
            build_indexes(cursor, dropped)
            refresh_recorded_values(cursor)
            for model in (Identifier, Entity, Link, Transaction):
                sync_sequence(cursor, model)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        sys.stderr.write("ANALYZE…\n")
        for table in ("cases_identifier", "cases_entity", "cases_link", "cases_transaction"):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("SELECT public_id FROM cases_case WHERE id = %s", [big_case])
        big_public = cursor.fetchone()[0]
    counts = dict(writer.counts)
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["big case"] = str(big_public)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=500_000, help="cases that get money")
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--shared-accounts", type=int, default=200_000)
    parser.add_argument("--big-case-transactions", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--reset", action="store_true", help="remove an earlier run's rows")
    args = parser.parse_args(argv)
    counts = generate(
        cases=args.cases,
        transactions=args.transactions,
        pool=args.shared_accounts,
        big=args.big_case_transactions,
        seed=args.seed,
        do_reset=args.reset,
    )
    if not counts:
        print("Transactions are already there; pass --reset to make them again.")
        return
    for name, value in counts.items():
        print(f"{name:24} {value:>12,}" if isinstance(value, int) else f"{name:24} {value}")


if __name__ == "__main__":
    main()
