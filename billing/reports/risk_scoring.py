"""Overdue risk (预测逾期风险) from the books: each unit's bills and payments read set-based, each open bill
scored from what was known before its due date, the scorecard trained and validated per project, and the
ranking the finance desk reads. FINANCE and ADMIN of the project (`billing.policy.may_see_reports`); an
owner sees none of it.

What a bill's features are read from (`billing.reports.risk.risk_features` picks what came before the due
date):
- the unit's other bills: issued and due dates, what they ask (total with adjustments, no late fee), and
  the day each was paid in full: the local day of the payment (`payment.paid_at`) whose allocation
  brought the principal allocated to what the bill asks; the channel of that payment says whether it
  was paid at the desk or by transfer (cash, POS, bank transfer);
- the register: the unit is vacant on the day before the due date when no occupancy covers that day or
  the unit is marked VACANT (the register keeps no history of that mark, so it is today's for every bill:
  it is no payment, so it tells nothing of outcomes); the tenure is the days since the latest occupancy
  covering that day began.

The scorecard in force is the newest `overdue_risk_model` row of the project. Scores come from its
fitted weights only where its validation enabled it; otherwise, and before any training, from the rule
baseline. The score orders the dunning work queue (`billing.dunning.work_queue`); it never holds back a
service: arrears holds (`billing.dunning.arrears`) read amounts, never the score.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.balance_sql import amount_due_fen, fen
from billing.guards import get_project
from billing.money import from_fen
from billing.policy import may_see_reports
from billing.reports.risk import (
    LATE_AFTER_DAYS,
    BaselineRates,
    Evaluation,
    PastBill,
    RiskFeatures,
    RiskModel,
    RiskScore,
    baseline_score,
    risk_features,
    score,
)
from billing.reports.risk_fit import (
    LabelledBill,
    Validation,
    baseline_rates,
    fit_model,
    validate,
)
from db.models import (
    Bill,
    BillStatus,
    Building,
    Occupancy,
    OccupancyStatus,
    OverdueRiskModel,
    Payment,
    PaymentAllocation,
    PaymentChannel,
    Project,
    Unit,
)
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput
from kernel.principal import Principal

__all__ = [
    "OFFLINE_CHANNELS",
    "BillRisk",
    "KnownBill",
    "RiskPage",
    "ScorecardInForce",
    "TrainedScorecard",
    "UnitHistory",
    "get_risk_scorecard",
    "labelled_bills",
    "read_bill_risks",
    "read_history",
    "score_open_bills",
    "scorecard_in_force",
    "train_risk_scorecard",
    "train_risk_scorecard_in",
]

OFFLINE_CHANNELS = frozenset({PaymentChannel.CASH, PaymentChannel.POS, PaymentChannel.BANK_TRANSFER})
"""Paid at the desk or by transfer: the channel habit the score reads."""
_LATE_AFTER = dt.timedelta(days=LATE_AFTER_DAYS + 1)


@dataclass(frozen=True, slots=True)
class KnownBill:
    """One of the unit's bills as read: whether it is open and what it still owes, and its `PastBill`."""

    bill_id: int
    unit_id: int
    party_id: int | None
    period: str
    open: bool
    due_fen: int
    past: PastBill


@dataclass(frozen=True)
class UnitHistory:
    """A unit's bills (by due date) and its occupancy as the register has it."""

    bills: tuple[KnownBill, ...]
    stays: tuple[tuple[dt.date, dt.date | None], ...]
    marked_vacant: bool

    def features_of(self, bill: KnownBill) -> RiskFeatures:
        """`bill`'s features from the unit's other bills and its occupancy the day before it fell due."""
        eve = bill.past.due_date - dt.timedelta(days=1)
        covering = [start for start, end in self.stays if start <= eve and (end is None or end >= eve)]
        return risk_features(
            (other.past for other in self.bills if other.bill_id != bill.bill_id),
            due_date=bill.past.due_date,
            amount=bill.past.amount,
            vacant=self.marked_vacant or not covering,
            occupied_since=max(covering) if covering else None,
        )


