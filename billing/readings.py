"""Meter readings: recording one, importing many (all or none), and the usages a bill run prices.

Usage is this reading minus the previous one of the same unit and meter type; the first reading of a
meter is its baseline (usage 0). A lower reading is refused unless it is marked as a meter replacement,
whose usage counts from the new meter's start value (consumption on the old meter since its last reading
is not known and so not charged). A usage above three times the meter's trailing average (its last six
usages) is accepted but flagged for review.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.guards import get_project, get_project_unit
from billing.policy import may_manage_charges
from db.models import Building, MeterReading, Unit
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput
from kernel.principal import Principal
from register.unit_spreadsheet import ImportRejected, RowError

__all__ = [
    "FLAG_RATIO",
    "MAX_READING_ROWS",
    "TRAILING_USAGES",
    "ReadingImportSummary",
    "ReadingInput",
    "add_readings",
    "list_flagged_readings",
    "import_readings",
    "record_reading",
]

FLAG_RATIO = Decimal(3)
TRAILING_USAGES = 6
MAX_READING_ROWS = 50_000
_PLACES = Decimal("0.001")
_MAX_READING = Decimal("1000000000")

_HEADERS = {
    "building": "building",
    "楼栋": "building",
    "unit": "unit",
    "房号": "unit",
    "meter_type": "meter_type",
    "表类型": "meter_type",
    "reading": "reading",
    "读数": "reading",
    "read_at": "read_at",
    "抄表时间": "read_at",
    "replacement_start_value": "replacement_start_value",
    "换表起始读数": "replacement_start_value",
}
_REQUIRED = ("building", "unit", "meter_type", "reading", "read_at")


@dataclass(frozen=True)
class ReadingInput:
    unit_id: int
    meter_type: str
    reading: Decimal
    read_at: dt.datetime
    is_replacement: bool = False
    replacement_start_value: Decimal | None = None


@dataclass(frozen=True)
class ReadingImportSummary:
    imported: int
    flagged: int


@dataclass
class _MeterHistory:
    """The newest readings of one meter (newest first), enough to price and judge the next one."""

    recent: list[MeterReading] = field(default_factory=list)
    # Whether the oldest reading in `recent` is the meter's first (baseline), whose usage means nothing.
    includes_baseline: bool = True

    def trailing_average(self) -> Decimal | None:
        usages = [r.usage for r in (self.recent[:-1] if self.includes_baseline else self.recent)][:TRAILING_USAGES]
        if not usages:
            return None
        return (sum(usages, Decimal(0)) / len(usages)).quantize(_PLACES)

    def add(self, reading: MeterReading) -> None:
        self.recent.insert(0, reading)
        if len(self.recent) > TRAILING_USAGES + 1:
            self.recent.pop()
            self.includes_baseline = False


class _Histories:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[tuple[int, str], _MeterHistory] = {}

    async def get(self, unit_id: int, meter_type: str) -> _MeterHistory:
        key = (unit_id, meter_type)
        if key not in self._loaded:
            # Readings added since are in their meter's history already: flushing them before every lookup
            # would write a file of readings one row at a time.
            rows = list(
                (
                    await self._session.scalars(
                        select(MeterReading)
                        .where(MeterReading.unit_id == unit_id, MeterReading.meter_type == meter_type)
                        .order_by(MeterReading.read_at.desc())
                        .limit(TRAILING_USAGES + 1)
                        .execution_options(autoflush=False)
                    )
                ).all()
            )
            self._loaded[key] = _MeterHistory(rows, includes_baseline=len(rows) <= TRAILING_USAGES)
        return self._loaded[key]

    async def load_many(self, meters: Iterable[tuple[int, str]]) -> None:
        """Load the histories of many meters with one query rather than one query each."""
        wanted = set(meters) - set(self._loaded)
        if not wanted:
            return
        newest_first = (
            func.row_number()
            .over(partition_by=(MeterReading.unit_id, MeterReading.meter_type), order_by=MeterReading.read_at.desc())
            .label("newest_first")
        )
        ranked = (
            select(MeterReading.id, newest_first)
            .where(
                MeterReading.unit_id.in_(sorted({unit_id for unit_id, _ in wanted})),
                MeterReading.meter_type.in_(sorted({meter_type for _, meter_type in wanted})),
            )
            .subquery()
        )
        found: dict[tuple[int, str], list[MeterReading]] = {key: [] for key in wanted}
        for row in await self._session.scalars(
            select(MeterReading)
            .join(ranked, ranked.c.id == MeterReading.id)
            .where(ranked.c.newest_first <= TRAILING_USAGES + 1)
            .order_by(MeterReading.unit_id, MeterReading.meter_type, MeterReading.read_at.desc())
            .execution_options(autoflush=False)
        ):
            if (row.unit_id, row.meter_type) in found:
                found[(row.unit_id, row.meter_type)].append(row)
        for key, rows in found.items():
            self._loaded[key] = _MeterHistory(rows, includes_baseline=len(rows) <= TRAILING_USAGES)


def _meter_type(value: str) -> str:
    cleaned = value.strip().lower()
    if not cleaned or len(cleaned) > 32 or not all(c.isalnum() or c == "_" for c in cleaned):
        raise BadInput("meterType must be a word such as electricity or water (letters, digits, _).", field="meterType")
    return cleaned


def _reading_value(value: Decimal, field_name: str) -> Decimal:
    if not value.is_finite() or value < 0:
        raise BadInput(f"{field_name} must be a number that is not negative.", field=field_name)
    if value >= _MAX_READING:
        raise BadInput(f"{field_name} is too large for a meter.", field=field_name)
    if value != value.quantize(_PLACES):
        raise BadInput(f"{field_name} may have at most three decimal places.", field=field_name)
    return value.quantize(_PLACES)


async def _add_reading(
    session: AsyncSession,
    histories: _Histories,
    *,
    project_id: int,
    reading: ReadingInput,
    recorded_by: int | None,
) -> MeterReading:
    meter_type = _meter_type(reading.meter_type)
    value = _reading_value(reading.reading, "reading")
    if reading.read_at.tzinfo is None:
        raise BadInput("readAt must carry a time zone.", field="readAt")
    history = await histories.get(reading.unit_id, meter_type)
    previous = history.recent[0] if history.recent else None
    if previous is not None and reading.read_at <= previous.read_at:
        raise BadInput(
            f"readAt must be after the previous {meter_type} reading of this unit ({previous.read_at.isoformat()}).",
            field="readAt",
        )
    start_value: Decimal | None = None
    if reading.is_replacement:
        if reading.replacement_start_value is None:
            raise BadInput("A meter replacement needs the new meter's start value.", field="replacementStartValue")
        start_value = _reading_value(reading.replacement_start_value, "replacementStartValue")
        if value < start_value:
            raise BadInput("The reading is below the new meter's start value.", field="reading")
        usage = value - start_value
    elif reading.replacement_start_value is not None:
        raise BadInput("A start value only goes with a meter replacement.", field="replacementStartValue")
    elif previous is None:
        usage = Decimal("0.000")
    elif value < previous.reading:
        raise BadInput(
            f"The reading {value} is lower than the previous one ({previous.reading});"
            " if the meter was replaced, mark it as a replacement with the new meter's start value.",
            field="reading",
        )
    else:
        usage = value - previous.reading
    average = history.trailing_average()
    row = MeterReading(
        project_id=project_id,
        unit_id=reading.unit_id,
        meter_type=meter_type,
        reading=value,
        read_at=reading.read_at,
        usage=usage,
        is_replacement=reading.is_replacement,
        replacement_start_value=start_value,
        flagged_for_review=average is not None and average > 0 and usage > FLAG_RATIO * average,
        trailing_average=average,
        recorded_by=recorded_by,
    )
    session.add(row)
    history.add(row)
    return row


async def record_reading(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, reading: ReadingInput
) -> MeterReading:
    """Record one reading; its usage is computed and judged against the meter's history."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        unit = await get_project_unit(session, principal, reading.unit_id, allowed=may_manage_charges)
        row = await _add_reading(
            session, _Histories(session), project_id=unit.project_id, reading=reading, recorded_by=principal.user_id
        )
        await session.flush()
        return row


