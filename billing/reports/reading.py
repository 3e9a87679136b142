"""The reports' use cases: read what a report needs set-based, a few grouped statements each, and let the
pure cores compute. Each asks `billing.policy.may_see_reports` (FINANCE, ADMIN of the project; another
project answers NOT_FOUND) and writes nothing.

The SQL here is the twin of the cores' reading of the books, as `billing.balance_sql` is of
`billing.balance`: `receivable_balances_sql` sums a bill's receivable postings booked before an instant as
`ageing.open_amounts_as_of` does, and a test on both databases holds the two together. Every time comes
from the journal (the instant an entry was booked), never from a row's `created_at`: the demo and bulk
writers book history at its own time, and a report as of a past day must see it there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Date,
    Select,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.balance_sql import fen
from billing.guards import get_project
from billing.journal import sum_fen
from billing.ledger import ADJUSTMENTS, LATE_FEE_INCOME, RECEIVABLE
from billing.model import BillingPeriod
from billing.money import from_fen
from billing.policy import may_see_reports
from billing.reports.ageing import AGE_BUCKETS, AgeingFigures, UnitAgeing, ageing_report
from billing.reports.collection import day_end
from billing.reports.collection_sql import collection_in_sql
from billing.reports.income import (
    RECEIPT_ENTRY_KINDS,
    Granularity,
    JournalPosting,
    income_report,
)
from billing.reports.views import (
    AgeingView,
    CollectionView,
    IncomeView,
    ReportProject,
    UnitLabel,
)
from db.models import (
    ArrearsSpan,
    BillingPolicy,
    Building,
    FeeRule,
    FeeRuleVersion,
    JournalEntry,
    JournalLine,
    Party,
    Project,
    Unit,
)
from kernel.errors import BadInput, NotFound
from kernel.principal import Principal

__all__ = [
    "MAX_INCOME_DAYS",
    "MAX_PERIODS",
    "MAX_TOP_DEBTORS",
    "read_arrears_ageing",
    "read_collection_rate",
    "read_income",
    "receivable_balances_sql",
]

MAX_PERIODS = 36
"""A collection report spans at most three years of periods."""
MAX_INCOME_DAYS = {Granularity.DAY: 366, Granularity.MONTH: 366 * 5}
"""Daily income for at most a year, monthly for at most five."""
MAX_TOP_DEBTORS = 100

async def _report_settings(session: AsyncSession) -> None:
    """PostgreSQL settings for the rest of the read's transaction.

    JIT off: a report's statement is large and the planner cannot foresee how few rows its CTEs yield,
    so its cost estimate passes the JIT thresholds and compiling took 8.9 of 12.4 s on a 2,000-flat
    project (the query itself: 3.5 s, less on a quiet machine); the rows it reads are too few for
    compiled expressions to pay that back.

    More memory to sort and hash in: at 100,000 flats the collection rate groups half a million daily
    flows and the ageing sorts 140,000 open spans, and the default 4 MB sent both to disk (external
    merges of 8 to 10 MB per process)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL work_mem = '64MB'"))


async def _project(session: AsyncSession, principal: Principal | None, project_id: int, now: dt.datetime) -> ReportProject:
    """The project whose reports are read: NOT_FOUND for a stranger, FORBIDDEN without a finance role;
    `principal` None is the system's own authority (the command line)."""
    if principal is not None:
        row = await get_project(session, principal, project_id, allowed=may_see_reports)
    elif (found := await session.get(Project, project_id)) is not None:
        row = found
    else:
        raise NotFound("No such project.", field="projectId")
    zone = ZoneInfo(row.timezone)
    return ReportProject(row.id, row.name, zone, row.locale, now.astimezone(zone).date())


EARLIEST_DAY = dt.date(1970, 1, 1)
"""No books reach back further; earlier days are refused (and stay clear of the calendar's edge)."""
_LATEST_PERIOD = "2999-12"


