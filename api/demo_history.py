"""Two years of the demo community's payment history, for the overdue-risk score and the reports: the 21
months before the demo's three billed months are billed by the real bill run and paid through the booking
core, each unit after a habit of its own, so that what the score reads before a due date tells something.

Habits (drawn once per unit from `random.Random(HISTORY_SEED)`, independent of the rest of the demo):

| habit | share | how it pays |
| --- | --- | --- |
| on time | the rest (about 70 %) | 1 to 13 days after the bill is issued, before the due date |
| now and then | 14 % | on time, but one bill in eight 5 to 25 days late and one in twenty 35 to 60 days late |
| always late | 7 % | 35 to 75 days after the due date, every month |
| late after a vacancy | every unit whose current occupant moved in during the history | 40 to 90 days late while it changed hands and for the first six months after, then on time |
| chronic | 4 % | nothing for months, then every open bill at once, three times a year (February, June, October) |
| unsold | the developer's flats, parking spaces and storage rooms without an owner | every bill of a year settled on 25 January after it |

Every history bill is paid in full (its late fee as of the payment day included), and none later than
the day before the month the demo reconciles (`api.demo_reconciliation`) and 31 days before today: the
current months' books, reconciliation and dunning see settled history. History bills have no meter
lines: the demo's meters are read only from the month before its first billed month on.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.demo_reconciliation import add_sandbox_orders, sandbox_transaction_id
from billing.allocation import late_fee_now
from billing.balance import principal_due
from billing.booking import (
    PaymentBooking,
    add_payments,
    book_payments,
    lock_payable_bills,
)
from billing.guards import read_unit_accounts
from billing.receipts import ReceiptSigner
from billing.rule_book import late_fee_versions
from billing.runs import bill_period
from db.models import Bill, Occupancy, Party, Payment, PaymentChannel

__all__ = ["CHANNEL_WEIGHTS", "HISTORY_MONTHS", "HISTORY_SEED", "Habit", "seed_payment_history"]

HISTORY_MONTHS = 21
"""Billed before the demo's three months: two years in all."""
HISTORY_SEED = 1624
_DUE_DAYS = 15
_HABIT_SHARES = (("SOMETIMES_LATE", 0.14), ("ALWAYS_LATE", 0.07), ("CHRONIC", 0.04))
_SETTLING_MONTHS = (2, 6, 10)
_NEW_OCCUPANT_MONTHS = 6
# How owners pay in the demo, by share of payments (the desk's and the history's alike).
CHANNEL_WEIGHTS = (
    (PaymentChannel.WECHAT, 45),
    (PaymentChannel.ALIPAY, 30),
    (PaymentChannel.BANK_TRANSFER, 12),
    (PaymentChannel.POS, 8),
    (PaymentChannel.CASH, 5),
)
_LATE_CHANNELS = ((PaymentChannel.CASH, 30), (PaymentChannel.POS, 25), (PaymentChannel.BANK_TRANSFER, 20), (PaymentChannel.WECHAT, 25))
"""Late payers mostly pay at the desk, when someone has asked them in person."""


class Habit(enum.Enum):
    ON_TIME = "ON_TIME"
    SOMETIMES_LATE = "SOMETIMES_LATE"
    ALWAYS_LATE = "ALWAYS_LATE"
    LATE_AFTER_VACANCY = "LATE_AFTER_VACANCY"
    CHRONIC = "CHRONIC"
    UNSOLD = "UNSOLD"


@dataclass(frozen=True)
class _Paid:
    bill_id: int
    unit_id: int
    payer: str
    paid_on: dt.date
    channel: PaymentChannel


