"""Bill runs: one bill per unit and period, computed by the rule engine in batches and bulk-written.

A run is keyed by (project, period). Running it again bills only the units that have no bill for the
period yet (units added since), so it is idempotent and returns the same run. Apportioned totals are
shared once, among the units billed by the first run; a unit added later draws no share of them.

Each batch of units is read as the driver's plain rows, priced in a worker thread while the previous
batch is being written, and written with the dialect's bulk connection (COPY on PostgreSQL): bills,
their lines, and one journal entry per batch (receivable per bill against income per rule). Prepaid
credit a unit holds is applied to its new bill at once. Units with equal inputs share one engine line,
whose storage values are converted once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from billing import model as engine
from billing.balance import status_for
from billing.bulk import BulkConnection, bulk_connection, dialect_insert
from billing.guards import get_project
from billing.journal import (
    JOURNAL_LINE_COLUMNS,
    credit_balances,
    journal_line_record,
    unapplied_credit_by_payment,
    write_journal,
)
from billing.ledger import AllocationPart, IssuedBill, post_allocations, post_bills
from billing.policy import may_manage_charges
from billing.rule_admin import (
    engine_discount,
    engine_rule,
    engine_waiver,
    load_policies,
)
from billing.rules import (
    ApportionmentError,
    PreparedRules,
    RuleValidationError,
    apportion_all,
    compute_unit_lines,
    prepare_rules,
)
from db.models import (
    AllocationSource,
    Bill,
    BillLine,
    BillRun,
    DiscountRule,
    FeeRule,
    FeeRuleVersion,
    JournalEntry,
    JournalLine,
    MeterReading,
    Occupancy,
    OccupancyRelation,
    OccupancyStatus,
    Party,
    PaymentAllocation,
    Project,
    Unit,
    Waiver,
)
from kernel.errors import BadInput
from kernel.principal import Principal
from kernel.vocabulary import BillLineKind, FeeRuleKind, PartyType, UnitKind

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "BillPreview",
    "BillRunOutcome",
    "period_bounds",
    "run_billing",
]

DEFAULT_BATCH_SIZE = 5_000
_READ_CHUNK = 10_000
SAMPLE_SIZE = 5

BILL_COLUMNS = (
    "id",
    "project_id",
    "run_id",
    "unit_id",
    "party_id",
    "period",
    "period_start",
    "period_end",
    "issued_on",
    "due_date",
    "status",
    "total_amount",
    "adjustment_amount",
    "late_fee_amount",
    "principal_paid",
    "late_fee_paid",
)
LINE_COLUMNS = (
    "bill_id",
    "position",
    "rule_version_id",
    "rule_code",
    "kind",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "explanation",
)
ENTRY_COLUMNS = ("id", "project_id", "kind", "description", "occurred_at", "created_by")

_ZERO = Decimal("0.00")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BillPreview:
    """One unit's bill as a dry run computed it."""

    unit_id: int
    total: Decimal
    lines: tuple[engine.BillLineDraft, ...]


@dataclass(frozen=True)
class BillRunOutcome:
    """What a run did (or, dry, would do): bills and amount created by this invocation."""

    run: BillRun | None
    dry_run: bool
    period: str
    bills_created: int
    amount_created: Decimal
    units_without_charges: int
    sample: tuple[BillPreview, ...] = ()


