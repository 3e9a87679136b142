"""The demo community's charges: a residential rule book, two years of paid history (`api.demo_history`),
meter readings, three months of bills and payments, so that statements look like a real finance desk's.

Rules: property fee by floor area (2.80/m² for flats and storage rooms, 6.50/m² for shops), parking
rent 300.00, electricity on Zhejiang's monthly tiers, water on Hangzhou's yearly tiers, and 4,800.00 of
common-area electricity a month shared among the flats by floor area; vacant flats get 30 % off the
property fee; late fees are 0.03 % a day after ten days' grace, at most the bill's principal.

The three months before `today` are billed on the first of the following month and due fifteen days
later. Most bills are paid on time on every channel, some in part, some not at all (overdue by now);
owner1's flat shows each: the first month paid, the second in part, the third open. WeChat payments are
owners paying online: orders the sandbox gateway collected. Everything comes from one `random.Random`, so
the same day always gives the same books. The month before `today` is then reconciled and closed day by
day (`api.demo_reconciliation`). The latest month's payments are invoiced automatically as they are
booked (`api.demo_invoicing`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.demo_history import CHANNEL_WEIGHTS, HISTORY_MONTHS, seed_payment_history
from api.demo_invoicing import add_invoicing_configuration, start_automatic_issuing
from api.demo_reconciliation import add_sandbox_orders, sandbox_transaction_id, seed_reconciliation
from billing.balance import principal_due
from billing.booking import (
    PaymentBooking,
    add_payments,
    book_payments,
    lock_payable_bills,
)
from billing.guards import read_unit_accounts
from billing.model import ApportionBasis, BillingPeriod, TierPeriod
from billing.readings import ReadingInput, add_readings
from billing.receipts import ReceiptSigner
from billing.reports.risk_scoring import train_risk_scorecard_in
from billing.rule_book import (
    RuleDefinition,
    ScopeDefinition,
    TierDefinition,
    insert_fee_rule,
    validate_definition,
)
from billing.runs import bill_period
from db.models import (
    Bill,
    BillingPolicy,
    BillStatus,
    DiscountRule,
    LateFeePolicyVersion,
    OccupancyStatus,
    Party,
    Payment,
    PaymentChannel,
    Project,
    Unit,
)
from db.personal_data import PersonalDataCipher
from kernel.vocabulary import FeeRuleKind, UnitKind

__all__ = ["DEMO_BILLED_MONTHS", "seed_billing"]

DEMO_BILLED_MONTHS = 3
_SEED = 2027
_ZONE = ZoneInfo("Asia/Shanghai")
_DUE_DAYS = 15
_PAID_SHARE = 0.72
_PARTLY_PAID_SHARE = 0.10


def _d(text: str) -> Decimal:
    return Decimal(text)


def _rule_book(effective_from: dt.date) -> list[tuple[str, FeeRuleKind, RuleDefinition]]:
    residential = ScopeDefinition(unit_kinds=(UnitKind.APARTMENT, UnitKind.STORAGE))
    flats = ScopeDefinition(unit_kinds=(UnitKind.APARTMENT,))
    return [
        (
            "PROPERTY",
            FeeRuleKind.PER_AREA,
            RuleDefinition("物业服务费 Property management", effective_from, scope=residential, rate_per_square_metre=_d("2.80")),
        ),
        (
            "PROPERTY_SHOP",
            FeeRuleKind.PER_AREA,
            RuleDefinition(
                "商铺物业费 Shop property management",
                effective_from,
                scope=ScopeDefinition(unit_kinds=(UnitKind.SHOP,)),
                rate_per_square_metre=_d("6.50"),
            ),
        ),
        (
            "PARKING",
            FeeRuleKind.FIXED,
            RuleDefinition(
                "车位管理费 Parking space",
                effective_from,
                scope=ScopeDefinition(unit_kinds=(UnitKind.PARKING_SPACE,)),
                amount_per_cycle=_d("300.00"),
            ),
        ),
        (
            "ELECTRICITY",
            FeeRuleKind.METERED_TIERED,
            RuleDefinition(
                "居民电费 Electricity",
                effective_from,
                scope=flats,
                meter_type="electricity",
                tier_period=TierPeriod.MONTH,
                tiers=(
                    TierDefinition(_d("0"), _d("230"), _d("0.538")),
                    TierDefinition(_d("230"), _d("400"), _d("0.588")),
                    TierDefinition(_d("400"), None, _d("0.838")),
                ),
            ),
        ),
        (
            "WATER",
            FeeRuleKind.METERED_TIERED,
            RuleDefinition(
                "居民水费 Water",
                effective_from,
                scope=flats,
                meter_type="water",
                tier_period=TierPeriod.YEAR_TO_DATE,
                tiers=(
                    TierDefinition(_d("0"), _d("216"), _d("2.90")),
                    TierDefinition(_d("216"), _d("300"), _d("3.85")),
                    TierDefinition(_d("300"), None, _d("6.70")),
                ),
            ),
        ),
        (
            "COMMON_ELECTRICITY",
            FeeRuleKind.APPORTIONED,
            RuleDefinition(
                "公摊电费 Common-area electricity",
                effective_from,
                scope=flats,
                apportion_total=_d("4800.00"),
                apportion_basis=ApportionBasis.AREA,
            ),
        ),
    ]


def _month_start(day: dt.date, months_back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), _ZONE).astimezone(dt.UTC)


async def _write_rules(session: AsyncSession, project_id: int, effective_from: dt.date) -> None:
    for code, kind, definition in _rule_book(effective_from):
        validate_definition(code, kind, definition)
        await insert_fee_rule(session, project_id=project_id, code=code, kind=kind, definition=definition, created_by=None)
    session.add(
        DiscountRule(
            project_id=project_id,
            name="空置房物业费七折 Vacant flat discount",
            percent=_d("30"),
            rule_codes=["PROPERTY"],
            vacant_only=True,
            effective_from=effective_from,
        )
    )
    session.add(BillingPolicy(project_id=project_id, due_days=_DUE_DAYS, cycle_months=1))
    session.add(
        LateFeePolicyVersion(
            project_id=project_id, effective_from=effective_from, daily_rate=_d("0.0003"), grace_days=10, cap_ratio=_d("1")
        )
    )
    await session.flush()


def _readings(
    rng: random.Random, flats: list[Unit], first_month: dt.date, months: int, spike_unit_id: int | None
) -> list[ReadingInput]:
    """A baseline at the end of the month before, then one reading per meter at each month's end."""
    readings: list[ReadingInput] = []
    for unit in flats:
        occupied = unit.occupancy_status != OccupancyStatus.VACANT
        for meter_type, low, high in (("electricity", 140, 420), ("water", 6, 22)):
            value = Decimal(rng.randint(1000, 30000))
            usages: list[Decimal] = []
            for month in range(months + 1):
                read_on = _month_start(first_month, -month) - dt.timedelta(days=1)
                if month:
                    usage = Decimal(rng.randint(low, high)) if occupied else Decimal(0)
                    if unit.id == spike_unit_id and meter_type == "electricity" and month == months:
                        usage = (sum(usages, Decimal(0)) / len(usages) * Decimal("3.6")).quantize(Decimal(1))
                    usages.append(usage)
                    value += usage
                readings.append(ReadingInput(unit.id, meter_type, value, _at(read_on, 19, rng.randint(0, 59))))
    return readings


