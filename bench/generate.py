"""Generate an agency-scale Casebridge data set with COPY (issue 10).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench SECRET_KEY=x \\
        DECONFLICTION_HMAC_KEY=bench .venv/bin/python -m bench.generate \\
        --agencies 200 --cases 1000000 --users 20000 --reset

Writes agencies (each with its Group), users with their memberships and
group membership, cases, participations with the guardian grants that
match them (`CaseGroupObjectPermission`, each level with the lower ones:
view / contribute / manage), tasks, notes, identifiers, MLA requests with
their grants, and a valid hash-chained audit event per case creation and per
share, in batches of cases (one transaction and one COPY per table each).

The skew is what a region looks like: agency sizes follow a Zipf law, the
few largest ("hubs") share each case with several agencies, most agencies
share little, and share targets are themselves Zipf-popular (international
bodies receive most). A few shares are revoked (no grants), a few expired but
not yet swept by the expiry job (grants still present: the selector must
hide them), a few confidential.

Rows are written directly, not through the services: the services write one
case in ~15 queries, which is ~1 hour per million. The data is what the
services would write; `tests/bench/test_bench.py` runs this command at a small size
and checks the app's own selectors accept it (`--expected`). Re-running
without `--reset` leaves an existing data set alone.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import enum
import itertools
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.db.models import NOT_PROVIDED  # noqa: E402

from agencies.models import Agency, Membership  # noqa: E402
from audit.models import AuditChainHead, AuditEvent  # noqa: E402
from audit.services import GENESIS_HASH, compute_hash, row_of  # noqa: E402
from cases.identifiers import keyed_hash  # noqa: E402
from cases.models import (  # noqa: E402
    Case,
    CaseGroupObjectPermission,
    CaseParticipation,
    CaseSequence,
    Identifier,
    MLARequest,
    MLARequestGroupObjectPermission,
    Note,
    Task,
)

CODE_PREFIX = "BG"  # generated agencies are BG0000, BG0001, …
COUNTRIES = ["KR", "KH", "TH", "VN", "PH", "MY", "ID", "LA", "MM", "SG", "JP", "AU", "GB", "US"]
KINDS = ["police", "police", "police", "prosecution", "fiu", "central_authority", "regulator"]
CRIMES = ["investment_fraud", "romance_fraud", "human_trafficking", "money_laundering"]
CASE_STATUSES = ["open"] * 3 + ["active"] * 5 + ["suspended", "closed", "closed", "archived"]
TASK_COUNTS = [0, 0, 1, 1, 2, 3, 5]
NOTE_COUNTS = [0, 1, 2, 3, 4, 6]
NOTE_CODES = ["GREEN"] * 3 + ["AMBER"] * 5 + ["CLEAR", "AMBER+STRICT", "RED"]
LEVELS = ["view", "view", "view", "contribute", "contribute", "manage"]
ROLES = ["viewer", "investigator", "investigator", "coordinator"]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
SPAN = dt.timedelta(days=730)

# --- the words (issue 19: the search has something to find) -----------------------
#
# Drawn from their own random stream (`World.words`), so that the agencies,
# shares, tasks and notes (the main stream) are the same as before the words
# were added: the other benchmarks' data do not move. Mostly English, with a
# share of Korean, Khmer and Chinese (names of victims and suspects), a rare
# code name (`RARE_WORD`) for the search's "rare word", and never "fraud" (the
# case list's `q=fraud` benchmark keeps its no-match walk).
RARE_WORD = "Nightjar"
RARE_SHARE = 0.0005
KO_NAMES = ["김민수", "김민준", "김민지", "이서연", "박지훈", "최유진", "정하늘", "강동원"]
KM_NAMES = ["សុខ ដារ៉ា", "ចាន់ សុភា", "ហេង សំណាង", "លី ស្រីនី", "កែវ វណ្ណា"]
ZH_NAMES = ["王伟", "李娜", "张伟", "刘洋", "陈静", "黄磊"]
EN_NAMES = ["John Carter", "Maria Santos", "Nguyen Van An", "Somchai Wong", "Li Wei"]
PLACES = ["Sihanoukville", "Bavet", "Poipet", "Phnom Penh", "Koh Kong", "Myawaddy"]
EXCHANGES = ["Huione", "Binance", "OKX", "Bybit", "a local OTC desk"]
SUMMARIES = {
    "en": [
        "Victims recruited through a fake trading app; funds moved to {exchange} accounts.",
        "Romance scam run from a compound in {place}; victim {name} lost savings.",
        "Money mule network laundering proceeds through USDT on Tron.",
        "Trafficked workers held at a compound near {place}; {name} escaped.",
        "Generated case for benchmarks.",
    ],
    "ko": [
        "피해자 {ko} 진술 확보, 가상자산 거래소 {exchange} 계좌로 송금.",
        "용의자 {ko}, 캄보디아 {place} 범죄단지에서 활동.",
    ],
    "km": ["ជនសង្ស័យ {km} នៅ {place} ។", "ជនរងគ្រោះ {km} បានផ្ដល់ចម្លើយ។"],
    "zh": ["嫌疑人{zh}在{place}园区负责洗钱。", "受害人{zh}通过{exchange}转账。"],
}
NOTES = {
    "en": [
        "Wallet cluster linked to compound payroll; see attached trace.",
        "Bank records received; transfers to {exchange} traced.",
        "Interview with victim {name} scheduled.",
        "Phone seized in {place}; extraction pending.",
    ],
    "ko": ["피해자 {ko} 조사 완료.", "{ko} 명의 계좌 지급정지 요청."],
    "km": ["បានសួរចម្លើយ {km} រួចរាល់។"],
    "zh": ["{zh}的银行账户已冻结。"],
}
TASKS = {
    "en": ["Trace wallet {n}", "Request bank records {n}", "Interview {name}"],
    "ko": ["{ko} 계좌 추적 {n}"],
    "km": ["សួរចម្លើយ {km}"],
    "zh": ["追查{zh}的钱包 {n}"],
}
# Which language a text is in: mostly English.
LANGUAGE_WEIGHTS = {"en": 0.8, "ko": 0.1, "km": 0.05, "zh": 0.05}


def words(rng: random.Random, templates: dict[str, list[str]], n: int = 0) -> str:
    """One text from `templates`, its language and names drawn from `rng`."""
    language = rng.choices(list(LANGUAGE_WEIGHTS), weights=list(LANGUAGE_WEIGHTS.values()))[0]
    text = rng.choice(templates[language]).format(
        n=n,
        name=rng.choice(EN_NAMES),
        ko=rng.choice(KO_NAMES),
        km=rng.choice(KM_NAMES),
        zh=rng.choice(ZH_NAMES),
        place=rng.choice(PLACES),
        exchange=rng.choice(EXCHANGES),
    )
    if rng.random() < RARE_SHARE:
        text += f" Code name {RARE_WORD}."
    return text


# --- COPY helper ------------------------------------------------------------------


class Table:
    """COPY rows into a model's table, giving only the columns that vary.

    Every other concrete column gets its field's static default ('' for blank
    text, NULL for nullable), computed once: the rows are exactly what the
    ORM would have written, without building model instances.
    """

    def __init__(self, model: type[models.Model], varying: list[str]):
        self.model = model
        self.varying = varying
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(varying) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__}: no columns {unknown}")
        self.constant_columns, self.constant = [], []
        for name, f in fields.items():
            if name in varying or f.primary_key:
                continue
            if f.has_default() and not callable(f.default):
                value = f.default
            elif f.has_default() and f.default in (list, dict):
                value = f.default()
            elif f.null:
                value = None
            elif f.default is NOT_PROVIDED and isinstance(f, (models.CharField, models.TextField)):
                value = ""
            else:
                raise ValueError(f"{model.__name__}.{name}: give a value")
            if isinstance(f, models.JSONField):
                value = json.dumps(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            self.constant_columns.append(f.column)
            self.constant.append(value)
        self.constant = tuple(self.constant)
        columns = [fields[n].column for n in varying] + self.constant_columns
        self.sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"

    def write(self, cursor, rows) -> int:
        count = 0
        with cursor.copy(self.sql) as copy:
            tail = self.constant
            for row in rows:
                copy.write_row(row + tail)
                count += 1
        return count


def next_id(cursor, model) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
    return cursor.fetchone()[0]


def sync_sequence(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"GREATEST((SELECT MAX(id) FROM {table}), 1))"
    )


#: The tables `generate` fills, whose plain indexes are built after the load.
LOADED_TABLES = (
    "cases_case",
    "cases_casegroupobjectpermission",
    "cases_caseparticipation",
    "cases_task",
    "cases_note",
    "cases_identifier",
    "cases_mlarequest",
    "audit_auditevent",
)


def drop_indexes(cursor, tables) -> list[str]:
    """Drop the plain indexes of `tables` (not those of constraints) and
    return their definitions, to build after the load: a million cases load
    in a fraction of the time without them (the trigram GIN indexes of the
    texts above all), and each index is then built once, sorted."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [list(tables)],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def build_indexes(cursor, definitions: list[str], quiet: bool = False) -> None:
    cursor.execute("SET maintenance_work_mem = '512MB'")
    for definition in definitions:
        if not quiet:
            sys.stderr.write(f"{definition[:150]}\n")
        cursor.execute(definition)


