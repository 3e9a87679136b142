"""DateTime values are written as `datetime.isoformat` writes them (schema/scalars.py): orjson writes the
times in UTC, `isoformat` every other."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from schema import build_schema
from schema.scalars import DateTimeScalar

_write = DateTimeScalar.serialize


@given(st.datetimes(timezones=st.just(dt.UTC)))
def test_a_time_in_utc_reads_as_isoformat_writes_it(value: dt.datetime) -> None:
    assert _write(value) == value.isoformat()


@given(st.datetimes(timezones=st.sampled_from([ZoneInfo("Asia/Shanghai"), dt.timezone(dt.timedelta(hours=5, seconds=3))]) | st.none()))
def test_a_time_in_another_zone_or_in_none_reads_as_isoformat_writes_it(value: dt.datetime) -> None:
    assert _write(value) == value.isoformat()


def test_the_examples_a_client_sees() -> None:
    assert _write(dt.datetime(2026, 12, 7, 3, 4, 5, tzinfo=dt.UTC)) == "2026-12-07T03:04:05+00:00"
    assert _write(dt.datetime(2026, 12, 7, 3, 4, 5, 60, tzinfo=dt.UTC)) == "2026-12-07T03:04:05.000060+00:00"
    assert _write(dt.datetime(1899, 12, 31, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=8, minutes=5, seconds=43)))) == (
        "1899-12-31T16:00:00+08:05:43"
    )


def test_the_schema_writes_its_datetimes_so() -> None:
    assert build_schema(production=True)._schema.type_map["DateTime"].serialize is _write