async def add_readings(
    session: AsyncSession, *, project_id: int, readings: Sequence[ReadingInput], recorded_by: int | None
) -> list[MeterReading]:
    """Readings of one project inside the caller's transaction (seeding), each meter's in time order, each
    priced and judged against its meter's history as `record_reading` does."""
    histories = _Histories(session)
    await histories.load_many((reading.unit_id, _meter_type(reading.meter_type)) for reading in readings)
    rows = [
        await _add_reading(session, histories, project_id=project_id, reading=reading, recorded_by=recorded_by)
        for reading in readings
    ]
    await session.flush()
    return rows


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadInput("The file is neither UTF-8 nor GB18030 text.", field="file")


def _parse_read_at(text: str, zone: ZoneInfo) -> dt.datetime:
    cleaned = text.strip().replace("/", "-")
    try:
        parsed = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError("expected a date and time such as 2026-11-30 18:00") from None
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


def _parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    return value


_FIELD_NAMES = {"reading": "reading", "readAt": "read_at", "meterType": "meter_type", "replacementStartValue": "replacement_start_value"}


async def import_readings(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int, content: bytes
) -> ReadingImportSummary:
    """Import a CSV of readings (building, unit, meter_type, reading, read_at[, replacement_start_value]):
    every row, or none and each bad row's number and reason. Times without a zone are the project's."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        project = await get_project(session, principal, project_id, allowed=may_manage_charges)
        zone = ZoneInfo(project.timezone)
        rows = list(csv.reader(io.StringIO(_decode(content))))
        if not rows:
            raise BadInput("The file has no header row.", field="file")
        header = [_HEADERS.get(unicodedata.normalize("NFKC", cell).strip().lower()) for cell in rows[0]]
        if missing := [name for name in _REQUIRED if name not in header]:
            raise ImportRejected(
                "The header lacks required columns; nothing was imported.",
                tuple(RowError(1, name, "column missing from the header") for name in missing),
            )
        data = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
        if not data:
            raise BadInput("The file has no data rows.", field="file")
        if len(data) > MAX_READING_ROWS:
            raise BadInput(f"At most {MAX_READING_ROWS} readings per file.", field="file")
        units = {
            (building, number): unit_id
            for unit_id, building, number in await session.execute(
                select(Unit.id, Building.name, Unit.number)
                .join(Building, Unit.building_id == Building.id)
                .where(Unit.project_id == project_id)
            )
        }
        histories = _Histories(session)
        errors: list[RowError] = []
        written: list[MeterReading] = []
        for number, row in data:
            values = {name: (row[index].strip() if index < len(row) else "") for index, name in enumerate(header) if name}
            unit_id = units.get((values["building"], values["unit"]))
            if unit_id is None:
                errors.append(RowError(number, "unit", f"no unit {values['building']} {values['unit']} in this project"))
                continue
            try:
                reading = _parse_decimal(values["reading"])
            except ValueError as error:
                errors.append(RowError(number, "reading", str(error)))
                continue
            try:
                read_at = _parse_read_at(values["read_at"], zone)
            except ValueError as error:
                errors.append(RowError(number, "read_at", str(error)))
                continue
            start_text = values.get("replacement_start_value", "")
            try:
                start = _parse_decimal(start_text) if start_text else None
            except ValueError as error:
                errors.append(RowError(number, "replacement_start_value", str(error)))
                continue
            try:
                written.append(
                    await _add_reading(
                        session,
                        histories,
                        project_id=project_id,
                        reading=ReadingInput(
                            unit_id=unit_id,
                            meter_type=values["meter_type"],
                            reading=reading,
                            read_at=read_at,
                            is_replacement=start is not None,
                            replacement_start_value=start,
                        ),
                        recorded_by=principal.user_id,
                    )
                )
            except BadInput as error:
                errors.append(RowError(number, _FIELD_NAMES.get(error.field or "", error.field or "row"), error.message))
        if errors:
            raise ImportRejected(f"{len(errors)} problem(s) found; nothing was imported.", tuple(errors))
        await session.flush()
        return ReadingImportSummary(imported=len(written), flagged=sum(row.flagged_for_review for row in written))


async def list_flagged_readings(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    limit: int,
    after_id: int | None,
) -> Sequence[MeterReading]:
    """Readings flagged for review, oldest first (keyset pagination by id)."""
    async with session_factory() as session:
        await get_project(session, principal, project_id, allowed=may_manage_charges)
        query = select(MeterReading).where(MeterReading.project_id == project_id, MeterReading.flagged_for_review)
        if after_id is not None:
            query = query.where(MeterReading.id > after_id)
        return (await session.scalars(query.order_by(MeterReading.id).limit(limit))).all()