# --- the plan --------------------------------------------------------------------


@dataclass
class World:
    agencies: list[dict]  # id, code, group_id, hub
    users: dict[int, list[tuple[int, str]]]  # agency id -> [(user id, role)]
    coordinators: dict[int, int]  # agency id -> one coordinator's user id
    lead_cum: list[float]
    target_cum: list[float]
    #: The words' own random stream (see `words`).
    words: random.Random = field(default_factory=random.Random)
    expected: dict[int, set[int]] | None = None  # agency id -> visible case ids
    counts: dict[str, int] = field(default_factory=dict)


def zipf_cum(n: int, s: float, rng: random.Random, shuffle: bool) -> list[float]:
    weights = [1 / (rank + 1) ** s for rank in range(n)]
    if shuffle:
        rng.shuffle(weights)
    return list(itertools.accumulate(weights))


def pick(cum: list[float], rng: random.Random) -> int:
    return bisect.bisect(cum, rng.random() * cum[-1])


class Progress:
    """A plain stderr progress line: done/total, rate, elapsed, estimate."""

    def __init__(self, total: int, label: str, quiet: bool = False):
        self.total, self.label, self.quiet = total, label, quiet
        self.started = time.perf_counter()

    def update(self, done: int, extra: str = "") -> None:
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed else 0
        eta = (self.total - done) / rate if rate else 0
        width = 30
        filled = int(width * done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(
            f"\r{self.label} [{bar}] {done:,}/{self.total:,} {rate:,.0f}/s "
            f"{elapsed:.0f}s elapsed, ~{eta:.0f}s left {extra}   "
        )
        sys.stderr.flush()

    def done(self) -> None:
        if not self.quiet:
            sys.stderr.write("\n")


# --- writers ---------------------------------------------------------------------


def existing(cursor) -> int:
    cursor.execute("SELECT COUNT(*) FROM agencies_agency WHERE code LIKE %s", [CODE_PREFIX + "%"])
    return cursor.fetchone()[0]


def refresh_recorded_values(cursor) -> None:
    """`RecordedValue` as its trigger (migration 0032, off during a load)
    would have kept it: each value, its first agency, whether another
    recorded it too."""
    cursor.execute("DELETE FROM cases_recordedvalue")
    cursor.execute(
        "INSERT INTO cases_recordedvalue (value_hash, agency_id, shared) "
        "SELECT value_hash, MIN(agency_id), MIN(agency_id) < MAX(agency_id) "
        "FROM cases_identifier GROUP BY value_hash"
    )


def reset(cursor) -> None:
    """Empty every table this generator writes (and those depending on them)."""
    user_table = get_user_model()._meta.db_table
    cursor.execute(
        f"TRUNCATE agencies_agency, auth_group, {user_table}, cases_case, "
        "audit_auditevent, audit_auditcheckpoint RESTART IDENTITY CASCADE"
    )
    AuditChainHead.objects.update_or_create(
        pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
    )


def write_agencies(cursor, n: int, users_total: int, rng: random.Random) -> World:
    group_base, agency_base = next_id(cursor, Group), next_id(cursor, Agency)
    groups = Table(Group, ["id", "name"])
    agency_table = Table(
        Agency,
        [
            "id",
            "public_id",
            "code",
            "name",
            "country",
            "kind",
            "group_id",
            "created_at",
            "updated_at",
        ],
    )
    hubs = max(1, n // 20)
    agencies = []
    for i in range(n):
        code = f"{CODE_PREFIX}{i:04d}"
        agencies.append(
            {"id": agency_base + i, "code": code, "group_id": group_base + i, "hub": i < hubs}
        )
    groups.write(cursor, ((a["group_id"], f"agency:{a['code']}") for a in agencies))
    agency_table.write(
        cursor,
        (
            (
                a["id"],
                uuid.uuid4(),
                a["code"],
                f"Generated agency {a['code']}",
                "INT" if i % 17 == 1 else COUNTRIES[i % len(COUNTRIES)],
                "international" if i % 17 == 1 else KINDS[i % len(KINDS)],
                a["group_id"],
                NOW,
                NOW,
            )
            for i, a in enumerate(agencies)
        ),
    )
    # Users in proportion to agency size, at least one per role per agency.
    lead_cum = zipf_cum(n, 1.1, rng, shuffle=False)
    target_cum = zipf_cum(n, 0.7, rng, shuffle=True)
    weights = [lead_cum[0]] + [b - a for a, b in itertools.pairwise(lead_cum)]
    total_weight = lead_cum[-1]
    per_agency = [max(4, round(users_total * w / total_weight)) for w in weights]
    User = get_user_model()
    user_base = next_id(cursor, User)
    membership_base = next_id(cursor, Membership)
    users: dict[int, list[tuple[int, str]]] = {}
    user_rows, membership_rows, group_rows = [], [], []
    uid = user_base
    for a, count in zip(agencies, per_agency, strict=True):
        members = []
        for k in range(count):
            role = (
                ["coordinator", "investigator", "viewer", "agency_admin"][k]
                if k < 4
                else (rng.choice(ROLES))
            )
            members.append((uid, role))
            user_rows.append((uid, f"{a['code'].lower()}.u{k:05d}", NOW))
            membership_rows.append(
                (membership_base + len(membership_rows), uuid.uuid4(), uid, a["id"], role, NOW)
            )
            group_rows.append((uid, a["group_id"]))
            uid += 1
        users[a["id"]] = members
    user_table = Table(User, ["id", "username", "date_joined"])
    # An unusable password: bench users log in by force_login or a token.
    user_table.constant = tuple(
        "!bench" if c == "password" else v
        for c, v in zip(user_table.constant_columns, user_table.constant, strict=True)
    )
    user_table.write(cursor, ((i, name, at) for i, name, at in user_rows))
    Table(Membership, ["id", "public_id", "user_id", "agency_id", "role", "created_at"]).write(
        cursor, membership_rows
    )
    with cursor.copy(
        f"COPY {User.groups.through._meta.db_table} (user_id, group_id) FROM STDIN"
    ) as copy:
        for row in group_rows:
            copy.write_row(row)
    for model in (Group, Agency, User, Membership):
        sync_sequence(cursor, model)
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{User.groups.through._meta.db_table}',"
        " 'id'), (SELECT MAX(id) FROM " + User.groups.through._meta.db_table + "))"
    )
    coordinators = {aid: members[0][0] for aid, members in users.items()}
    return World(
        agencies,
        users,
        coordinators,
        lead_cum,
        target_cum,
        counts={"agencies": n, "users": uid - user_base},
    )


@dataclass
class Ids:
    case: int
    participation: int
    task: int
    note: int
    identifier: int
    mla: int
    identifier_value: int = 0


def write_cases(
    cursor, world: World, total: int, batch: int, rng: random.Random, quiet: bool
) -> None:
    perms = {
        p.codename: p.id
        for p in Permission.objects.filter(
            content_type__app_label="cases",
            codename__in=["view_case", "contribute_case", "manage_case", "view_mlarequest"],
        )
    }
    AuditChainHead.objects.get_or_create(pk=1)
    ids = Ids(
        case=next_id(cursor, Case),
        participation=next_id(cursor, CaseParticipation),
        task=next_id(cursor, Task),
        note=next_id(cursor, Note),
        identifier=next_id(cursor, Identifier),
        mla=next_id(cursor, MLARequest),
    )
    tables = {
        "case": Table(
            Case,
            [
                "id",
                "public_id",
                "reference",
                "title",
                "summary",
                "crime_types",
                "status",
                "handling_code",
                "lead_agency_id",
                "created_by_id",
                "updated_by_id",
                "created_at",
                "updated_at",
                "version",
            ],
        ),
        "participation": Table(
            CaseParticipation,
            [
                "id",
                "public_id",
                "case_id",
                "agency_id",
                "level",
                "confidential",
                "granted_by_id",
                "granted_by_agency_id",
                "granted_at",
                "expires_at",
                "revoked_at",
                "revoked_by_id",
                "end_reason",
                "updated_at",
            ],
        ),
        "task": Table(
            Task,
            [
                "id",
                "public_id",
                "case_id",
                "title",
                "assigned_agency_id",
                "status",
                "priority",
                "due_date",
                "created_by_id",
                "created_at",
                "updated_at",
            ],
        ),
        "note": Table(
            Note,
            [
                "id",
                "public_id",
                "case_id",
                "author_id",
                "agency_id",
                "body",
                "handling_code",
                "created_at",
            ],
        ),
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
                # Migration 0031's copies of the case (its trigger is off
                # during the load): the generator's cases are all discoverable.
                "case_lead_agency_id",
                "case_discoverable",
            ],
        ),
        "mla": Table(
            MLARequest,
            [
                "id",
                "public_id",
                "case_id",
                "requesting_agency_id",
                "requested_agency_id",
                "legal_basis",
                "status",
                "facts",
                "created_by_id",
                "updated_by_id",
                "created_at",
                "updated_at",
            ],
        ),
        "audit": Table(
            AuditEvent,
            [
                "seq",
                "occurred_at",
                "actor_id",
                "actor_label",
                "agency_id",
                "agency_code",
                "action",
                "object_type",
                "object_id",
                "changes",
                "prev_hash",
                "hash",
            ],
        ),
    }
    sequences: dict[tuple[int, int], int] = {}
    cursor.execute("SELECT agency_id, year, last_value FROM cases_casesequence")
    for agency_id, year, last in cursor.fetchall():
        sequences[(agency_id, year)] = last
    key = settings.DECONFLICTION_HMAC_KEY.encode()
    progress = Progress(total, "cases", quiet)
    done = 0
    while done < total:
        size = min(batch, total - done)
        rows = {name: [] for name in tables}
        rows["audit_pending"] = []
        mla_grants: list[tuple[int, int]] = []  # (group id, request id)
        first_participation = ids.participation
        for _ in range(size):
            _one_case(world, rng, ids, rows, mla_grants, sequences, key)
        with transaction.atomic():
            rows["audit"] = _chain(rows["audit_pending"])
            for name, table in tables.items():
                world.counts[name] = world.counts.get(name, 0) + table.write(cursor, rows[name])
            # The grants the sharing services would have written, from the
            # participations just copied (revoked ones have none; expired but
            # unswept ones still do, as in production until the job runs). The
            # trigger that positions a grant is off during the load
            # (session_replication_role): its rule (migration 0026) is here.
            cursor.execute(
                """
                INSERT INTO cases_casegroupobjectpermission (
                    group_id, permission_id, content_object_id, granted_at, expires_at,
                    list_updated_at, list_public_id,
                    list_status, list_handling_code, list_lead_agency_id,
                    list_crime_types, list_created_at, list_case_updated_at)
                SELECT a.group_id, lv.permission_id, p.case_id, p.granted_at, p.expires_at,
                       GREATEST(c.updated_at, p.granted_at), c.public_id,
                       c.status, c.handling_code, c.lead_agency_id,
                       c.crime_types, c.created_at, c.updated_at
                FROM cases_caseparticipation p
                JOIN cases_case c ON c.id = p.case_id
                JOIN agencies_agency a ON a.id = p.agency_id
                JOIN (VALUES ('view', %(view)s), ('contribute', %(view)s),
                             ('contribute', %(contribute)s), ('manage', %(view)s),
                             ('manage', %(contribute)s), ('manage', %(manage)s))
                     AS lv(level, permission_id) ON lv.level = p.level
                WHERE p.id >= %(first)s AND p.id < %(stop)s AND p.revoked_at IS NULL
                """,
                {
                    "view": perms["view_case"],
                    "contribute": perms["contribute_case"],
                    "manage": perms["manage_case"],
                    "first": first_participation,
                    "stop": ids.participation,
                },
            )
            world.counts["grants"] = world.counts.get("grants", 0) + cursor.rowcount
            with cursor.copy(
                "COPY cases_mlarequestgroupobjectpermission "
                "(group_id, permission_id, content_object_id) FROM STDIN"
            ) as copy:
                for group_id, request_id in mla_grants:
                    copy.write_row((group_id, perms["view_mlarequest"], request_id))

        done += size
        progress.update(done, f"({world.counts.get('grants', 0):,} grants)")
    progress.done()
    for (agency_id, year), last in sequences.items():
        CaseSequence.objects.update_or_create(
            agency_id=agency_id, year=year, defaults={"last_value": last}
        )
    for model in (
        Case,
        CaseParticipation,
        Task,
        Note,
        Identifier,
        MLARequest,
        AuditEvent,
        CaseGroupObjectPermission,
        MLARequestGroupObjectPermission,
    ):
        sync_sequence(cursor, model)


