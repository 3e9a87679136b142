"""The column types' result conversions, as every read (ORM, Core and the driver's plain rows) applies them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from db.base import Scaled, UtcDateTime

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
