"""Bulk import of transactions from a CSV file: a bank statement, a
blockchain explorer's export, a spreadsheet an analyst typed.

The file has a fixed header (`COLUMNS`, any order, any case; a column this
module does not know is refused, so a misspelt `refrence` cannot be dropped
silently). One row is one transfer:

    occurred_at,from_kind,from_value,to_kind,to_value,amount,currency[,…]

* `occurred_at`: ISO 8601 (`2025-03-01 14:05`, `2025-03-01T14:05:00+09:00`)
  or a Unix timestamp (explorers give one); a time without a zone is in the
  zone given with the file, by default the importing agency's.
* `from_kind`, `to_kind`: `bank_account`, `iban`, `crypto_wallet` or `phone`
  (mobile money); `from_value`, `to_value` the account number, IBAN,
  address or number; `…_chain` for a wallet (`tron`, `ethereum`, `bitcoin`…),
  `…_bank_code` and `…_country` for a bank account, `…_country` as the
  default region of a phone.
* `amount`: a positive number with a point for decimals; thousands may be
  grouped with commas (`25,000,000`); up to 18 digits before the point and
  18 after. `currency`: `KRW`, `USD`, `USDT-TRC20`…
* `reference` (bank reference or transaction hash) and `description`:
  optional.

Each row goes through `networks.check_transaction`, the rules of a
transaction typed in a form; an account or wallet named by value is the
case's identifier of that value (through the gate), recorded with
`deconfliction.add_identifier` when the case has none yet, with the
handling code given for the file.

All or nothing: the rows are recorded only when every row of the file is
valid. A statement is one piece of evidence: half of it on the case gives
totals and traces that are wrong without saying so, and re-importing the
corrected file after a partial import would record its first half twice.
So a file with a rejected row changes nothing (identifiers included), and
the report lists each rejected row (its number as a spreadsheet shows it,
the header being row 1; the column; what is wrong) so that the file can be
fixed and sent again. A check (`dry_run`) runs every rule and rolls back:
the admin's preview. Nothing is lost silently: a row identical to one the
case already holds, or to an earlier row of the file (same accounts,
amount, currency, time and reference), is the same transfer exported twice
(overlapping statements); it is skipped and listed as such.

Large files: the file is read as a stream (the `csv` module over the
uploaded temporary file), rows are checked one by one and inserted in
batches of `BATCH_SIZE` with their audit events, and memory holds only one
batch, the identifiers seen and a 16-byte digest per row for duplicates.
At most `TRANSACTION_IMPORT_MAX_ROWS` rows (100,000 unless set) and
`TRANSACTION_IMPORT_MAX_BYTES` per file: a longer statement is split.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from agencies.actors import Actor
from agencies.models import Agency
from audit import services as audit
from audit.models import AuditAction
from gate.errors import DomainError, ValidationFailed

from . import access, networks
from .choices import HandlingCode, HandlingInstruction
from .deconfliction import add_identifier, identifier_input
from .identifiers import keyed_hash, normalise
from .models import Case, Identifier, Transaction
from .services import _validate_handling

REQUIRED_COLUMNS = (
    "occurred_at",
    "from_kind",
    "from_value",
    "to_kind",
    "to_value",
    "amount",
    "currency",
)
OPTIONAL_COLUMNS = (
    "from_chain",
    "from_bank_code",
    "from_country",
    "to_chain",
    "to_bank_code",
    "to_country",
    "reference",
    "description",
)
COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
BATCH_SIZE = 1000
#: Rejected (and skipped) rows listed in a report; the counts say how many
#: there were, so a report stays small whatever the file.
LISTED_ERRORS = 1000
#: Valid rows shown in a check's preview.
PREVIEW_ROWS = 10
# `25,000,000` or `1,520.50`: thousands grouped with commas.
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
#: Where a service's error on an identifier lands in the file.
_END_FIELDS = {"value": "value", "chain": "chain", "country": "country", "bank_code": "bank_code"}


@dataclass(frozen=True)
class RowProblem:
    """A rejected or skipped row: its number in the file, the column, why."""

    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    """What an import did, or a check would do."""

    dry_run: bool
    rows: int = 0
    valid: int = 0
    imported: int = 0
    identifiers_created: int = 0
    rejected_rows: int = 0
    duplicate_rows: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    duplicates: list[RowProblem] = field(default_factory=list)
    preview: list[dict[str, str]] = field(default_factory=list)

    @property
    def unlisted_errors(self) -> int:
        """Rejected rows beyond the ones listed."""
        return max(0, self.rejected_rows - len({e.row for e in self.errors}))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [asdict(e) for e in self.errors]
        data["duplicates"] = [asdict(d) for d in self.duplicates]
        return data

    def field_errors(self) -> dict[str, list[Any]]:
        """The rejected rows as field errors (`rows.<row>.<column>`), for a 400."""
        errors: dict[str, list[Any]] = {}
        for error in self.errors:
            errors.setdefault(f"rows.{error.row}.{error.field}", []).append(error.message)
        if self.unlisted_errors:
            errors["file"] = [
                _("%(n)d more rows were rejected; fix the ones listed and check again.")
                % {"n": self.unlisted_errors}
            ]
        return errors


class _RollBack(Exception):
    """Leaves the import's transaction without keeping anything."""