def _when(rng: random.Random) -> dt.datetime:
    return NOW - SPAN * rng.random() ** 2  # more recent activity than old


def _audit(world: World, ids: Ids, rows, *, at, actor_id, agency, action, object_id, changes):
    """An audit event to append; chained when its batch is written (`_chain`)."""
    rows["audit_pending"].append(
        {
            "occurred_at": at,
            "actor_id": actor_id,
            "actor_label": f"{agency['code'].lower()}.u00000",
            "agency_id": agency["id"],
            "agency_code": agency["code"],
            "action": action,
            "object_type": "cases.case",
            "object_id": object_id,
            "changes": changes,
            "ip": "",
            "request_id": "",
            "outcome": "success",
            "reason": "",
        }
    )


def _chain(pending: list[dict]) -> list[tuple]:
    """Append `pending` after the chain head, locked until the batch commits,
    so that events the application writes meanwhile (a login…) interleave
    instead of colliding."""
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    seq, prev = head.last_seq, head.last_hash
    out = []
    for row in pending:
        seq += 1
        row["seq"] = seq
        digest = compute_hash(prev, row_of(row))
        out.append(
            (
                seq,
                row["occurred_at"],
                row["actor_id"],
                row["actor_label"],
                row["agency_id"],
                row["agency_code"],
                row["action"],
                row["object_type"],
                row["object_id"],
                json.dumps(row["changes"]),
                prev,
                digest,
            )
        )
        prev = digest
    head.last_seq, head.last_hash = seq, prev
    head.save(update_fields=["last_seq", "last_hash"])
    return out