async def read_history(
    session: AsyncSession, project_id: int, zone: ZoneInfo, *, unit_ids: Iterable[int] | None = None
) -> dict[int, UnitHistory]:
    """Every bill of the project (or of `unit_ids`) with the day it was paid in full, and the units'
    occupancies: three statements, whatever the number of units."""
    chosen = None if unit_ids is None else sorted(set(unit_ids))

    def narrowed(query: Select, column: object) -> Select:  # type: ignore[type-arg]
        return query if chosen is None else query.where(column.in_(chosen))  # type: ignore[attr-defined]

    bills = (
        await session.execute(
            narrowed(
                select(
                    Bill.id, Bill.unit_id, Bill.party_id, Bill.period, Bill.status, Bill.issued_on, Bill.due_date,
                    fen(Bill.total_amount) + fen(Bill.adjustment_amount), amount_due_fen(),
                ).where(Bill.project_id == project_id),
                Bill.unit_id,
            )
        )
    ).all()
    payments = (
        await session.execute(
            narrowed(
                select(PaymentAllocation.bill_id, Payment.paid_at, fen(PaymentAllocation.principal), Payment.channel)
                .join(Payment, Payment.id == PaymentAllocation.payment_id)
                .where(Payment.project_id == project_id, PaymentAllocation.principal != 0)
                .order_by(Payment.paid_at, PaymentAllocation.id),
                Payment.unit_id,
            )
        )
    ).all()
    units = (
        await session.execute(
            narrowed(
                select(Unit.id, Unit.occupancy_status, Occupancy.start_date, Occupancy.end_date)
                .outerjoin(Occupancy, Occupancy.unit_id == Unit.id)
                .where(Unit.project_id == project_id),
                Unit.id,
            )
        )
    ).all()
    asked = {row[0]: int(row[7]) for row in bills}
    allocated: dict[int, int] = defaultdict(int)
    paid_in_full: dict[int, tuple[dt.date, bool]] = {}
    for bill_id, paid_at, principal, channel in payments:
        allocated[bill_id] += int(principal)
        if allocated[bill_id] >= asked.get(bill_id, 0):
            paid_in_full.setdefault(bill_id, (paid_at.astimezone(zone).date(), channel in OFFLINE_CHANNELS))
        else:  # a reversal took it back below: paid in full only when the money comes again
            paid_in_full.pop(bill_id, None)
    by_unit: dict[int, list[KnownBill]] = defaultdict(list)
    for bill_id, unit_id, party_id, period, status, issued_on, due_date, net, due in bills:
        full = paid_in_full.get(bill_id)
        if full is None and int(net) <= 0:
            full = (issued_on, False)  # nothing to pay: settled when issued
        by_unit[unit_id].append(
            KnownBill(
                bill_id, unit_id, party_id, period, status != BillStatus.PAID and int(due) > 0, int(due),
                PastBill(issued_on, due_date, from_fen(int(net)), full[0] if full else None, full[1] if full else False),
            )
        )
    stays: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    vacant: dict[int, bool] = {}
    for unit_id, status, start, end in units:
        vacant[unit_id] = status == OccupancyStatus.VACANT
        if start is not None:
            stays[unit_id].append((start, end))
    return {
        unit_id: UnitHistory(
            tuple(sorted(by_unit.get(unit_id, ()), key=lambda known: (known.past.due_date, known.bill_id))),
            tuple(stays.get(unit_id, ())),
            marked,
        )
        for unit_id, marked in vacant.items()
    }


def labelled_bills(history: Mapping[int, UnitHistory], today: dt.date) -> list[LabelledBill]:
    """Every bill whose outcome is known by `today` (due more than 30 days ago), with its features and
    whether it was paid in full more than 30 days after its due date (or not yet)."""
    labelled = []
    for unit in history.values():
        for bill in unit.bills:
            deadline = bill.past.due_date + _LATE_AFTER
            if deadline > today:
                continue
            on_time = bill.past.paid_in_full_on is not None and bill.past.paid_in_full_on < deadline
            labelled.append(LabelledBill(bill.past.due_date, unit.features_of(bill), not on_time))
    return labelled