def _channel(rng: random.Random) -> PaymentChannel:
    channels, weights = zip(*CHANNEL_WEIGHTS, strict=True)
    return rng.choices(channels, weights=weights)[0]


@dataclass(frozen=True)
class _OnTimePayment:
    bill: Bill
    amount: Decimal
    channel: PaymentChannel
    payer: str
    paid_at: dt.datetime


def _reference(item: _OnTimePayment) -> str | None:
    """What the desk (or the gateway's notification) records as the payment's reference: a WeChat payment
    is an order the sandbox gateway collected, with its transaction id."""
    if item.channel == PaymentChannel.CASH:
        return None
    if item.channel == PaymentChannel.WECHAT:
        return sandbox_transaction_id(item.paid_at, _ZONE, item.bill.id * 10)
    return f"DEMO{item.bill.id:08d}"


async def _book_on_time_payments(
    session: AsyncSession, signer: ReceiptSigner, project_id: int, payments: list[_OnTimePayment]
) -> None:
    """Book a month of payments, each for one bill before its due date, in bulk through the booking core
    a payment taken at the desk goes through: the same allocations, statuses, journal and receipts."""
    rows = [
        Payment(
            project_id=project_id,
            unit_id=item.bill.unit_id,
            payer_name=item.payer,
            channel=item.channel,
            external_reference=_reference(item),
            amount=item.amount,
            paid_at=item.paid_at,
        )
        for item in payments
    ]
    await add_payments(session, rows)
    await add_sandbox_orders(
        session,
        project_id,
        [(row, [item.bill.id]) for row, item in zip(rows, payments, strict=True) if item.channel == PaymentChannel.WECHAT],
    )
    unit_ids = [row.unit_id for row in rows]
    accounts = await read_unit_accounts(session, unit_ids)
    payable = await lock_payable_bills(session, unit_ids=unit_ids, bill_ids=[item.bill.id for item in payments])
    bills = {bill.id: bill for bill in payable}
    await book_payments(
        session,
        signer,
        bookings=[
            PaymentBooking(row, [bills[item.bill.id]], booked_at=item.paid_at, place=accounts[row.unit_id].place)
            for row, item in zip(rows, payments, strict=True)
        ],
        zone=_ZONE,
        user_id=None,
    )


