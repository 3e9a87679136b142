"""Declarative base, naming convention and the column types shared by every model."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from contextlib import suppress
from decimal import Decimal
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from sqlalchemy import BigInteger, DateTime, Dialect, Enum, MetaData, func
from sqlalchemy.engine import processors
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "Fen", "Scaled", "StrEnumColumn", "UtcDateTime", "created_at_column", "loads_json", "utcnow"]

# Alembic's batch mode (SQLite) can only drop constraints that have names.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


R = TypeVar("R")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _in_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    zone = value.tzinfo
    # Already in UTC: kept as it is, as `astimezone` would keep it.
    if zone is dt.UTC:
        return value
    return value.replace(tzinfo=dt.UTC) if zone is None else value.astimezone(dt.UTC)


# A run of 19 digits may be an integer beyond 64 bits, which orjson reads as a float.
_LONG_NUMBER = re.compile(r"[0-9]{19}")
_LONG_NUMBER_BYTES = re.compile(rb"[0-9]{19}")


def loads_json(text: str | bytes) -> Any:
    """The value of a JSON text, as `json.loads` reads it, by orjson (a tenth of its CPU; pages read
    evidence lists and skills in every row, and every request's body is JSON). What orjson reads
    differently or not at all (integers beyond 64 bits, NaN and Infinity, lone surrogates, bytes in
    another encoding than UTF-8) goes to `json.loads`."""
    long_number = (_LONG_NUMBER if isinstance(text, str) else _LONG_NUMBER_BYTES).search(text)
    if long_number is None:
        with suppress(orjson.JSONDecodeError):
            return orjson.loads(text)
    return json.loads(text)


def _utc_from_text(value: str | None) -> dt.datetime | None:
    """SQLite's text of a datetime (written without offset, in UTC) as an aware datetime in UTC, as
    `_in_utc(datetime.fromisoformat(value))`: parsed with its offset appended, which costs a fifth of
    parsing and then `replace`. Text that does not read as UTC that way (one with an offset of its own)
    is parsed as it is."""
    if value is None:
        return None
    try:
        parsed = _from_iso(value + "+00:00")
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is dt.UTC:
        return parsed
    return _in_utc(_from_iso(value))


_from_iso = dt.datetime.fromisoformat


def _converting(stored: Callable[[Any], Any] | None, convert: Callable[[Any], R]) -> Callable[[Any], R]:
    """`convert` after the stored type's own conversion, if it has one, as `TypeDecorator.result_processor`
    composes them, without its extra call per value through `process_result_value` (a page reads
    hundreds of money and time values, each converted here)."""
    if stored is None:
        return convert
    return lambda value: convert(stored(value))


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both dialects (SQLite returns naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Courtyard stores UTC-aware datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return _in_utc(value)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], dt.datetime | None] | None:
        if dialect.name == "postgresql" and dialect.driver == "asyncpg":
            # asyncpg decodes every timestamptz in UTC (the wire format is UTC microseconds, whatever the
            # session's time zone): nothing to convert, on values that pages read by the hundred. (Only
            # PostgreSQL's 'infinity', which Courtyard never writes, would come naive.)
            return None
        stored = self.impl_instance.result_processor(dialect, coltype)
        if stored is processors.str_to_datetime:
            return _utc_from_text
        return _converting(stored, _in_utc)


# Per exponent of a `Scaled` column, the decimals its stored integers were read as (`Scaled.result_processor`).
_decimals_by_exponent: dict[int, dict[Any, Decimal]] = {}
_DECIMALS_KEPT = 65_536


class Scaled(TypeDecorator[Decimal]):
    """A `Decimal` stored as an integer count of 10**-scale units.

    SQLite keeps NUMERIC as a float, so exact quantities (money in fen, areas, rates) are stored as
    integers on both dialects and converted here.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale
        self._factor = Decimal(10) ** scale
        self._exponent = -scale

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * self._factor
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(int(value)).scaleb(self._exponent)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Decimal | None]:
        exponent = self._exponent
        # The decimals already made, by stored integer: a page reads hundreds of amounts, most of them
        # repeated (fees, prices, zeros), and a look-up costs a third of making one. A Decimal is immutable,
        # so one can stand for them all; the table is emptied when it grows past its bound.
        made = _decimals_by_exponent.setdefault(exponent, {})

        def to_decimal(value: Any) -> Decimal | None:
            decimal = made.get(value)
            if decimal is None:
                if value is None:
                    return None
                if len(made) >= _DECIMALS_KEPT:
                    made.clear()
                # The integer's digits with the exponent of the scale: exactly the quotient by 10**scale
                # quantized to the scale, without the division and the rounding.
                decimal = made[value] = Decimal(int(value)).scaleb(exponent)
            return decimal

        return _converting(self.impl_instance.result_processor(dialect, coltype), to_decimal)


def Fen() -> Scaled:
    """Money column: yuan as `Decimal` in Python, integer fen in the database."""
    return Scaled(2)


def StrEnumColumn(enum_class: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its value in a VARCHAR with a CHECK constraint: same shape on both dialects."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def created_at_column() -> Mapped[dt.datetime]:
    return mapped_column(UtcDateTime(), default=utcnow, server_default=func.current_timestamp())