def _day_of_the_books(day: dt.date, field: str, project: ReportProject) -> dt.date:
    if day < EARLIEST_DAY:
        raise BadInput(f"{field} may not be before {EARLIEST_DAY}.", field=field)
    if day > project.today:
        raise BadInput(f"{field} may not be later than today ({project.today}): the books do not know it yet.", field=field)
    return day


def _as_of(as_of: dt.date | None, project: ReportProject) -> dt.date:
    return project.today if as_of is None else _day_of_the_books(as_of, "asOf", project)


async def _building_names(session: AsyncSession, project_id: int) -> dict[int, str]:
    rows = await session.execute(select(Building.id, Building.name).where(Building.project_id == project_id))
    return dict(rows.all())


async def _rule_names(session: AsyncSession, project_id: int) -> dict[str, str]:
    """Each rule code's name as its latest version gives it."""
    rows = await session.execute(
        select(FeeRule.code, FeeRuleVersion.name)
        .join(FeeRuleVersion, FeeRuleVersion.rule_id == FeeRule.id)
        .where(FeeRule.project_id == project_id)
        .order_by(FeeRule.code, FeeRuleVersion.version)
    )
    return dict(rows.all())


# --- collection rate -----------------------------------------------------------------------------------


def _period(text: str, cycle_months: int, field: str) -> BillingPeriod:
    try:
        period = BillingPeriod.parse(text, cycle_months)
    except ValueError as error:
        raise BadInput(str(error), field=field) from None
    if not EARLIEST_DAY <= period.start <= BillingPeriod.parse(_LATEST_PERIOD).start:
        raise BadInput(f"{field}: periods run from {EARLIEST_DAY:%Y-%m} to {_LATEST_PERIOD}.", field=field)
    return period


def _periods(first: str, last: str, cycle_months: int) -> list[BillingPeriod]:
    period, final = _period(first, cycle_months, "from"), _period(last, cycle_months, "to")
    if final.start < period.start:
        raise BadInput(f"The last period {last} comes before the first {first}.", field="to")
    periods = [period]
    while periods[-1].following().start <= final.start:
        if len(periods) == MAX_PERIODS:
            raise BadInput(f"A report covers at most {MAX_PERIODS} periods.", field="to")
        periods.append(periods[-1].following())
    return periods


async def read_collection_rate(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    project_id: int,
    first_period: str,
    last_period: str,
    as_of: dt.date | None,
    now: dt.datetime,
) -> CollectionView:
    """The collection rate of the periods `first_period` to `last_period` as of the end of `as_of`
    (today when None), per building and fee kind (`billing.reports.collection`), summed in the database
    (`billing.reports.collection_sql`); `billing.reports.per_bill` reads it bill by bill for the core
    alone, and a test on both databases holds the two equal."""
    async with session_factory() as session:
        project = await _project(session, principal, project_id, now)
        day = _as_of(as_of, project)
        cycle = await session.scalar(select(BillingPolicy.cycle_months).where(BillingPolicy.project_id == project_id))
        periods = _periods(first_period, last_period, cycle or 1)
        await _report_settings(session)
        report = await collection_in_sql(session, project_id=project_id, periods=periods, as_of=day, zone=project.zone)
        return CollectionView(project, report, await _building_names(session, project_id), await _rule_names(session, project_id))


# --- arrears ageing --------------------------------------------------------------------------------------


def receivable_balances_sql(project_id: int, cutoff: dt.datetime) -> Select[tuple[int, int]]:
    """The SQL twin of `ageing.open_amounts_as_of`: each bill's receivable postings booked before
    `cutoff`, summed (integer fen), bills whose sum is zero left out. It reads the whole journal up to the
    cut-off: the ageing reads the same balances from its facts (`ArrearsSpan`), and the reference reading
    (`per_bill`) from here."""
    balance = sum_fen(fen(JournalLine.debit) - fen(JournalLine.credit))
    return (
        select(JournalLine.bill_id, balance.label("balance"))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalEntry.project_id == project_id,
            JournalEntry.occurred_at < cutoff,
            JournalLine.account == RECEIVABLE,
            JournalLine.bill_id.is_not(None),
        )
        .group_by(JournalLine.bill_id)
        .having(balance != 0)
    )