def _file_error(message: Any) -> ValidationFailed:
    return ValidationFailed({"file": [message]})


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed({"time_zone": [_("Unknown time zone.")]}) from None


def _handling(code: str, instruction: str, restriction: str) -> dict[str, str]:
    """The file's handling, checked once (a wrong one would reject every row)."""
    probe = Transaction(
        handling_code=code, handling_instruction=instruction, handling_restriction=restriction
    )
    errors: dict[str, list[Any]] = {}
    if code not in HandlingCode.values:
        errors["handling_code"] = [_("Unknown handling code.")]
    if instruction not in HandlingInstruction.values:
        errors["handling_instruction"] = [_("Unknown handling instruction.")]
    if errors:
        raise ValidationFailed(errors)
    _validate_handling(probe)
    return {
        "handling_code": code,
        "handling_instruction": instruction,
        "handling_restriction": restriction,
    }


def _when(text: str, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """ISO 8601 or a Unix timestamp; None if neither (the service says so)."""
    text = text.strip()
    if not text:
        return None
    try:
        if text.isdigit():
            return dt.datetime.fromtimestamp(int(text), tz=dt.UTC)
        value = dt.datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def _amount(text: str) -> str:
    text = text.strip().replace(" ", "")
    return text.replace(",", "") if _GROUPED.fullmatch(text) else text


def _digest(record: Transaction) -> bytes:
    """The identity of a transfer: both accounts, amount, currency, time, reference."""
    key = "\x1f".join(
        (
            str(record.from_identifier_id),
            str(record.to_identifier_id),
            f"{record.amount.normalize():f}",
            record.currency,
            record.occurred_at.astimezone(dt.UTC).isoformat(),
            record.reference,
        )
    )
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


class _Import:
    """One run over one file, inside the import's transaction."""

    def __init__(
        self,
        *,
        actor: Actor,
        case: Case,
        agency: Agency,
        handling: dict[str, str],
        zone: zoneinfo.ZoneInfo,
        report: ImportReport,
    ) -> None:
        self.actor, self.case, self.agency = actor, case, agency
        self.handling, self.zone, self.report = handling, zone, report
        self.keys: dict[tuple[str, ...], bytes | dict[str, list[Any]]] = {}
        self.identifiers: dict[bytes, Identifier | dict[str, list[Any]]] = {}
        self.seen_ids: set[int] = set()
        self.digests: dict[bytes, int] = {}
        self.pending: list[tuple[int, Transaction]] = []

    # --- reading ------------------------------------------------------------------

    def run(self, stream: IO[bytes]) -> None:
        limit = settings.TRANSACTION_IMPORT_MAX_ROWS
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")  # type: ignore[type-var]
        reader = csv.reader(text)
        number = 1
        try:
            columns = self._header(reader)
            for number, cells in enumerate(reader, start=2):
                if not any(cell.strip() for cell in cells):
                    continue  # a blank line carries nothing
                self.report.rows += 1
                if self.report.rows > limit:
                    raise _file_error(
                        _("The file has more than %(n)d rows: split it into several files.")
                        % {"n": limit}
                    )
                if len(cells) != len(columns):
                    self._reject(
                        number,
                        {
                            "row": [
                                _("This row has %(cells)d cells; the header has %(columns)d.")
                                % {"cells": len(cells), "columns": len(columns)}
                            ]
                        },
                    )
                    continue
                self._row(number, dict(zip(columns, cells, strict=True)))
        except UnicodeDecodeError:
            raise _file_error(
                _("The file is not UTF-8 text (from row %(row)d): save it as CSV UTF-8.")
                % {"row": number + 1}
            ) from None
        except csv.Error as exc:
            raise _file_error(
                _("The file is not readable CSV at row %(row)d: %(error)s")
                % {"row": number + 1, "error": exc}
            ) from None
        finally:
            text.detach()  # the upload's file stays open for its owner
        self._flush()

    def _header(self, reader: Iterator[list[str]]) -> list[str]:
        header = next(reader, None)
        if header is None:
            raise _file_error(_("The file is empty."))
        columns = [cell.strip().lower() for cell in header]
        errors = []
        unknown = [c for c in columns if c not in COLUMNS]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if unknown:
            errors.append(_("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)})
        if missing:
            errors.append(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
        if repeated:
            errors.append(_("Columns given twice: %(columns)s.") % {"columns": ", ".join(repeated)})
        if errors:
            raise ValidationFailed({"file": errors})
        return columns

    # --- one row ------------------------------------------------------------------

    def _row(self, number: int, row: dict[str, str]) -> None:
        errors: dict[str, list[Any]] = {}
        sender = self._identifier("from", row, errors)
        recipient = self._identifier("to", row, errors)
        try:
            record = networks.check_transaction(
                actor=self.actor,
                case=self.case,
                agency=self.agency,
                from_identifier=sender,
                to_identifier=recipient,
                amount=_amount(row["amount"]),
                currency=row["currency"],
                occurred_at=_when(row["occurred_at"], self.zone),
                seen=self._seen,
                bulk=True,
                reference=row.get("reference", ""),
                description=row.get("description", ""),
                **self.handling,
            )
        except ValidationFailed as exc:
            for name, messages in exc.errors.items():
                column = {"from_identifier": "from_value", "to_identifier": "to_value"}.get(
                    name, name
                )
                errors.setdefault(column, []).extend(messages)
        if errors:
            self._reject(number, errors)
            return
        digest = _digest(record)
        if digest in self.digests:
            self._skip(
                number,
                _("The same transfer as row %(row)d: skipped.") % {"row": self.digests[digest]},
            )
            return
        self.digests[digest] = number
        self.pending.append((number, record))
        if len(self.pending) >= BATCH_SIZE:
            self._flush()

    def _seen(self, actor: Actor, obj: Any) -> bool:
        """Identifiers the gate returned to this actor in this run."""
        return isinstance(obj, Identifier) and obj.pk in self.seen_ids

    def _identifier(
        self, end: str, row: dict[str, str], errors: dict[str, list[Any]]
    ) -> Identifier | None:
        """The case's identifier named by `end`'s columns, recorded if new."""
        kind = row[f"{end}_kind"].strip().lower()
        if kind not in networks.MONEY_IDENTIFIER_KINDS:
            errors.setdefault(f"{end}_kind", []).append(
                _("Give bank_account, iban, crypto_wallet or phone.")
            )
            return None
        given = {
            "kind": kind,
            "value": row[f"{end}_value"].strip(),
            "chain": row.get(f"{end}_chain", "").strip().lower(),
            "country": row.get(f"{end}_country", "").strip().upper(),
            "bank_code": row.get(f"{end}_bank_code", "").strip(),
        }
        written = tuple(given.values())
        key_or_errors = self.keys.get(written)
        if key_or_errors is None:
            # A statement names the same few accounts on every row: each is
            # normalised (a checksum for a wallet) and hashed once per file.
            try:
                normalised = normalise(
                    identifier_input(**given), default_region=self.agency.country
                )
            except ValidationFailed as exc:
                key_or_errors = exc.errors
            else:
                key_or_errors = keyed_hash(kind, normalised)
            self.keys[written] = key_or_errors
        if isinstance(key_or_errors, dict):
            self._end_errors(end, key_or_errors, errors)
            return None
        key = key_or_errors
        if key not in self.identifiers:
            self.identifiers[key] = self._resolve(key, given)
        found = self.identifiers[key]
        if isinstance(found, dict):
            self._end_errors(end, found, errors)
            return None
        return found

    def _resolve(self, key: bytes, given: dict[str, str]) -> Identifier | dict[str, list[Any]]:
        visible = access.visible_identifiers(self.actor).filter(case=self.case, value_hash=key)
        found = visible.first()
        if found is None:
            try:
                add_identifier(
                    actor=self.actor,
                    case=self.case,
                    notes=str(_("Recorded by a transaction import.")),
                    **given,
                    **self.handling,
                )
            except DomainError as exc:
                # Among them: the value is on the case in a row this actor
                # may not see (add_identifier's own answer, as in its form).
                return exc.errors
            self.report.identifiers_created += 1
            found = visible.first()
            if found is None:  # recorded, yet not returned by the gate
                return {"value": [_("Unknown identifier.")]}
        self.seen_ids.add(found.pk)
        return found

    @staticmethod
    def _end_errors(end: str, source: dict[str, list[Any]], errors: dict[str, list[Any]]) -> None:
        for name, messages in source.items():
            column = f"{end}_{_END_FIELDS.get(name, 'value')}"
            errors.setdefault(column, []).extend(messages)

    def _reject(self, number: int, errors: dict[str, list[Any]]) -> None:
        self.report.rejected_rows += 1
        for name, messages in errors.items():
            for message in messages:
                if len(self.report.errors) < LISTED_ERRORS:
                    self.report.errors.append(RowProblem(number, name, str(message)))

    def _skip(self, number: int, message: Any) -> None:
        self.report.duplicate_rows += 1
        if len(self.report.duplicates) < LISTED_ERRORS:
            self.report.duplicates.append(RowProblem(number, "", str(message)))

    # --- writing ------------------------------------------------------------------

    def _flush(self) -> None:
        """Skip what the case already holds; insert the rest with its audit
        events, unless a row was rejected (then the run rolls back anyway)."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        held = {
            _digest(Transaction(**dict(zip(_KEY_FIELDS, values, strict=True))))
            for values in access.visible_transactions(self.actor)
            .filter(
                case=self.case,
                from_identifier_id__in={r.from_identifier_id for _n, r in batch},
                occurred_at__in={r.occurred_at for _n, r in batch},
            )
            .values_list(*_KEY_FIELDS)
        }
        fresh = []
        for number, record in batch:
            if _digest(record) in held:
                self._skip(number, _("Already recorded on this case: skipped."))
            else:
                fresh.append((number, record))
        self.report.valid += len(fresh)
        for number, record in fresh:
            if len(self.report.preview) < PREVIEW_ROWS:
                self.report.preview.append(_preview(number, record))
        if self.report.rejected_rows:
            return
        records = Transaction.objects.bulk_create([r for _n, r in fresh])
        audit.append_many(
            [
                audit.Entry(
                    AuditAction.CREATE,
                    obj=record,
                    changes=audit.created(record, networks.TRANSACTION_AUDIT_FIELDS),
                )
                for record in records
            ],
            actor=self.actor,
        )


_KEY_FIELDS = (
    "from_identifier_id",
    "to_identifier_id",
    "amount",
    "currency",
    "occurred_at",
    "reference",
)


def _preview(number: int, record: Transaction) -> dict[str, str]:
    return {
        "row": str(number),
        "occurred_at": record.occurred_at.isoformat(),
        "from_value": record.from_identifier.raw_value,
        "to_value": record.to_identifier.raw_value,
        "amount": f"{record.amount.normalize():f}",
        "currency": record.currency,
        "reference": record.reference,
    }


def import_transactions(
    *,
    actor: Actor,
    case: Case,
    file: IO[bytes],
    size: int | None = None,
    handling_code: str = HandlingCode.AMBER,
    handling_instruction: str = HandlingInstruction.H0,
    handling_restriction: str = "",
    time_zone: str = "",
    dry_run: bool = False,
) -> ImportReport:
    """Record every transaction of a CSV file on `case`, or none (see the
    module's docstring). Raises NotFound / PermissionDenied as the gate does
    for adding to the case, and ValidationFailed (field `file`) for a file
    that cannot be read as the documented CSV; rejected rows are in the
    report, with nothing recorded."""
    access.require(actor, "contribute", case)
    agency = access.agency_of(actor)
    if agency is None:  # the gate admits members only
        raise _file_error(_("Unknown agency."))
    if size is not None and size > settings.TRANSACTION_IMPORT_MAX_BYTES:
        raise _file_error(
            _("The file is larger than %(mib)d MB: split it into several files.")
            % {"mib": settings.TRANSACTION_IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    handling = _handling(handling_code, handling_instruction, handling_restriction or "")
    zone = _zone(time_zone or agency.timezone)
    report = ImportReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            _Import(
                actor=actor, case=case, agency=agency, handling=handling, zone=zone, report=report
            ).run(file)
            if dry_run or report.rejected_rows:
                raise _RollBack
            report.imported = report.valid
    except _RollBack:
        pass
    return report


#: A small file with the documented header, shown on the admin's import page.
EXAMPLE_CSV = (
    "occurred_at,from_kind,from_value,from_bank_code,from_country,"
    "to_kind,to_value,to_chain,amount,currency,reference\n"
    "2025-03-01 14:05,bank_account,110-234-567890,088,KR,"
    'crypto_wallet,TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL,tron,"25,000,000",KRW,KB-20250301-0042\n'
)
