"""The column types' result conversions, as every read (ORM, Core and the driver's plain rows) applies them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from db.base import _DECIMALS_KEPT, Scaled, UtcDateTime, loads_json

DIALECTS = [postgresql.asyncpg.dialect(), sqlite.aiosqlite.dialect()]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
@pytest.mark.parametrize("scale", [2, 3, 4, 6])
@pytest.mark.parametrize("stored", [0, 1, -5, 100, 12345, -987654321, 9_223_372_036_854_775_807])
def test_scaled_reads_the_stored_integer_as_the_quantized_quotient(dialect, scale, stored) -> None:
    process = Scaled(scale)._cached_result_processor(dialect, None)
    expected = (Decimal(stored) / Decimal(10) ** scale).quantize(Decimal(1).scaleb(-scale))

    read = process(stored)

    # Same value and same exponent: str() is what the API answers.
    assert str(read) == str(expected)
    assert read.as_tuple() == expected.as_tuple()
    assert process(None) is None


def test_scaled_reads_every_value_right_again_after_more_values_than_it_keeps_made() -> None:
    process = Scaled(2)._cached_result_processor(DIALECTS[0], None)
    stored = range(-3, _DECIMALS_KEPT + 7)

    first = [process(value) for value in stored]
    again = [process(value) for value in reversed(stored)]

    assert [str(read) for read in first] == [f"{value / 100:.2f}" for value in stored]
    assert again[::-1] == first
    assert [read.as_tuple().exponent for read in again] == [-2] * len(stored)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_scaled_round_trips_through_its_bind_conversion(dialect) -> None:
    column = Scaled(2)
    bind = column._cached_bind_processor(dialect)
    read = column._cached_result_processor(dialect, None)

    assert read(bind(Decimal("123.40"))) == Decimal("123.40")
    assert str(read(bind(Decimal("7")))) == "7.00"


def test_utc_datetime_takes_asyncpg_values_as_they_come() -> None:
    # asyncpg gives timestamptz in UTC (tests/integration/test_plain_rows.py reads them back from PostgreSQL)
    assert UtcDateTime()._cached_result_processor(postgresql.asyncpg.dialect(), None) is None


def test_utc_datetime_keeps_utc_values_and_converts_others_elsewhere() -> None:
    process = UtcDateTime().process_result_value
    utc = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)
    shanghai = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    assert process(utc, postgresql.psycopg.dialect()) is utc
    assert process(shanghai, postgresql.psycopg.dialect()) == utc
    assert process(shanghai, postgresql.psycopg.dialect()).tzinfo is dt.UTC
    assert process(dt.datetime(2026, 3, 1, 8, 30), postgresql.psycopg.dialect()) == utc
    assert process(None, postgresql.psycopg.dialect()) is None


def test_utc_datetime_reads_sqlite_text_as_utc() -> None:
    process = UtcDateTime()._cached_result_processor(sqlite.aiosqlite.dialect(), None)

    read = process("2026-03-01 08:30:00.000000")

    assert read == dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC) and read.tzinfo is dt.UTC
    assert process(None) is None


@pytest.mark.parametrize(
    "stored",
    [
        "2026-03-01 08:30:00.000000",
        "2026-03-01 08:30:00",
        "2026-03-01 08:30",
        "2026-03-01",
        "2026-03-01 16:30:00+08:00",
        "2026-03-01T08:30:00Z",
        "2026-03-01 08:30:00.123456-05:30",
    ],
)
def test_utc_datetime_reads_sqlite_text_as_parsing_it_and_taking_it_to_utc_would(stored: str) -> None:
    process = UtcDateTime()._cached_result_processor(sqlite.aiosqlite.dialect(), None)
    parsed = dt.datetime.fromisoformat(stored)
    expected = parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)

    read = process(stored)

    assert read == expected and read.tzinfo is dt.UTC and repr(read) == repr(expected)


@pytest.mark.parametrize(
    "text",
    [
        '["漏水", "水管"]',
        '{"a": 1, "a": 2, "b": [true, false, null]}',
        "[0.1, -0.0, 1E2, 5e-324, 1.7976931348623157e308, 3.141592653589793238462643383279]",
        "[9223372036854775807, -9223372036854775808, 18446744073709551615]",
        "[18446744073709551616, -9223372036854775809, 123456789012345678901234567890]",
        "[NaN, Infinity, -Infinity, 1e400]",
        '"\\ud800"',
        '{"nested": {"list": [1, "two", {"three": 3.0}]}}',
    ],
)
def test_json_columns_read_the_values_the_standard_library_reads(text: str) -> None:
    expected = json.loads(text)

    read = loads_json(text)

    assert repr(read) == repr(expected)
    assert repr(loads_json(text.encode("utf-8", "surrogatepass"))) == repr(json.loads(text.encode("utf-8", "surrogatepass")))


def test_json_columns_that_are_not_json_fail_as_the_standard_library_fails() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_json("[1,")