def _big(expression: object) -> ColumnElement[int]:
    return type_coerce(expression, BigInteger)


def _bucket_sql(due_date: ColumnElement[dt.date], as_of: dt.date) -> ColumnElement[int]:
    """The SQL twin of `ageing.age_bucket` on `as_of`: the bucket's index, -1 for a bill not yet due. A bucket
    is a range of due dates (its days past due counted back from `as_of`), so both databases compare dates."""
    whens: list[tuple[ColumnElement[bool], int]] = [(due_date >= as_of, -1)]
    for index, bucket in enumerate(AGE_BUCKETS):
        if bucket.last_day is not None:
            whens.append((due_date >= as_of - dt.timedelta(days=bucket.last_day), index))
    return case(*whens, else_=len(AGE_BUCKETS) - 1)


async def read_arrears_ageing(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    project_id: int,
    as_of: dt.date | None,
    top: int,
    now: dt.datetime,
) -> AgeingView:
    """Arrears in age buckets per unit and building as of the end of `as_of` (today when None), read back
    from the journal (`billing.reports.ageing`), with the `top` units owing most.

    The database sums each unit's open amounts per bucket from the arrears spans open on the day
    (`billing.reports.facts`: each bill's receivable balance from the day it took it until it next
    changed; `_bucket_sql`), with the unit's number and the name of the party billed on its latest-due
    open bill, in one statement; the core puts the units in order and adds them up.
    `billing.reports.per_bill` reads the same report bill by bill for the core alone, and a test on both
    databases holds the two equal."""
    if not 0 <= top <= MAX_TOP_DEBTORS:
        raise BadInput(f"top must be between 0 and {MAX_TOP_DEBTORS}.", field="top")
    async with session_factory() as session:
        project = await _project(session, principal, project_id, now)
        day = _as_of(as_of, project)
        await _report_settings(session)
        rows = await session.execute(_units_in_arrears(project_id, day))
        buildings = await _building_names(session, project_id)
        units: list[UnitAgeing] = []
        labels: dict[int, UnitLabel] = {}
        not_yet_due = 0
        for unit_id, building_id, number, debtor, waiting, *buckets, bills, oldest_due in rows:
            not_yet_due += int(waiting)
            if bills:
                figures = AgeingFigures(tuple(from_fen(int(amount)) for amount in buckets))
                units.append(UnitAgeing(unit_id, building_id, figures, int(bills), oldest_due))
                labels[unit_id] = UnitLabel(buildings.get(building_id, ""), number, debtor)
        report = ageing_report(units, not_yet_due=from_fen(not_yet_due), as_of=day, top=top)
        return AgeingView(project, report, buildings, labels)


