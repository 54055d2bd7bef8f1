"""`config.postgresql`: timestamps read by the C parser, as Django reads them."""

import datetime as dt

import pytest
from django.db import DataError, connection

from config.postgresql.base import UTCTimestampLoader

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _read(literal: str) -> dt.datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [literal])
        return cursor.fetchone()[0]


def test_the_database_reads_timestamps_with_the_fast_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text

    assert loader is UTCTimestampLoader


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("2026-12-06 03:15:12.195907+00", dt.datetime(2026, 12, 6, 3, 15, 12, 195907, UTC)),
        ("2026-12-06 03:15:12.19+00", dt.datetime(2026, 12, 6, 3, 15, 12, 190000, UTC)),
        ("2026-12-06 03:15:12+00", dt.datetime(2026, 12, 6, 3, 15, 12, tzinfo=UTC)),
        ("2026-12-06 10:15:12+07", dt.datetime(2026, 12, 6, 3, 15, 12, tzinfo=UTC)),
        ("0999-01-01 00:00:00+00", dt.datetime(999, 1, 1, tzinfo=UTC)),
        ("9999-12-31 23:59:59.999999+00", dt.datetime(9999, 12, 31, 23, 59, 59, 999999, UTC)),
    ],
)
def test_a_timestamp_reads_as_the_same_utc_datetime(literal, expected):
    value = _read(literal)

    assert value == expected
    assert value.tzinfo is UTC


def test_text_the_fast_path_does_not_know_goes_to_djangos_loader():
    """Years past 9999 are not Python datetimes; Django's loader says so."""
    with pytest.raises(DataError, match="after year 10K"):
        _read("10000-01-01 00:00:00+00")