def _one_case(world, rng, ids: Ids, rows, mla_grants, sequences, key) -> None:
    agencies = world.agencies
    lead = agencies[pick(world.lead_cum, rng)]
    coordinator = world.coordinators[lead["id"]]
    created = _when(rng)
    updated = min(NOW, created + dt.timedelta(days=rng.random() * 60))
    year = created.year
    seq = sequences.get((lead["id"], year), 0) + 1
    sequences[(lead["id"], year)] = seq
    case_id, public_id = ids.case, uuid.uuid4()
    ids.case += 1
    rows["case"].append(
        (
            case_id,
            public_id,
            f"{lead['code']}-{year}-{seq:05d}",
            f"Operation {rng.choice(['Jade', 'Lotus', 'Tiger', 'Harbour', 'Compound'])} {case_id}"
            + (f" {RARE_WORD}" if world.words.random() < RARE_SHARE else ""),
            words(world.words, SUMMARIES),
            json.dumps(rng.sample(CRIMES, rng.randint(1, 2))),
            rng.choice(CASE_STATUSES),
            # A few RED cases: the filter investigators use to find them
            # must not walk an agency's whole list.
            "RED" if rng.random() < 0.005 else rng.choice(["AMBER", "AMBER", "GREEN", "CLEAR"]),
            lead["id"],
            coordinator,
            coordinator,
            created,
            updated,
            1 + int(rng.random() * 5),
        )
    )
    expected = world.expected
    participants = [lead]
    rows["participation"].append(
        (
            ids.participation,
            uuid.uuid4(),
            case_id,
            lead["id"],
            "manage",
            False,
            coordinator,
            lead["id"],
            created,
            None,
            None,
            None,
            "",
            created,
        )
    )
    ids.participation += 1
    if expected is not None:
        expected.setdefault(lead["id"], set()).add(case_id)
    _audit(
        world,
        ids,
        rows,
        at=created,
        actor_id=coordinator,
        agency=lead,
        action="create",
        object_id=str(public_id),
        changes={"title": "[generated]"},
    )
    # How widely: hubs share with several agencies, most agencies with few.
    if lead["hub"]:
        shares = rng.randint(3, 12)
    else:
        r = rng.random()
        shares = 0 if r < 0.5 else 1 if r < 0.8 else 2 if r < 0.95 else rng.randint(3, 5)
    shares = min(shares, len(agencies) - 1)
    chosen: set[int] = {lead["id"]}
    while len(chosen) < shares + 1:
        target = agencies[pick(world.target_cum, rng)]
        if target["id"] in chosen:
            continue
        chosen.add(target["id"])
        level = rng.choice(LEVELS)
        at = created + dt.timedelta(hours=rng.random() * 48)
        r = rng.random()
        expires = revoked = revoked_by = None
        reason = ""
        if r < 0.02:
            revoked, revoked_by, reason = at + dt.timedelta(days=3), coordinator, "revoked"
        elif r < 0.03:
            expires = NOW - dt.timedelta(days=1 + rng.random() * 30)  # not yet swept
        elif r < 0.08:
            expires = NOW + dt.timedelta(days=1 + rng.random() * 300)
        rows["participation"].append(
            (
                ids.participation,
                uuid.uuid4(),
                case_id,
                target["id"],
                level,
                rng.random() < 0.01,
                coordinator,
                lead["id"],
                at,
                expires,
                revoked,
                revoked_by,
                reason,
                revoked or at,
            )
        )
        ids.participation += 1
        if revoked is None and (expires is None or expires > NOW):
            participants.append(target)
            if expected is not None:
                expected.setdefault(target["id"], set()).add(case_id)
        _audit(
            world,
            ids,
            rows,
            at=at,
            actor_id=coordinator,
            agency=lead,
            action="share",
            object_id=str(public_id),
            changes={"agency": target["code"], "level": level},
        )
    for _ in range(rng.choice(TASK_COUNTS)):
        assignee = rng.choice(participants)
        at = created + dt.timedelta(days=rng.random() * 30)
        rows["task"].append(
            (
                ids.task,
                uuid.uuid4(),
                case_id,
                words(world.words, TASKS, ids.task),
                assignee["id"],
                rng.choice(["todo", "todo", "in_progress", "done", "blocked"]),
                rng.choice(["low", "normal", "normal", "high", "critical"]),
                (at + dt.timedelta(days=rng.randint(3, 60))).date() if rng.random() < 0.7 else None,
                coordinator,
                at,
                at,
            )
        )
        ids.task += 1
    for _ in range(rng.choice(NOTE_COUNTS)):
        writer = rng.choice(participants)
        author = rng.choice(world.users[writer["id"]])[0]
        at = created + dt.timedelta(days=rng.random() * 60)
        rows["note"].append(
            (
                ids.note,
                uuid.uuid4(),
                case_id,
                author,
                writer["id"],
                words(world.words, NOTES),
                rng.choice(NOTE_CODES),
                at,
            )
        )
        ids.note += 1
    for _ in range(rng.choice([0, 1, 1, 2])):
        i = 10**9 + ids.identifier
        kind, value, chain = (
            ("crypto_wallet", f"0x{i:040x}", "ethereum") if i % 2 else ("phone", f"+85{i}", "")
        )
        rows["identifier"].append(
            (
                ids.identifier,
                uuid.uuid4(),
                case_id,
                kind,
                value,
                value,
                keyed_hash(kind, value, key=key),
                chain,
                coordinator,
                lead["id"],
                created,
                lead["id"],
                True,
            )
        )
        ids.identifier += 1
    if rng.random() < 0.01:
        requested = agencies[pick(world.target_cum, rng)]
        if requested["id"] != lead["id"]:
            status = rng.choice(["draft", "submitted", "in_execution", "executed"])
            rows["mla"].append(
                (
                    ids.mla,
                    uuid.uuid4(),
                    case_id,
                    lead["id"],
                    requested["id"],
                    "untoc",
                    status,
                    "Funds moved through exchange accounts.",
                    coordinator,
                    coordinator,
                    created,
                    updated,
                )
            )
            mla_grants.append((lead["group_id"], ids.mla))
            if status != "draft":
                mla_grants.append((requested["group_id"], ids.mla))
            ids.mla += 1