def _units_in_arrears(project_id: int, day: dt.date) -> CompoundSelect:
    """Per unit in arrears on `day` (with an open arrears span then that is past due): its number, the
    name of the party billed on its latest-due open bill, the arrears per bucket, how many bills are in
    arrears and the oldest due date among them; and one row more, without a unit, with what is open but not
    yet due in the whole project (the unit rows say 0 there).

    At 100,000 flats four units in five owe only their latest bill, not yet due: their spans are only
    summed into the extra row, and only the spans of units in arrears are grouped per unit and put in
    order to find the debtor (21,600 units of 80,500 with a bill open)."""
    open_spans = (
        select(
            ArrearsSpan.unit_id,
            ArrearsSpan.building_id,
            ArrearsSpan.due_date,
            ArrearsSpan.party_id,
            ArrearsSpan.bill_id,
            ArrearsSpan.balance,
        )
        .where(ArrearsSpan.project_id == project_id, ArrearsSpan.open_until > day, ArrearsSpan.open_from <= day)
        .cte("open_spans")
    )
    bucket = _bucket_sql(open_spans.c.due_date, day)
    per_unit = (
        select(
            open_spans.c.unit_id,
            open_spans.c.building_id,
            *(sum_fen(case((bucket == index, open_spans.c.balance), else_=0)).label(f"bucket_{index}") for index in range(len(AGE_BUCKETS))),
            func.count().label("bills"),
            func.min(open_spans.c.due_date, type_=Date).label("oldest_due"),
        )
        .where(open_spans.c.due_date < day)
        .group_by(open_spans.c.unit_id, open_spans.c.building_id)
        .cte("per_unit")
    )
    latest_due = (
        select(
            open_spans.c.unit_id,
            open_spans.c.party_id,
            func.row_number()
            .over(partition_by=open_spans.c.unit_id, order_by=(open_spans.c.due_date.desc(), open_spans.c.bill_id.desc()))
            .label("latest"),
        )
        .join(per_unit, per_unit.c.unit_id == open_spans.c.unit_id)
        .subquery("latest_due")
    )
    units = (
        select(
            per_unit.c.unit_id,
            per_unit.c.building_id,
            Unit.number,
            Party.name,
            _big(literal(0)).label("waiting"),
            *(per_unit.c[f"bucket_{index}"] for index in range(len(AGE_BUCKETS))),
            per_unit.c.bills,
            per_unit.c.oldest_due,
        )
        .join(Unit, Unit.id == per_unit.c.unit_id)
        .join(latest_due, and_(latest_due.c.unit_id == per_unit.c.unit_id, latest_due.c.latest == 1))
        .outerjoin(Party, Party.id == latest_due.c.party_id)
    )
    waiting = select(
        null(),
        null(),
        null(),
        null(),
        _big(sum_fen(open_spans.c.balance)),
        *(_big(literal(0)) for _ in AGE_BUCKETS),
        _big(literal(0)),
        null(),
    ).where(open_spans.c.due_date >= day)
    return union_all(units, waiting)


# --- income ----------------------------------------------------------------------------------------------


def _income_accounts() -> ColumnElement[bool]:
    return or_(
        JournalLine.account.startswith("INCOME:"),
        JournalLine.account.in_([LATE_FEE_INCOME, ADJUSTMENTS]),
        and_(JournalLine.account.startswith("CLEARING:"), JournalEntry.kind.in_(sorted(RECEIPT_ENTRY_KINDS))),
    )


async def read_income(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    project_id: int,
    first_day: dt.date,
    last_day: dt.date,
    granularity: Granularity,
    now: dt.datetime,
) -> IncomeView:
    """Revenue by fee kind and money received by channel from `first_day` to `last_day`, per day or month
    (`billing.reports.income`): one grouped statement over the journal."""
    if last_day < first_day:
        raise BadInput(f"The range ends ({last_day}) before it starts ({first_day}).", field="to")
    if (last_day - first_day).days + 1 > MAX_INCOME_DAYS[granularity]:
        raise BadInput(f"A {granularity.value.lower()} income report covers at most {MAX_INCOME_DAYS[granularity]} days.", field="to")
    async with session_factory() as session:
        project = await _project(session, principal, project_id, now)
        _day_of_the_books(first_day, "from", project)
        _day_of_the_books(last_day, "to", project)
        rows = await session.execute(
            select(
                JournalEntry.occurred_at,
                JournalEntry.kind,
                JournalLine.account,
                sum_fen(fen(JournalLine.debit)),
                sum_fen(fen(JournalLine.credit)),
            )
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(
                JournalEntry.project_id == project_id,
                JournalEntry.occurred_at >= dt.datetime.combine(first_day, dt.time(0), project.zone),
                JournalEntry.occurred_at < day_end(last_day, project.zone),
                _income_accounts(),
            )
            .group_by(JournalEntry.occurred_at, JournalEntry.kind, JournalLine.account)
        )
        report = income_report(
            _postings(rows), first_day=first_day, last_day=last_day, granularity=granularity, zone=project.zone
        )
        return IncomeView(project, report, await _rule_names(session, project_id))


def _postings(rows: Iterable[tuple[dt.datetime, str, str, int, int]]) -> Iterable[JournalPosting]:
    for at, kind, account, debit, credit in rows:
        yield JournalPosting(at, kind, account, from_fen(int(debit)), from_fen(int(credit)))
