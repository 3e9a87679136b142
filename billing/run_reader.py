"""What a bill run reads: the units of the project without a bill for the period, who each bill is
addressed to, the meters' usage, the prepaid credit each unit holds, and every unit's share of the
apportioned totals, with a few range queries per batch of units.

The many-row reads take the driver's plain rows (`BulkConnection.fetch`): the connection is the run's
bottleneck, and result processing per row would double the time a batch's reads hold it.
"""

from __future__ import annotations

import datetime as dt
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    cast,
    exists,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from billing import model as engine
from billing.bulk import BulkConnection, IdPool
from billing.credit import credit_balances
from billing.rules import PreparedRules, apportion_all
from db.models import (
    Bill,
    JournalEntry,
    MeterReading,
    Occupancy,
    OccupancyRelation,
    Party,
    Unit,
)
from kernel.vocabulary import UnitKind

__all__ = ["BatchInput", "RunIds", "RunReader", "UnitRow", "UsageRow", "period_bounds"]

_READ_CHUNK = 10_000


def period_bounds(period: engine.BillingPeriod, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The period as a half-open range of UTC instants, its days counted in the project's time zone."""
    start = dt.datetime.combine(period.start, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return start, end



# (unit id, building id, kind, floor area in hundredths of m², occupancy status): a unit as read.
UnitRow = tuple[int, int, str, int, str]
# (unit id, meter type, billed already, read in the period's year, usage in thousandths, readings): one
# group of a unit's readings on a meter, as `billing.model.ReadingTally` describes it.
UsageRow = tuple[int, str, bool, bool, int, int]


@dataclass
class BatchInput:
    """A batch as read, in raw column values: the pricing thread, not the connection's turn, converts them."""

    units: Sequence[UnitRow]
    parties: dict[int, tuple[int, str]]
    usage_rows: list[UsageRow]
    credits: dict[int, Decimal]
    bill_ids: list[int]
    entry_id: int



@dataclass(frozen=True)
class RunIds:
    """Where a run that writes takes its bills' and journal entries' ids from."""

    bills: IdPool
    entries: IdPool

    @classmethod
    def reserve_for(cls, writer: BulkConnection, expected_bills: int) -> RunIds:
        return cls(
            bills=IdPool(writer, Bill.__table__, block=expected_bills),  # type: ignore[arg-type]
            entries=IdPool(writer, JournalEntry.__table__, block=max(1, expected_bills // 1000)),  # type: ignore[arg-type]
        )


class RunReader:
    """Reads what pricing one batch of units needs, with a few range queries per batch."""

    def __init__(
        self,
        session: AsyncSession,
        bulk: BulkConnection,
        *,
        project_id: int,
        period: engine.BillingPeriod,
        zone: ZoneInfo,
        metered_types: frozenset[str],
        usage_basis_types: frozenset[str],
        run_id: int | None,
    ) -> None:
        """`run_id` None reads for a dry run, which claims no readings."""
        self.session = session
        self.bulk = bulk
        self.project_id = project_id
        self.period = period
        self.metered_types = metered_types
        # Apportioning by usage weighs each unit by its usage within the period, billed or not.
        self.period_usage_types = usage_basis_types - metered_types
        self.run_id = run_id
        self.start, self.end = period_bounds(period, zone)
        year_start = engine.BillingPeriod(start=dt.date(period.start.year, 1, 1))
        self.year_start = period_bounds(year_start, zone)[0]
        already_billed = exists().where(Bill.unit_id == Unit.id, Bill.period == period.label)
        self._unbilled = and_(Unit.project_id == project_id, ~already_billed)

    async def count_unbilled(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Unit).where(self._unbilled)) or 0)

    async def next_units(self, after_id: int, limit: int) -> Sequence[UnitRow]:
        # Raw column values: a batch's rows skip the enum and Decimal conversions of the ORM types.
        return await self.bulk.fetch(
            select(
                Unit.id,
                Unit.building_id,
                type_coerce(Unit.kind, String),
                type_coerce(Unit.floor_area, BigInteger),
                type_coerce(Unit.occupancy_status, String),
            )
            .where(self._unbilled, Unit.id > after_id)
            .order_by(Unit.id)
            .limit(limit)
        )

    async def batch(self, units: Sequence[UnitRow], ids: RunIds | None) -> BatchInput:
        """The batch's inputs; a dry run (no `ids`) reads no credit and numbers its bills -1, -2, …"""
        low, high = units[0][0], units[-1][0]
        wanted = {unit[0] for unit in units}
        if self.run_id is not None:
            await self._claim_readings(low, high)
        return BatchInput(
            units=units,
            parties=await self._parties(low, high),
            usage_rows=await self._usage_rows(low, high, wanted),
            credits=await credit_balances(self.session, sorted(wanted)) if ids is not None else {},
            bill_ids=await ids.bills.take(len(units)) if ids is not None else [-i for i in range(1, len(units) + 1)],
            entry_id=(await ids.entries.take(1))[0] if ids is not None else 0,
        )

    async def _parties(self, low: int, high: int) -> dict[int, tuple[int, str]]:
        """Who each unit's bill is addressed to: its owner during the period, else its tenant."""
        rows = await self.session.execute(
            select(Occupancy.unit_id, Occupancy.party_id, Party.party_type, Occupancy.relation, Occupancy.start_date)
            .join(Party, Occupancy.party_id == Party.id)
            .join(Unit, Occupancy.unit_id == Unit.id)
            .where(
                Unit.project_id == self.project_id,
                Occupancy.unit_id.between(low, high),
                Occupancy.start_date <= self.period.end,
                or_(Occupancy.end_date.is_(None), Occupancy.end_date >= self.period.start),
            )
        )
        best: dict[int, tuple[tuple[bool, dt.date], int, str]] = {}
        for unit_id, party_id, party_type, relation, start_date in rows:
            rank = (relation == OccupancyRelation.OWNER, start_date)
            if unit_id not in best or rank > best[unit_id][0]:
                best[unit_id] = (rank, party_id, party_type.value)
        return {unit_id: (party_id, party_type) for unit_id, (_, party_id, party_type) in best.items()}

    async def _usage_sums(
        self, low: int, high: int, since: dt.datetime, until: dt.datetime, meter_types: frozenset[str]
    ) -> dict[tuple[int, str], Decimal]:
        if not meter_types:
            return {}
        rows = await self.bulk.fetch(
            select(
                MeterReading.unit_id,
                MeterReading.meter_type,
                cast(func.sum(type_coerce(MeterReading.usage, BigInteger)), BigInteger),
            )
            # Readings are picked by unit id (the unique index's first column); units of other projects
            # that fall in the id range are dropped afterwards.
            .where(
                MeterReading.unit_id.between(low, high),
                MeterReading.meter_type.in_(sorted(meter_types)),
                MeterReading.read_at >= since,
                MeterReading.read_at < until,
            )
            .group_by(MeterReading.unit_id, MeterReading.meter_type)
        )
        return {(unit_id, meter_type): Decimal(int(total)).scaleb(-3) for unit_id, meter_type, total in rows}

    async def _claim_readings(self, low: int, high: int) -> None:
        """Mark the batch's unbilled readings read before the period ends as billed by this run, before
        reading them: a reading recorded meanwhile is either claimed and charged here, or left for the next bill."""
        if not self.metered_types:
            return
        already_billed = exists().where(Bill.unit_id == MeterReading.unit_id, Bill.period == self.period.label)
        await self.session.execute(
            update(MeterReading)
            .where(
                MeterReading.project_id == self.project_id,
                MeterReading.unit_id.between(low, high),
                MeterReading.meter_type.in_(sorted(self.metered_types)),
                MeterReading.read_at < self.end,
                MeterReading.billed_in_run_id.is_(None),
                ~already_billed,
            )
            .values(billed_in_run_id=self.run_id)
            .execution_options(synchronize_session=False)
        )

    async def _usage_rows(self, low: int, high: int, wanted: set[int]) -> list[UsageRow]:
        """The batch's readings grouped per unit and meter: those this bill charges (claimed by this run,
        or for a dry run not billed yet), and those earlier bills charged in the same year; one grouped
        query. Meters only apportioned by usage count the period's readings."""
        rows: list[UsageRow] = []
        usage = cast(func.sum(type_coerce(MeterReading.usage, BigInteger)), BigInteger)
        in_batch = (MeterReading.unit_id.between(low, high), MeterReading.project_id == self.project_id)
        if self.metered_types:
            charged_here = (
                MeterReading.billed_in_run_id.is_(None)
                if self.run_id is None
                else MeterReading.billed_in_run_id == self.run_id
            )
            billed_earlier = MeterReading.billed_in_run_id.is_not(None)
            if self.run_id is not None:
                billed_earlier = and_(billed_earlier, MeterReading.billed_in_run_id != self.run_id)
            # Billed readings are read only from the period's year, so every billed group is this year's.
            rows.extend(
                (unit_id, meter_type, bool(billed), True, total, count)
                for unit_id, meter_type, billed, total, count in await self.bulk.fetch(
                    select(MeterReading.unit_id, MeterReading.meter_type, billed_earlier, usage, func.count())
                    .where(
                        *in_batch,
                        MeterReading.meter_type.in_(sorted(self.metered_types)),
                        MeterReading.read_at < self.end,
                        or_(charged_here, and_(billed_earlier, MeterReading.read_at >= self.year_start)),
                    )
                    .group_by(MeterReading.unit_id, MeterReading.meter_type, billed_earlier)
                )
            )
        if self.period_usage_types:
            rows.extend(
                (unit_id, meter_type, False, True, total, count)
                for unit_id, meter_type, total, count in await self.bulk.fetch(
                    select(MeterReading.unit_id, MeterReading.meter_type, usage, func.count())
                    .where(
                        *in_batch,
                        MeterReading.meter_type.in_(sorted(self.period_usage_types)),
                        MeterReading.read_at >= self.start,
                        MeterReading.read_at < self.end,
                    )
                    .group_by(MeterReading.unit_id, MeterReading.meter_type)
                )
            )
        return [(row[0], row[1], bool(row[2]), bool(row[3]), int(row[4]), int(row[5])) for row in rows if row[0] in wanted]

    async def apportionments(
        self, prepared: PreparedRules, usage_types: frozenset[str]
    ) -> dict[int, engine.Apportionment]:
        """Share every apportioned total among all the project's units, keeping them in compact arrays
        and handing the engine one snapshot at a time, so 100,000 units cost a few MiB once read."""
        unit_ids, building_ids, kinds, areas = array("q"), array("q"), array("b"), array("q")
        kind_codes = {kind.value: code for code, kind in enumerate(UnitKind)}
        last_id = 0
        while True:
            rows = await self.bulk.fetch(
                select(Unit.id, Unit.building_id, type_coerce(Unit.kind, String), type_coerce(Unit.floor_area, BigInteger))
                .where(Unit.project_id == self.project_id, Unit.id > last_id)
                .order_by(Unit.id)
                .limit(_READ_CHUNK)
            )
            for unit_id, building_id, kind, area in rows:
                unit_ids.append(unit_id)
                building_ids.append(building_id)
                kinds.append(kind_codes[kind])
                areas.append(area)
            if len(rows) < _READ_CHUNK:
                break
            last_id = unit_ids[-1]
        del rows
        all_kinds = list(UnitKind)
        # Flats of one stack share a floor area: one Decimal per distinct area keeps the engine's weights small.
        area_values: dict[int, Decimal] = {}
        snapshots = (
            engine.UnitSnapshot(
                unit_ids[i],
                building_ids[i],
                all_kinds[kinds[i]],
                area_values.get(areas[i]) or area_values.setdefault(areas[i], Decimal(areas[i]).scaleb(-2)),
            )
            for i in range(len(unit_ids))
        )
        usages: list[engine.MeterUsage] = []
        if unit_ids and usage_types:
            sums = await self._usage_sums(unit_ids[0], unit_ids[-1], self.start, self.end, usage_types)
            usages = [engine.MeterUsage(unit_id, meter_type, usage) for (unit_id, meter_type), usage in sums.items()]
        shared = apportion_all(prepared, snapshots, usages)
        return {rule_id: replace(share, shares=FenShares(share.shares)) for rule_id, share in shared.items()}


class FenShares(Mapping[int, Decimal]):
    """An apportionment's shares as two sorted integer arrays (unit id, fen) instead of a dict."""

    def __init__(self, shares: Mapping[int, Decimal]) -> None:
        ordered = sorted(shares.items())
        self._unit_ids = array("q", (unit_id for unit_id, _ in ordered))
        self._fen = array("q", (int(share.scaleb(2)) for _, share in ordered))

    def __getitem__(self, unit_id: int) -> Decimal:
        share = self.get(unit_id)
        if share is None:
            raise KeyError(unit_id)
        return share

    def get(self, unit_id: int, default: Decimal | None = None) -> Decimal | None:  # type: ignore[override]
        # Every unit of a run asks once; Mapping.get's KeyError round trip would cost more than the search.
        index = bisect_left(self._unit_ids, unit_id)
        if index == len(self._unit_ids) or self._unit_ids[index] != unit_id:
            return default
        return Decimal(self._fen[index]).scaleb(-2)

    def __iter__(self) -> Iterator[int]:
        return iter(self._unit_ids)

    def __len__(self) -> int:
        return len(self._unit_ids)