async def seed_billing(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    *,
    project_id: int,
    today: dt.date,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Add the demo's rules, readings, three bill runs and their payments to the demo project, and report
    what a newcomer can look at."""
    rng = random.Random(_SEED)
    signer = ReceiptSigner.from_cipher(cipher)
    first_month = _month_start(today, DEMO_BILLED_MONTHS)
    rules_from = dt.date(_month_start(first_month, HISTORY_MONTHS).year, 1, 1)
    await _write_rules(session, project_id, rules_from)
    await add_invoicing_configuration(session, project_id=project_id, effective_from=rules_from)
    # The history is billed and paid before the meters are first read: its bill runs claim no reading.
    history_bills, habits = await seed_payment_history(
        session, signer, project_id=project_id, first_billed_month=first_month, today=today, zone=_ZONE
    )
    progress(
        f"payment history: {HISTORY_MONTHS} months before, {history_bills} bills, all paid after each unit's habit ("
        + ", ".join(f"{habit.value.lower()} {count}" for habit, count in sorted(habits.items(), key=lambda item: item[0].value))
        + " units)"
    )
    units = list((await session.scalars(select(Unit).where(Unit.project_id == project_id).order_by(Unit.id))).all())
    flats = [unit for unit in units if unit.kind == UnitKind.APARTMENT]
    # owner1's flat (1栋 101) is the first flat; owner2's neighbour shows a usage spike flagged for review.
    showcase = flats[0].id
    await add_readings(
        session,
        project_id=project_id,
        readings=_readings(rng, flats, first_month, DEMO_BILLED_MONTHS, spike_unit_id=flats[1].id),
        recorded_by=None,
    )
    for month in range(DEMO_BILLED_MONTHS):
        period = BillingPeriod(start=_month_start(first_month, -month))
        issued = _month_start(period.start, -1)
        await bill_period(session, None, now=_at(issued, 9), project_id=project_id, period=period.label, dry_run=False)
        billed = await session.execute(
            select(Bill, Party.name)
            .join(Party, Bill.party_id == Party.id)
            .where(Bill.project_id == project_id, Bill.period == period.label)
            .order_by(Bill.id)
        )
        latest = month == DEMO_BILLED_MONTHS - 1
        payments: list[_OnTimePayment] = []
        # Bills without a party are unsold flats': the developer settles those once a year, so they stay open.
        for bill, payer in billed:
            due = principal_due(bill)
            if bill.status == BillStatus.PAID or due <= 0:
                continue
            if bill.unit_id == showcase:
                share = (1.0, 0.4, 0.0)[month]
            else:
                chance = rng.random() * (1.6 if latest else 1.0)
                share = 1.0 if chance < _PAID_SHARE else 0.5 if chance < _PAID_SHARE + _PARTLY_PAID_SHARE else 0.0
            paid_on = issued + dt.timedelta(days=rng.randint(1, _DUE_DAYS - 2))
            if share == 0.0 or paid_on > today:
                continue
            amount = due if share == 1.0 else (due * Decimal(str(share))).quantize(Decimal("0.01"))
            paid_at = _at(paid_on, rng.randint(8, 21), rng.randint(0, 59))
            payments.append(_OnTimePayment(bill, amount, _channel(rng), payer, paid_at))
        if latest:
            # The desk invoiced the month before by batch (`api.demo_invoicing`); from this month on, each payment itself.
            await start_automatic_issuing(session, project_id=project_id)
        await _book_on_time_payments(session, signer, project_id, payments)
    await _report_books(session, project_id, progress)
    await _train_risk_scorecard(session, project_id, today, progress)
    await seed_reconciliation(session, signer, project_id=project_id, today=today, progress=progress)


async def _train_risk_scorecard(session: AsyncSession, project_id: int, today: dt.date, progress: Callable[[str], None]) -> None:
    """The overdue-risk scorecard trained on the history, as finance would the morning the demo opens."""
    project = await session.get(Project, project_id)
    assert project is not None
    trained = await train_risk_scorecard_in(session, project, now=_at(today, 8), user_id=None)
    validation = trained.validation
    judged = (
        f"AUC {validation.model.auc:.3f} against the baseline's {validation.baseline.auc:.3f}, top-decile lift "
        f"{validation.model.top_decile_lift:.2f} against {validation.baseline.top_decile_lift:.2f}"
        if validation is not None
        else "too few bills to judge"
    )
    progress(
        f"overdue risk: scorecard trained on {trained.labelled_bills} bills; on the latest quarter {judged}: "
        + ("enabled" if trained.enabled else "the rule baseline scores")
    )


async def _report_books(session: AsyncSession, project_id: int, progress: Callable[[str], None]) -> None:
    by_period = dict(
        (
            await session.execute(
                select(Bill.period, func.count()).where(Bill.project_id == project_id).group_by(Bill.period)
            )
        ).all()
    )
    by_status = dict(
        (
            await session.execute(
                select(Bill.status, func.count()).where(Bill.project_id == project_id).group_by(Bill.status)
            )
        ).all()
    )
    payments = await session.scalar(select(func.count()).select_from(Payment).where(Payment.project_id == project_id))
    periods = sorted(by_period)
    progress(
        f"billing: {len(periods)} monthly bill runs ({', '.join(periods)}), {sum(by_period.values())} bills "
        f"({by_status.get(BillStatus.PAID, 0)} paid, {by_status.get(BillStatus.PARTIALLY_PAID, 0)} partly paid, "
        f"{by_status.get(BillStatus.OPEN, 0)} open), {payments} payments with receipts"
    )
