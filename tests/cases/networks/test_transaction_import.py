"""Bulk import of transactions from CSV: every row checked by the rules of
one transaction, all or nothing, every rejected row reported, duplicates
skipped and listed, accounts named by value recorded on the case."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from audit.models import AuditAction, AuditEvent
from cases import transaction_import
from cases.models import Identifier, Transaction
from cases.transaction_import import import_transactions
from gate.errors import NotFound, PermissionDenied, ValidationFailed

from .conftest import MULE_WALLET, TRON_WALLET
from .helpers import unchanged

pytestmark = pytest.mark.django_db

HEADER = (
    "occurred_at,from_kind,from_value,from_bank_code,from_country,"
    "to_kind,to_value,to_chain,amount,currency,reference\n"
)
ROW = (
    "2025-03-0{day} 14:05,bank_account,110-234-567890,088,KR,"
    "crypto_wallet,{wallet},tron,{amount},{currency},REF-{day}\n"
)


def _file(*rows: str, header: str = HEADER) -> io.BytesIO:
    return io.BytesIO((header + "".join(rows)).encode())


def _row(day=1, wallet=TRON_WALLET, amount='"25,000,000"', currency="KRW") -> str:
    return ROW.format(day=day, wallet=wallet, amount=amount, currency=currency)


def _import(actor, case, file, **kwargs):
    return import_transactions(actor=actor, case=case, file=file, **kwargs)


def _state(case) -> tuple:
    return (
        list(Transaction.objects.filter(case=case).values_list("pk", flat=True)),
        list(Identifier.objects.filter(case=case).values_list("pk", flat=True)),
    )


def test_a_valid_file_records_every_row_and_the_accounts_it_names(shared_case, knp_coordinator):
    report = _import(
        knp_coordinator, shared_case, _file(_row(1), _row(2, MULE_WALLET, "1520.5", "USDT-TRC20"))
    )
    assert (report.rows, report.imported, report.rejected_rows) == (2, 2, 0)
    assert report.identifiers_created == 3  # the account and two wallets
    records = Transaction.objects.filter(case=shared_case).order_by("occurred_at")
    assert [(r.amount, r.currency) for r in records] == [
        (Decimal("25000000"), "KRW"),
        (Decimal("1520.5"), "USDT-TRC20"),
    ]
    first = records[0]
    assert first.from_identifier.kind == "bank_account"
    assert first.to_identifier.normalised_value == TRON_WALLET
    assert first.reference == "REF-1"
    # A time without a zone is in the agency's (KR-KNP: Asia/Seoul).
    assert first.occurred_at.isoformat() == "2025-03-01T05:05:00+00:00"


def test_each_imported_row_is_audited(shared_case, knp_coordinator):
    _import(knp_coordinator, shared_case, _file(_row(1), _row(2)))
    created = AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="cases.transaction"
    ).count()
    assert created == 2


def test_an_account_already_on_the_case_is_used_not_recorded_again(
    shared_case, knp_coordinator, victim_account, wallet
):
    report = _import(knp_coordinator, shared_case, _file(_row(1)))
    assert report.identifiers_created == 0
    record = Transaction.objects.get(case=shared_case)
    assert (record.from_identifier, record.to_identifier) == (victim_account, wallet)


def test_a_file_with_bad_rows_records_nothing_and_reports_each(shared_case, knp_coordinator):
    before = _state(shared_case)
    report = _import(
        knp_coordinator,
        shared_case,
        _file(
            _row(1),
            _row(2, amount="-5"),
            _row(3, wallet="not-a-wallet"),
            _row(4, currency="dollars!"),
            "yesterday,bank_account,110-234-567890,088,KR,phone,+85512345678,,10,USD,X\n",
            "2025-03-05 10:00,email,a@b.example,,,iban,DE89370400440532013000,,10,USD,Y\n",
        ),
    )
    assert report.imported == 0 and report.valid == 1
    assert report.rejected_rows == 5
    assert {(e.row, e.field) for e in report.errors} == {
        (3, "amount"),
        (4, "to_value"),
        (5, "currency"),
        (6, "occurred_at"),
        (7, "from_kind"),
    }
    assert _state(shared_case) == before


def test_a_row_with_the_wrong_number_of_cells_is_rejected(shared_case, knp_coordinator):
    report = _import(knp_coordinator, shared_case, _file(_row(1), "2025-03-02,bank_account\n"))
    assert [(e.row, e.field) for e in report.errors] == [(3, "row")]
    assert report.imported == 0


def test_a_check_reports_without_recording(shared_case, knp_coordinator):
    before = _state(shared_case)
    report = _import(knp_coordinator, shared_case, _file(_row(1), _row(2)), dry_run=True)
    assert (report.valid, report.imported, report.identifiers_created) == (2, 0, 2)
    assert [p["row"] for p in report.preview] == ["2", "3"]
    assert _state(shared_case) == before


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("when,from,to,amount\n", "Unknown columns"),
        ("occurred_at,from_kind,from_value,to_kind,to_value,amount\n", "Missing columns"),
        (HEADER.replace("reference", "refrence"), "Unknown columns: refrence"),
        (HEADER.replace("reference", "amount"), "Columns given twice: amount"),
        ("", "empty"),
    ],
)
def test_a_wrong_header_refuses_the_file(shared_case, knp_coordinator, header, message):
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        _import(
            knp_coordinator,
            shared_case,
            _file(_row(1), header=header) if header else _file(header=""),
        )
    assert message in " ".join(map(str, refused.value.errors["file"]))


def test_a_file_that_is_not_utf8_is_refused_with_nothing_recorded(shared_case, knp_coordinator):
    before = _state(shared_case)
    body = (
        (HEADER + _row(1) + _row(2)).encode()
        + "2025-03-03 10:00,bank_account,".encode("cp949")
        + "계좌".encode("cp949")
        + b",088,KR,crypto_wallet,x,tron,1,KRW,Z\n"
    )
    with pytest.raises(ValidationFailed) as refused:
        _import(knp_coordinator, shared_case, io.BytesIO(body))
    assert "UTF-8" in str(refused.value.errors["file"][0])
    assert _state(shared_case) == before


def test_an_excel_utf8_file_with_a_byte_order_mark_is_read(shared_case, knp_coordinator):
    body = b"\xef\xbb\xbf" + (HEADER + _row(1)).encode()
    assert _import(knp_coordinator, shared_case, io.BytesIO(body)).imported == 1


@pytest.mark.parametrize(
    "amount",
    [
        "1234567890123456789",  # 19 digits before the point
        "0.0000000000000000001",  # 19 after
        "1e400",
        "NaN",
        "0",
        "1,5",
    ],
)
def test_amounts_beyond_the_exact_range_are_rejected(shared_case, knp_coordinator, amount):
    report = _import(knp_coordinator, shared_case, _file(_row(1, amount=f'"{amount}"')))
    assert [(e.row, e.field) for e in report.errors] == [(2, "amount")]


def test_the_largest_exact_amount_is_kept_to_the_last_decimal(shared_case, knp_coordinator):
    amount = "999999999999999999.123456789012345678"
    _import(knp_coordinator, shared_case, _file(_row(1, amount=amount, currency="USDT-TRC20")))
    assert Transaction.objects.get(case=shared_case).amount == Decimal(amount)


def test_the_same_transfer_twice_in_a_file_is_recorded_once_and_listed(
    shared_case, knp_coordinator
):
    report = _import(knp_coordinator, shared_case, _file(_row(1), _row(2), _row(1)))
    assert report.imported == 2
    assert [(d.row, d.message) for d in report.duplicates] == [
        (4, "The same transfer as row 2: skipped.")
    ]


def test_a_transfer_the_case_already_holds_is_skipped_and_listed(shared_case, knp_coordinator):
    _import(knp_coordinator, shared_case, _file(_row(1)))
    report = _import(knp_coordinator, shared_case, _file(_row(1), _row(2)))
    assert report.imported == 1
    assert [d.row for d in report.duplicates] == [2]
    assert Transaction.objects.filter(case=shared_case).count() == 2


def test_an_account_held_on_the_case_in_a_row_the_importer_may_not_see_is_refused(
    shared_case, knp_coordinator, kh_investigator
):
    from cases.deconfliction import add_identifier

    add_identifier(
        actor=knp_coordinator, case=shared_case, kind="bank_account", value="110-234-567890",
        bank_code="088", country="KR", handling_code="RED",
    )  # fmt: skip
    report = _import(kh_investigator, shared_case, _file(_row(1)))
    assert [(e.row, e.field) for e in report.errors] == [(2, "from_value")]
    assert report.imported == 0


def test_more_rows_than_the_limit_refuse_the_file(shared_case, knp_coordinator, settings):
    settings.TRANSACTION_IMPORT_MAX_ROWS = 2
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        _import(knp_coordinator, shared_case, _file(_row(1), _row(2), _row(3)))
    assert "more than 2 rows" in str(refused.value.errors["file"][0])


def test_a_file_larger_than_the_limit_is_refused_before_reading(
    shared_case, knp_coordinator, settings
):
    settings.TRANSACTION_IMPORT_MAX_BYTES = 10
    with pytest.raises(ValidationFailed):
        _import(knp_coordinator, shared_case, _file(_row(1)), size=11)


def test_a_file_of_thousands_of_rows_goes_in_batches(shared_case, knp_coordinator):
    rows = [
        f"2025-01-01T00:00:{i % 60:02d}+00:00,bank_account,110-234-567890,088,KR,"
        f"crypto_wallet,{TRON_WALLET},tron,{i + 1},KRW,R{i}\n"
        for i in range(2500)
    ]
    report = _import(knp_coordinator, shared_case, _file(*rows))
    assert report.imported == 2500
    assert Transaction.objects.filter(case=shared_case).count() == 2500


def test_an_outsider_gets_not_found(shared_case, outsider):
    with unchanged(), pytest.raises(NotFound):
        _import(outsider, shared_case, _file(_row(1)))


def test_a_read_only_participant_is_refused(shared_case, kh_viewer):
    with unchanged(), pytest.raises(PermissionDenied):
        _import(kh_viewer, shared_case, _file(_row(1)))


def test_an_unknown_handling_code_refuses_the_file(shared_case, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        _import(knp_coordinator, shared_case, _file(_row(1)), handling_code="PURPLE")
    assert "handling_code" in refused.value.errors


def test_imported_rows_and_new_accounts_take_the_files_handling_code(
    shared_case, knp_coordinator, kh_investigator
):
    _import(knp_coordinator, shared_case, _file(_row(1)), handling_code="RED")
    record = Transaction.objects.get(case=shared_case)
    assert record.handling_code == "RED" and record.from_identifier.handling_code == "RED"


def test_a_report_lists_a_bounded_number_of_rows_and_counts_the_rest(
    shared_case, knp_coordinator, monkeypatch
):
    monkeypatch.setattr(transaction_import, "LISTED_ERRORS", 2)
    bad = [_row(day, amount="-1") for day in (1, 2, 3)]
    report = _import(knp_coordinator, shared_case, _file(*bad, _row(4), _row(4), _row(4), _row(4)))
    assert (report.rejected_rows, len(report.errors), report.unlisted_errors) == (3, 2, 1)
    assert (report.duplicate_rows, len(report.duplicates)) == (3, 2)
    assert "1 more rows were rejected" in str(report.field_errors()["file"][0])