@dataclass(frozen=True)
class ScorecardInForce:
    """What scores the project's bills: the fitted weights when enabled, else the baseline and its rates."""

    model: RiskModel | None
    rates: BaselineRates | None

    def score(self, features: RiskFeatures) -> RiskScore:
        return score(features, self.model) if self.model is not None else baseline_score(features, self.rates)


async def scorecard_in_force(session: AsyncSession, project_id: int) -> ScorecardInForce:
    row = await _newest(session, project_id)
    if row is None:
        return ScorecardInForce(None, None)
    rates = BaselineRates(**row.baseline_rates)
    return ScorecardInForce(RiskModel.from_json(row.model) if row.enabled and row.model is not None else None, rates)


@dataclass(frozen=True)
class BillRisk:
    bill_id: int
    unit_id: int
    party_id: int | None
    period: str
    due_date: dt.date
    amount_due: Decimal
    features: RiskFeatures
    risk: RiskScore


def score_open_bills(history: Mapping[int, UnitHistory], scorecard: ScorecardInForce) -> list[BillRisk]:
    """Every open bill in `history`, scored, the riskiest first (then the oldest due, then by id)."""
    scored = []
    for unit in history.values():
        for bill in unit.bills:
            if bill.open:
                features = unit.features_of(bill)
                scored.append(
                    BillRisk(
                        bill.bill_id, bill.unit_id, bill.party_id, bill.period, bill.past.due_date, from_fen(bill.due_fen),
                        features, scorecard.score(features),
                    )
                )
    scored.sort(key=lambda item: (-item.risk.probability, item.due_date, item.bill_id))
    return scored


@dataclass(frozen=True)
class RiskPage:
    bills: tuple[tuple[BillRisk, str, str], ...]
    """(the bill's risk, its unit's label, its cursor)."""
    total: int
    next_cursor: str | None
    scorecard: ScorecardInForce


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"risk:{position}".encode()).decode()


def _position(cursor: str) -> int:
    try:
        prefix, position = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        if prefix != "risk" or int(position) < 0:
            raise ValueError(prefix)
        return int(position)
    except ValueError:
        raise BadInput("`after` is not a cursor of this ranking.", field="after") from None


async def read_bill_risks(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    limit: int,
    after: str | None = None,
) -> RiskPage:
    """One page of the project's open bills, the likeliest to be paid more than 30 days late first, each
    with its probability and reasons. The ranking is made afresh on every read (payments move it), so
    the cursor is a place in it."""
    start = _position(after) + 1 if after is not None else 0
    async with session_factory() as session:
        project = await get_project(session, principal, project_id, allowed=may_see_reports)
        history = await read_history(session, project_id, ZoneInfo(project.timezone))
        scorecard = await scorecard_in_force(session, project_id)
        ranked = score_open_bills(history, scorecard)
        page = ranked[start : start + limit]
        labels = await _unit_labels(session, {item.unit_id for item in page})
    rows = tuple((item, labels[item.unit_id], _cursor(start + index)) for index, item in enumerate(page))
    return RiskPage(rows, len(ranked), _cursor(start + len(page) - 1) if start + limit < len(ranked) else None, scorecard)


async def _unit_labels(session: AsyncSession, unit_ids: set[int]) -> dict[int, str]:
    rows = await session.execute(
        select(Unit.id, Building.name, Unit.number).join(Building, Building.id == Unit.building_id).where(Unit.id.in_(sorted(unit_ids)))
    )
    return {unit_id: f"{building} {number}" for unit_id, building, number in rows}