def _month_start(day: dt.date, months_back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def _pick(rng: random.Random, weighted: Sequence[tuple[PaymentChannel, int]]) -> PaymentChannel:
    channels, weights = zip(*weighted, strict=True)
    return rng.choices(channels, weights=weights)[0]


def _habits(rng: random.Random, units: Sequence[tuple[int, dt.date | None, bool]], first: dt.date) -> dict[int, Habit]:
    """(unit, the current occupant's start, has an owner) → habit."""
    habits = {}
    for unit_id, moved_in, owned in units:
        if not owned:
            habits[unit_id] = Habit.UNSOLD
            continue
        if moved_in is not None and moved_in > first:
            habits[unit_id] = Habit.LATE_AFTER_VACANCY
            continue
        chance, habit = rng.random(), Habit.ON_TIME
        for name, share in _HABIT_SHARES:
            if chance < share:
                habit = Habit(name)
                break
            chance -= share
        habits[unit_id] = habit
    return habits


def _paid_on(rng: random.Random, habit: Habit, issued: dt.date, due: dt.date, moved_in: dt.date | None) -> dt.date:
    """When a bill issued on `issued` and due on `due` is paid by a unit of `habit` (before any clamp)."""
    on_time = issued + dt.timedelta(days=rng.randint(1, _DUE_DAYS - 2))
    if habit is Habit.ALWAYS_LATE:
        return due + dt.timedelta(days=rng.randint(35, 75))
    if habit is Habit.LATE_AFTER_VACANCY and moved_in is not None and issued < _month_start(moved_in, -_NEW_OCCUPANT_MONTHS):
        return due + dt.timedelta(days=rng.randint(40, 90))
    if habit is Habit.SOMETIMES_LATE:
        chance = rng.random()
        if chance < 0.05:
            return due + dt.timedelta(days=rng.randint(35, 60))
        if chance < 0.175:
            return due + dt.timedelta(days=rng.randint(5, 25))
    if habit is Habit.CHRONIC:
        settling = next(
            _month_start(due, -ahead) + dt.timedelta(days=9)
            for ahead in range(1, 13)
            if _month_start(due, -ahead).month in _SETTLING_MONTHS
        )
        return settling
    if habit is Habit.UNSOLD:
        return dt.date((issued - dt.timedelta(days=1)).year + 1, 1, 25)
    return on_time


async def seed_payment_history(
    session: AsyncSession, signer: ReceiptSigner, *, project_id: int, first_billed_month: dt.date, today: dt.date, zone: ZoneInfo
) -> tuple[int, Counter[Habit]]:
    """Bill the `HISTORY_MONTHS` months before `first_billed_month` and pay every bill after its unit's
    habit; answers how many history bills were billed, and how many units have each habit."""
    rng = random.Random(HISTORY_SEED)
    first = _month_start(first_billed_month, HISTORY_MONTHS)
    settled_by = min(_month_start(today, 1), today - dt.timedelta(days=31)) - dt.timedelta(days=1)
    for month in range(HISTORY_MONTHS):
        period_start = _month_start(first, -month)
        issued = _month_start(period_start, -1)
        await bill_period(
            session, None, now=_at(issued, 9, zone), project_id=project_id, period=period_start.strftime("%Y-%m"), dry_run=False
        )
    occupants = await session.execute(
        select(Occupancy.unit_id, func.max(Occupancy.start_date))
        .join(Bill, Bill.unit_id == Occupancy.unit_id)
        .where(Bill.project_id == project_id, Occupancy.end_date.is_(None) | (Occupancy.end_date >= today))
        .group_by(Occupancy.unit_id)
    )
    moved_in = dict(occupants.all())
    bills = (
        await session.execute(
            select(Bill.id, Bill.unit_id, Bill.issued_on, Bill.due_date, Party.name)
            .outerjoin(Party, Party.id == Bill.party_id)
            .where(Bill.project_id == project_id, Bill.period < first_billed_month.strftime("%Y-%m"))
            .order_by(Bill.unit_id, Bill.due_date)
        )
    ).all()
    units = sorted({(unit_id, moved_in.get(unit_id), unit_id in moved_in) for _, unit_id, *_ in bills})
    habits = _habits(rng, units, first)
    paid: list[_Paid] = []
    for bill_id, unit_id, issued, due, payer in bills:
        habit = habits[unit_id]
        day = min(_paid_on(rng, habit, issued, due, moved_in.get(unit_id)), settled_by)
        late = day > due
        channel = _pick(rng, _LATE_CHANNELS if late and habit is not Habit.UNSOLD else CHANNEL_WEIGHTS)
        paid.append(_Paid(bill_id, unit_id, payer or "开发商 the developer", max(day, issued), channel))
    paid.sort(key=lambda item: (item.paid_on, item.bill_id))
    await _book(session, signer, project_id, paid, zone, rng)
    return len(bills), Counter(habits.values())


def _at(day: dt.date, hour: int, zone: ZoneInfo, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), zone).astimezone(dt.UTC)


async def _book(
    session: AsyncSession, signer: ReceiptSigner, project_id: int, paid: Sequence[_Paid], zone: ZoneInfo, rng: random.Random
) -> None:
    """One payment per unit and day of exactly what its bills owe then (principal and late fee; a chronic
    payer's or the developer's several bills at once), booked in one go through the booking core:
    allocations, journal, receipts numbered in the order paid."""
    unit_ids = sorted({item.unit_id for item in paid})
    payable = {bill.id: bill for bill in await lock_payable_bills(session, unit_ids=unit_ids, bill_ids=[item.bill_id for item in paid])}
    policy = await late_fee_versions(session, project_id)
    together: dict[tuple[dt.date, int], list[_Paid]] = {}
    for item in paid:
        together.setdefault((item.paid_on, item.unit_id), []).append(item)
    rows, bills_paid = [], []
    for (day, unit_id), items in together.items():
        bills = [payable[item.bill_id] for item in items]
        paid_at = _at(day, rng.randint(8, 20), zone, rng.randint(0, 59))
        rows.append(
            Payment(
                project_id=project_id,
                unit_id=unit_id,
                payer_name=items[0].payer,
                channel=items[0].channel,
                external_reference=_reference(items[0], paid_at, zone),
                amount=sum((principal_due(bill) + late_fee_now(bill, policy, day) for bill in bills), Decimal(0)),
                paid_at=paid_at,
            )
        )
        bills_paid.append(bills)
    await add_payments(session, rows)
    await add_sandbox_orders(
        session,
        project_id,
        [(row, [bill.id for bill in bills]) for row, bills in zip(rows, bills_paid, strict=True) if row.channel == PaymentChannel.WECHAT],
    )
    accounts = await read_unit_accounts(session, unit_ids)
    await book_payments(
        session,
        signer,
        bookings=[
            PaymentBooking(row, bills, booked_at=row.paid_at, place=accounts[row.unit_id].place)
            for row, bills in zip(rows, bills_paid, strict=True)
        ],
        zone=zone,
        user_id=None,
    )


def _reference(item: _Paid, paid_at: dt.datetime, zone: ZoneInfo) -> str | None:
    if item.channel == PaymentChannel.CASH:
        return None
    if item.channel == PaymentChannel.WECHAT:
        return sandbox_transaction_id(paid_at, zone, item.bill_id * 10)
    return f"DEMOH{item.bill_id:08d}"