def period_bounds(period: engine.BillingPeriod, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The period as a half-open range of UTC instants, its days counted in the project's time zone."""
    start = dt.datetime.combine(period.start, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return start, end


def _scaled(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    integral = int(scaled)
    if scaled != integral:
        raise ValueError(f"{value} has more than {places} decimal places")
    return integral


# (unit id, building id, kind, floor area in hundredths of m², occupancy status): a unit as read.
_UnitRow = tuple[int, int, str, int, str]
# (unit id, meter type, usage in the period, usage earlier in the year, readings in the period), usages
# in thousandths.
_UsageRow = tuple[int, str, int, int, int]


@dataclass
class _BatchInput:
    """A batch as read, in raw column values: the pricing thread, not the connection's turn, converts them."""

    units: Sequence[_UnitRow]
    parties: dict[int, tuple[int, str]]
    usage_rows: list[_UsageRow]
    credits: dict[int, Decimal]
    bill_ids: list[int]
    entry_id: int


@dataclass
class _BatchDrafts:
    bills: list[tuple[object, ...]] = field(default_factory=list)
    lines: list[tuple[object, ...]] = field(default_factory=list)
    entries: list[tuple[object, ...]] = field(default_factory=list)
    journal_lines: list[tuple[object, ...]] = field(default_factory=list)
    credit_applied: list[tuple[int, int, Decimal]] = field(default_factory=list)
    previews: list[BillPreview] = field(default_factory=list)
    total: Decimal = _ZERO
    without_charges: int = 0


@dataclass(frozen=True)
class _RunContext:
    project_id: int
    run_id: int
    period: engine.BillingPeriod
    issued_on: dt.date
    due_date: dt.date
    prepared: PreparedRules
    apportionments: Mapping[int, engine.Apportionment]
    waivers: Mapping[int, Sequence[engine.Waiver]]
    year_to_date_types: frozenset[str]
    keep_previews: int
    now: dt.datetime
    user_id: int | None
    line_records: dict[int, tuple[engine.BillLineDraft, tuple[object, ...]]] = field(default_factory=dict)


_LINE_KINDS = {kind: kind.value for kind in BillLineKind}
_UNIT_KINDS = {kind.value: kind for kind in UnitKind}
_PARTY_TYPES = {party_type.value: party_type for party_type in PartyType}


def _fen(amount: Decimal) -> int:
    # Line amounts come rounded to the fen from the engine, so the shift is exact.
    return int(amount.scaleb(2))


def _draft_batch(context: _RunContext, batch: _BatchInput) -> _BatchDrafts:
    """Price a batch of units and turn it into storage records, journal included; pure CPU work, run in
    a worker thread while the previous batch is written."""
    drafts = _BatchDrafts()
    period = context.period
    label = period.label
    issued: list[IssuedBill] = []
    usages = _usages_by_unit(batch.usage_rows, context.year_to_date_types)
    line_records = context.line_records
    vacant = OccupancyStatus.VACANT.value
    # Flats of one plan share an area: one Decimal per distinct area.
    areas: dict[int, Decimal] = {}
    bill_fields = (context.project_id, context.run_id)
    period_fields = (label, period.start, period.end, context.issued_on, context.due_date)
    prepared, apportionments = context.prepared, context.apportionments
    for (unit_id, building_id, kind, area, occupancy), bill_id in zip(batch.units, batch.bill_ids, strict=True):
        party = batch.parties.get(unit_id)
        snapshot = engine.UnitSnapshot(
            unit_id,
            building_id,
            _UNIT_KINDS[kind],
            areas.get(area) or areas.setdefault(area, Decimal(area).scaleb(-2)),
            occupancy == vacant,
            _PARTY_TYPES[party[1]] if party else None,
        )
        lines = compute_unit_lines(
            prepared,
            snapshot,
            usages.get(unit_id, ()),
            apportionments=apportionments,
            waivers=context.waivers.get(unit_id, ()),
        )
        if not lines:
            drafts.without_charges += 1
            continue
        total = _ZERO
        net_by_code: dict[str, Decimal] = {}
        for position, line in enumerate(lines, start=1):
            amount = line.amount
            total += amount
            net_by_code[line.rule_code] = net_by_code.get(line.rule_code, _ZERO) + amount
            stored = line_records.get(id(line)) or _line_record(line_records, line)
            drafts.lines.append((bill_id, position, *stored[1]))
        applied = min(batch.credits.get(unit_id, _ZERO), total)
        if applied > 0:
            drafts.credit_applied.append((unit_id, bill_id, applied))
        status = status_for(due=total - applied, paid=applied)
        drafts.bills.append(
            (bill_id, *bill_fields, unit_id, party[0] if party else None, *period_fields, status.value, _fen(total), 0, 0, _fen(applied), 0)
        )
        issued.append(IssuedBill(bill_id=bill_id, unit_id=unit_id, net_by_rule_code=net_by_code))
        drafts.total += total
        if len(drafts.previews) < context.keep_previews:
            drafts.previews.append(BillPreview(unit_id=unit_id, total=total, lines=tuple(lines)))
    journal = post_bills(issued, f"bills for {label}")
    if journal is not None:
        drafts.entries.append(
            (batch.entry_id, context.project_id, journal.kind, journal.description, context.now, context.user_id)
        )
        drafts.journal_lines = [
            journal_line_record(batch.entry_id, line_no, posting) for line_no, posting in enumerate(journal.postings, start=1)
        ]
    return drafts


_REMEMBERED_RECORDS = 65_536


def _line_record(
    records: dict[int, tuple[engine.BillLineDraft, tuple[object, ...]]], line: engine.BillLineDraft
) -> tuple[engine.BillLineDraft, tuple[object, ...]]:
    """A line's storage values after the bill id and position, kept by the line's identity: the engine
    hands units with equal inputs the same line. Each entry holds its line, so no id is reused while
    the entry lives."""
    if len(records) >= _REMEMBERED_RECORDS:
        records.clear()
    stored = records[id(line)] = (
        line,
        (
            line.rule_id,
            line.rule_code,
            _LINE_KINDS[line.kind],
            line.description[:500],
            _scaled(line.quantity, 4),
            None if line.unit_price is None else _scaled(line.unit_price, 6),
            _fen(line.amount),
            line.explanation,
        ),
    )
    return stored


def _usages_by_unit(rows: Sequence[_UsageRow], year_to_date_types: frozenset[str]) -> dict[int, list[engine.MeterUsage]]:
    usages: dict[int, list[engine.MeterUsage]] = defaultdict(list)
    for unit_id, meter_type, used, used_earlier, readings_in_period in rows:
        # A meter without a reading in the period has no usage for it (and draws no line).
        if readings_in_period:
            earlier = used_earlier if meter_type in year_to_date_types else 0
            usages[unit_id].append(
                engine.MeterUsage(unit_id, meter_type, Decimal(used).scaleb(-3), Decimal(earlier).scaleb(-3))
            )
    return usages


class _IdPool:
    """Primary keys reserved ahead, in blocks, so that batches need no round trip for their ids."""

    def __init__(self, writer: BulkConnection, expected_bills: int) -> None:
        self._writer = writer
        self._expected_bills = expected_bills
        self._bill_ids: list[int] = []
        self._entry_ids: list[int] = []

    async def _take(self, pool: list[int], table: object, count: int, block: int) -> list[int]:
        if len(pool) < count:
            pool.extend(await self._writer.reserve_ids(table, max(count - len(pool), block)))  # type: ignore[arg-type]
        taken = pool[:count]
        del pool[:count]
        return taken

    async def bills(self, count: int) -> list[int]:
        return await self._take(self._bill_ids, Bill.__table__, count, self._expected_bills)

    async def entries(self, count: int) -> list[int]:
        return await self._take(self._entry_ids, JournalEntry.__table__, count, max(1, self._expected_bills // 1000))


class _Reader:
    """Reads what pricing one batch of units needs, with a few range queries per batch.

    The many-row reads take the driver's plain rows (`BulkConnection.fetch`): the connection is the
    run's bottleneck, and result processing per row would double the time a batch's reads hold it."""

    def __init__(
        self,
        session: AsyncSession,
        bulk: BulkConnection,
        *,
        project_id: int,
        period: engine.BillingPeriod,
        zone: ZoneInfo,
        meter_types: frozenset[str],
        year_to_date_types: frozenset[str],
    ) -> None:
        self.session = session
        self.bulk = bulk
        self.project_id = project_id
        self.period = period
        self.meter_types = meter_types
        self.year_to_date_types = year_to_date_types
        self.start, self.end = period_bounds(period, zone)
        year_start = engine.BillingPeriod(start=dt.date(period.start.year, 1, 1))
        self.year_start = period_bounds(year_start, zone)[0]
        already_billed = exists().where(Bill.unit_id == Unit.id, Bill.period == period.label)
        self._unbilled = and_(Unit.project_id == project_id, ~already_billed)

    async def count_unbilled(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Unit).where(self._unbilled)) or 0)

    async def next_units(self, after_id: int, limit: int) -> Sequence[_UnitRow]:
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

    async def batch(self, units: Sequence[_UnitRow], ids: _IdPool | None) -> _BatchInput:
        low, high = units[0][0], units[-1][0]
        wanted = {unit[0] for unit in units}
        return _BatchInput(
            units=units,
            parties=await self._parties(low, high),
            usage_rows=await self._usage_rows(low, high, wanted),
            credits=await credit_balances(self.session, sorted(wanted)) if ids is not None else {},
            bill_ids=await ids.bills(len(units)) if ids is not None else [-i for i in range(1, len(units) + 1)],
            entry_id=(await ids.entries(1))[0] if ids is not None else 0,
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

    async def _usage_rows(self, low: int, high: int, wanted: set[int]) -> list[_UsageRow]:
        """Each unit's usage per meter in the period and, for year-to-date tiers, earlier in the year:
        one grouped query over the batch's readings."""
        if not self.meter_types:
            return []
        usage = type_coerce(MeterReading.usage, BigInteger)
        in_period = MeterReading.read_at >= self.start
        since = self.year_start if self.year_to_date_types else self.start
        rows = await self.bulk.fetch(
            select(
                MeterReading.unit_id,
                MeterReading.meter_type,
                # Cast back to bigint: PostgreSQL sums bigints as numeric, which decodes far slower.
                cast(func.sum(case((in_period, usage), else_=0)), BigInteger),
                cast(func.sum(case((in_period, 0), else_=usage)), BigInteger),
                func.count(case((in_period, 1))),
            )
            # Readings are picked by unit id (the unique index's first column); units of other projects
            # that fall in the id range are dropped afterwards.
            .where(
                MeterReading.unit_id.between(low, high),
                MeterReading.meter_type.in_(sorted(self.meter_types)),
                MeterReading.read_at >= since,
                MeterReading.read_at < self.end,
            )
            .group_by(MeterReading.unit_id, MeterReading.meter_type)
        )
        return [row for row in rows if row[0] in wanted]

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
        return {rule_id: replace(share, shares=_FenShares(share.shares)) for rule_id, share in shared.items()}


class _FenShares(Mapping[int, Decimal]):
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


async def _load_rules(
    session: AsyncSession, project_id: int, period: engine.BillingPeriod
) -> tuple[PreparedRules, list[engine.Waiver]]:
    versions = await session.execute(
        select(FeeRule, FeeRuleVersion)
        .join(FeeRuleVersion, FeeRuleVersion.rule_id == FeeRule.id)
        .where(FeeRule.project_id == project_id)
        .order_by(FeeRule.id, FeeRuleVersion.version)
    )
    rules = [engine_rule(rule, version) for rule, version in versions]
    discounts = [
        engine_discount(row)
        for row in await session.scalars(select(DiscountRule).where(DiscountRule.project_id == project_id).order_by(DiscountRule.id))
    ]
    waivers = [
        engine_waiver(row)
        for row in await session.scalars(
            select(Waiver).where(Waiver.project_id == project_id, Waiver.period == period.label).order_by(Waiver.id)
        )
    ]
    try:
        return prepare_rules(rules, discounts, period), waivers
    except RuleValidationError as error:
        raise BadInput(f"A stored rule is invalid: {error.message}", field=f"rules.{error.field}") from None


async def _get_or_create_run(
    session: AsyncSession, *, project_id: int, period: engine.BillingPeriod, user_id: int | None
) -> BillRun:
    """The period's run, created if need be, and locked until commit so that concurrent runs queue."""
    # ON CONFLICT DO NOTHING waits for a concurrent first run to commit and then leaves its row alone.
    await session.execute(
        dialect_insert(session, BillRun)
        .values(
            project_id=project_id,
            period=period.label,
            period_start=period.start,
            period_end=period.end,
            bill_count=0,
            total_amount=_ZERO,
            times_run=0,
            last_run_bill_count=0,
            created_by=user_id,
        )
        .on_conflict_do_nothing(index_elements=["project_id", "period"])
    )
    run = await session.scalar(
        select(BillRun)
        .where(BillRun.project_id == project_id, BillRun.period == period.label)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert run is not None, "inserted or found above"
    return run


def _empty_apportionments(prepared: PreparedRules) -> dict[int, engine.Apportionment]:
    """For a run that only tops up new units: the totals were shared by the first run, so no shares."""
    return {
        rule.id: engine.Apportionment(
            rule_id=rule.id,
            basis=rule.apportion_basis or engine.ApportionBasis.EQUAL,
            total=rule.apportion_total or _ZERO,
            total_weight=Decimal(0),
            unit_count=0,
            shares={},
        )
        for rule in prepared.apportioned_rules
    }


async def run_billing(
    session: AsyncSession,
    principal: Principal | None,
    *,
    project_id: int,
    period: str,
    dry_run: bool,
    now: dt.datetime,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> BillRunOutcome:
    """Bill every unit of the project that has no bill for `period` yet (see the module docstring).

    `principal` None is the command line, which acts with the database's own authority.
    """
    if principal is None:
        project = await session.get(Project, project_id)
        if project is None:
            raise BadInput(f"No project {project_id}.", field="projectId")
    else:
        project = await get_project(session, principal, project_id, allowed=may_manage_charges)
    policies = await load_policies(session, project_id)
    try:
        billing_period = engine.BillingPeriod.parse(period, months=policies.cycle_months)
    except ValueError as error:
        raise BadInput(str(error), field="period") from None
    zone = ZoneInfo(project.timezone)
    prepared, waivers = await _load_rules(session, project_id, billing_period)
    meter_types = frozenset(
        rule.meter_type for rule in prepared.rules if rule.kind == FeeRuleKind.METERED_TIERED and rule.meter_type
    )
    year_to_date_types = frozenset(
        rule.meter_type
        for rule in prepared.rules
        if rule.tier_period == engine.TierPeriod.YEAR_TO_DATE and rule.meter_type
    )
    usage_basis_types = frozenset(
        rule.meter_type
        for rule in prepared.apportioned_rules
        if rule.apportion_basis == engine.ApportionBasis.USAGE and rule.meter_type
    )
    bulk = await bulk_connection(session)
    reader = _Reader(
        session,
        bulk,
        project_id=project_id,
        period=billing_period,
        zone=zone,
        meter_types=meter_types | usage_basis_types,
        year_to_date_types=year_to_date_types,
    )
    user_id = principal.user_id if principal else None
    run: BillRun | None
    if dry_run:
        run = await session.scalar(
            select(BillRun).where(BillRun.project_id == project_id, BillRun.period == billing_period.label)
        )
    else:
        run = await _get_or_create_run(session, project_id=project_id, period=billing_period, user_id=user_id)
        # Writing first takes SQLite's write lock, which the bulk writer's id reservation relies on.
        run.times_run += 1
        run.last_run_at = now
        await session.flush()
    top_up = run is not None and run.bill_count > 0
    if top_up or not prepared.apportioned_rules:
        apportionments: Mapping[int, engine.Apportionment] = _empty_apportionments(prepared)
    else:
        try:
            apportionments = await reader.apportionments(prepared, usage_basis_types)
        except ApportionmentError as error:
            raise BadInput(error.message, field=f"rules.{error.rule_code}.{error.field}") from None
    waivers_by_unit: dict[int, list[engine.Waiver]] = defaultdict(list)
    for waiver in waivers:
        waivers_by_unit[waiver.unit_id].append(waiver)
    issued_on = now.astimezone(zone).date()
    context = _RunContext(
        project_id=project_id,
        run_id=run.id if run is not None else 0,
        period=billing_period,
        issued_on=issued_on,
        due_date=issued_on + dt.timedelta(days=policies.due_days),
        prepared=prepared,
        apportionments=apportionments,
        waivers=waivers_by_unit,
        year_to_date_types=year_to_date_types,
        keep_previews=SAMPLE_SIZE if dry_run else 0,
        now=now,
        user_id=user_id,
    )
    writer = None if dry_run else bulk
    total_units = await reader.count_unbilled()
    ids = None if writer is None else _IdPool(writer, total_units)
    done = 0
    created = 0
    amount = _ZERO
    without_charges = 0
    previews: list[BillPreview] = []
    credit_applications: list[tuple[int, int, Decimal]] = []
    pending_write: _BatchDrafts | None = None
    units = await reader.next_units(0, batch_size)
    while units or pending_write is not None:
        computing = None
        if units:
            batch = await reader.batch(units, ids)
            computing = asyncio.ensure_future(asyncio.to_thread(_draft_batch, context, batch))
        if pending_write is not None and writer is not None:
            await _write_batch(writer, pending_write)
        pending_write = None
        if computing is None:
            break
        drafts = await computing
        done += len(units)
        created += len(drafts.bills)
        amount += drafts.total
        without_charges += drafts.without_charges
        previews.extend(drafts.previews[: SAMPLE_SIZE - len(previews)])
        credit_applications.extend(drafts.credit_applied)
        pending_write = drafts
        if progress is not None:
            progress(done, total_units)
        units = await reader.next_units(units[-1][0], batch_size)
    if run is not None and not dry_run:
        await _apply_credits(session, project_id=project_id, applications=credit_applications, now=now, user_id=user_id)
        run.bill_count += created
        run.total_amount += amount
        run.last_run_bill_count = created
        await session.flush()
    return BillRunOutcome(
        run=run,
        dry_run=dry_run,
        period=billing_period.label,
        bills_created=created,
        amount_created=amount,
        units_without_charges=without_charges,
        sample=tuple(previews),
    )


async def _write_batch(writer: BulkConnection, drafts: _BatchDrafts) -> None:
    # Foreign keys are checked per statement: bills before their lines, entries before journal lines.
    await writer.write(Bill.__table__, BILL_COLUMNS, drafts.bills)  # type: ignore[arg-type]
    await writer.write(BillLine.__table__, LINE_COLUMNS, drafts.lines)  # type: ignore[arg-type]
    await writer.write(JournalEntry.__table__, ENTRY_COLUMNS, drafts.entries)  # type: ignore[arg-type]
    await writer.write(JournalLine.__table__, JOURNAL_LINE_COLUMNS, drafts.journal_lines)  # type: ignore[arg-type]


async def _apply_credits(
    session: AsyncSession,
    *,
    project_id: int,
    applications: Sequence[tuple[int, int, Decimal]],
    now: dt.datetime,
    user_id: int | None,
) -> None:
    """Allocate the prepaid credit the new bills were priced with, from the unit's oldest payments on."""
    drafts = []
    for unit_id, bill_id, applied in applications:
        left = applied
        for payment, available in await unapplied_credit_by_payment(session, unit_id):
            if left == 0:
                break
            take = min(available, left)
            session.add(
                PaymentAllocation(
                    payment_id=payment.id, bill_id=bill_id, principal=take, late_fee=_ZERO, source=AllocationSource.CREDIT
                )
            )
            drafts.append(
                post_allocations(
                    payment_id=payment.id,
                    unit_id=unit_id,
                    parts=[AllocationPart(bill_id=bill_id, principal=take, late_fee=_ZERO)],
                    kind="CREDIT_APPLIED",
                    description=f"prepaid credit of payment {payment.id} applied to bill {bill_id}",
                )
            )
            left -= take
        if left != 0:
            raise RuntimeError(f"unit {unit_id}: the journal shows more credit than its payments hold")
    await write_journal(session, project_id=project_id, drafts=drafts, occurred_at=now, created_by=user_id)