@dataclass(frozen=True)
class TrainedScorecard:
    """A training as stored: when and on how many labelled bills, the weights, the baseline's rates and the
    validation (None: too few bills, or no late or no on-time one, to judge). Before the first training:
    no time, no rates, nothing enabled."""

    project_id: int
    trained_at: dt.datetime | None
    labelled_bills: int
    enabled: bool
    model: RiskModel | None
    rates: BaselineRates | None
    validation: Validation | None


async def train_risk_scorecard(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int, now: dt.datetime
) -> TrainedScorecard:
    """Fit the project's scorecard on its bills whose outcome is known, validate it against the rule
    baseline on the latest quarter of them, and put it in force (enabled only where it beat the baseline)."""
    async with unit_of_work(session_factory) as work:
        project = await get_project(work.session, principal, project_id, allowed=may_see_reports)
        return await train_risk_scorecard_in(work.session, project, now=now, user_id=principal.user_id)


async def train_risk_scorecard_in(
    session: AsyncSession, project: Project, *, now: dt.datetime, user_id: int | None
) -> TrainedScorecard:
    """The training inside the caller's transaction (the demo trains on the history it has just written)."""
    zone = ZoneInfo(project.timezone)
    examples = labelled_bills(await read_history(session, project.id, zone), now.astimezone(zone).date())
    validation = validate(examples)
    model = fit_model(examples) if validation is not None else None
    rates = baseline_rates(examples)
    row = OverdueRiskModel(
        project_id=project.id,
        trained_at=now,
        trained_by=user_id,
        labelled_bills=len(examples),
        enabled=validation is not None and validation.enabled,
        model=model.as_json() if model is not None else None,
        baseline_rates={"flagged": rates.flagged, "unflagged": rates.unflagged},
        validation=_validation_json(validation) if validation is not None else None,
    )
    session.add(row)
    await session.flush()
    return _trained(row)


async def get_risk_scorecard(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> TrainedScorecard:
    """The training in force, with its validation (an untrained one before the first)."""
    async with session_factory() as session:
        await get_project(session, principal, project_id, allowed=may_see_reports)
        row = await _newest(session, project_id)
        return _trained(row) if row is not None else TrainedScorecard(project_id, None, 0, False, None, None, None)


async def _newest(session: AsyncSession, project_id: int) -> OverdueRiskModel | None:
    return await session.scalar(
        select(OverdueRiskModel).where(OverdueRiskModel.project_id == project_id).order_by(OverdueRiskModel.id.desc()).limit(1)
    )


def _evaluation_json(evaluation: Evaluation) -> dict[str, object]:
    return {
        "auc": evaluation.auc,
        "top_decile_lift": evaluation.top_decile_lift,
        "calibration": [list(tenth) for tenth in evaluation.calibration],
    }


def _validation_json(validation: Validation) -> dict[str, object]:
    return {
        "split_on": validation.split_on.isoformat(),
        "trained_on": validation.trained_on,
        "validated_on": validation.validated_on,
        "baseline": _evaluation_json(validation.baseline),
        "model": _evaluation_json(validation.model),
        "enabled": validation.enabled,
    }


def _evaluation(data: Mapping[str, object]) -> Evaluation:
    calibration = data["calibration"]
    assert isinstance(calibration, Sequence)
    return Evaluation(
        float(data["auc"]),  # type: ignore[arg-type]
        float(data["top_decile_lift"]),  # type: ignore[arg-type]
        tuple((float(mean), float(share), int(count)) for mean, share, count in calibration),
    )


def _trained(row: OverdueRiskModel) -> TrainedScorecard:
    stored = row.validation
    validation = (
        Validation(
            dt.date.fromisoformat(stored["split_on"]),
            int(stored["trained_on"]),
            int(stored["validated_on"]),
            _evaluation(stored["baseline"]),
            _evaluation(stored["model"]),
            bool(stored["enabled"]),
        )
        if stored is not None
        else None
    )
    return TrainedScorecard(
        row.project_id,
        row.trained_at,
        row.labelled_bills,
        row.enabled,
        RiskModel.from_json(row.model) if row.model is not None else None,
        BaselineRates(**row.baseline_rates),
        validation,
    )