#: From this many cases on, the indexes are built after the load.
BULK_CASES = 100_000


def generate(
    *,
    agencies: int,
    cases: int,
    users: int,
    seed: int = 10,
    batch: int = 20_000,
    do_reset: bool = False,
    keep_expected: bool = False,
    quiet: bool = False,
) -> World | None:
    """Write the data set; None if one is already there (and no reset asked)."""
    rng = random.Random(seed)
    started = time.perf_counter()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        # Foreign keys are checked per row by triggers, which costs more than
        # the COPY itself; the rows are consistent by construction (and
        # tests/bench/test_bench.py checks them), so the load runs without them.
        cursor.execute("SET session_replication_role = replica")
        try:
            if do_reset:
                reset(cursor)
            elif existing(cursor):
                return None
            with transaction.atomic():
                world = write_agencies(cursor, agencies, users, rng)
            world.words = random.Random(seed + 1)
            if keep_expected:
                world.expected = {}
            dropped = drop_indexes(cursor, LOADED_TABLES) if cases >= BULK_CASES else []
            write_cases(cursor, world, cases, batch, rng, quiet)
            build_indexes(cursor, dropped, quiet)
            refresh_recorded_values(cursor)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        if not quiet:
            sys.stderr.write("ANALYZE…\n")
        cursor.execute("ANALYZE")
    world.counts["seconds"] = round(time.perf_counter() - started, 1)
    return world


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agencies", type=int, default=200)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=20_000, help="cases per transaction")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--reset", action="store_true", help="empty the tables first")
    parser.add_argument("--migrate", action="store_true", help="run migrations first")
    parser.add_argument(
        "--expected",
        type=Path,
        help="write here, as JSON, which case ids each generated agency should see "
        "(the generator's own record, for checking the app's selectors against)",
    )
    args = parser.parse_args(argv)
    if args.migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    world = generate(
        agencies=args.agencies,
        cases=args.cases,
        users=args.users,
        seed=args.seed,
        batch=args.batch,
        do_reset=args.reset,
        keep_expected=args.expected is not None,
    )
    if world is None:
        print("A generated data set is already there; pass --reset to make a new one.")
        return
    if args.expected:
        visible = {a["id"]: sorted(world.expected.get(a["id"], ())) for a in world.agencies}
        args.expected.write_text(json.dumps(visible))
    print(f"\n{'table':24} {'rows':>12}")
    for name, count in world.counts.items():
        if name != "seconds":
            print(f"{name:24} {count:12,}")
    print(f"{'seconds':24} {world.counts['seconds']:12,.1f}")


if __name__ == "__main__":
    main()
