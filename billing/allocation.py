"""How a payment is spread over bills, and how much late fee a bill has accrued: pure arithmetic.

Late fees are charged when a payment reaches an overdue bill (and shown, not charged, in between): the
fee for the days since the last charge, on the principal still outstanding, so that a bill paid in
instalments pays simple interest on what it owed day by day. The policy's cap bounds the sum of every
fee charged on a bill by the bill's principal times the cap ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from billing.balance import BillFigures, principal_due
from billing.model import Explanation, LateFeePolicy
from billing.money import round_money
from billing.rules import (
    LateFeePolicies,
    late_fee,
    late_fee_breakdown,
    late_fee_explanation,
    late_fee_policy_on,
)

__all__ = [
    "AccruedLateFee",
    "BillBalance",
    "LateFeeState",
    "PlannedAllocation",
    "accrue_late_fee",
    "late_fee_now",
    "late_fee_now_explained",
    "plan_allocation",
]

_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class BillBalance:
    """What one bill still asks for: charged late fee not yet paid, and principal not yet paid."""

    bill_id: int
    late_fee_due: Decimal
    principal_due: Decimal


@dataclass(frozen=True, slots=True)
class PlannedAllocation:
    bill_id: int
    late_fee: Decimal
    principal: Decimal

    @property
    def amount(self) -> Decimal:
        return self.late_fee + self.principal


def plan_allocation(amount: Decimal, bills: Sequence[BillBalance]) -> tuple[list[PlannedAllocation], Decimal]:
    """Spread `amount` over `bills` in the given order (oldest first), each bill's late fee before its
    principal; return the allocations (bills receiving nothing left out) and what is left over."""
    if amount < 0:
        raise ValueError(f"cannot allocate a negative amount {amount}")
    left = amount
    planned: list[PlannedAllocation] = []
    for bill in bills:
        if left == 0:
            break
        if bill.late_fee_due < 0 or bill.principal_due < 0:
            raise ValueError(f"bill {bill.bill_id} has a negative balance")
        fee = min(left, bill.late_fee_due)
        left -= fee
        principal = min(left, bill.principal_due)
        left -= principal
        if fee or principal:
            planned.append(PlannedAllocation(bill.bill_id, fee, principal))
    return planned, left


def accrue_late_fee(
    *,
    principal_outstanding: Decimal,
    original_principal: Decimal,
    due_date: date,
    charged_through: date | None,
    charged_so_far: Decimal,
    as_of: date,
    policy: LateFeePolicies,
) -> Decimal:
    """The late fee to charge now: on `principal_outstanding`, for the days after `charged_through` (or
    after due date + grace when nothing was charged yet) up to `as_of`, each day under the policy version
    in force that day, within the cap of the version in force on `as_of`."""
    if principal_outstanding <= 0 or (charged_through is not None and as_of <= charged_through):
        return _ZERO
    versions = [policy] if isinstance(policy, LateFeePolicy) else list(policy)
    uncapped = [replace(version, cap_ratio=None) for version in versions]
    fee = late_fee(principal_outstanding, due_date, as_of, uncapped)
    if charged_through is not None:
        fee -= late_fee(principal_outstanding, due_date, charged_through, uncapped)
    in_force = late_fee_policy_on(versions, as_of)
    if in_force is not None and in_force.cap_ratio is not None:
        room = round_money(original_principal * in_force.cap_ratio) - charged_so_far
        fee = min(fee, room)
    return max(fee, _ZERO)


class LateFeeState(BillFigures, Protocol):
    """A bill's amounts with the dates its late fee counts from (a `db.models.Bill` row has them)."""

    @property
    def due_date(self) -> date: ...
    @property
    def late_fee_through(self) -> date | None: ...


def late_fee_now(bill: LateFeeState, policy: LateFeePolicies, as_of: date) -> Decimal:
    """The late fee a bill is charged if paid on `as_of`, on top of what it was charged already."""
    return accrue_late_fee(
        principal_outstanding=principal_due(bill),
        original_principal=bill.total_amount + bill.adjustment_amount,
        due_date=bill.due_date,
        charged_through=bill.late_fee_through,
        charged_so_far=bill.late_fee_amount,
        as_of=as_of,
        policy=policy,
    )


@dataclass(frozen=True, slots=True)
class AccruedLateFee:
    """The late fee a bill is charged if paid on a day, and how it is reached."""

    amount: Decimal
    explanation: Explanation


def late_fee_now_explained(bill: LateFeeState, policy: LateFeePolicies, as_of: date) -> AccruedLateFee:
    """`late_fee_now` with its explanation: the days not charged yet, each stretch under its version, and
    the cap of the version in force on `as_of` when it holds the fee back."""
    amount = late_fee_now(bill, policy, as_of)
    outstanding = principal_due(bill)
    versions = [policy] if isinstance(policy, LateFeePolicy) else list(policy)
    uncapped = [replace(version, cap_ratio=None) for version in versions]
    full = late_fee_breakdown(outstanding, bill.due_date, as_of, uncapped)
    charged_through = bill.late_fee_through
    stretches = []
    for stretch in full.stretches:
        if charged_through is not None and stretch.last_day <= charged_through:
            continue
        if charged_through is not None and stretch.first_day <= charged_through:
            days = (stretch.last_day - charged_through).days
            stretch = replace(
                stretch,
                first_day=charged_through + timedelta(days=1),
                days=days,
                amount=outstanding * stretch.daily_rate * days,
            )
        stretches.append(stretch)
    in_force = late_fee_policy_on(versions, as_of)
    cap_ratio = in_force.cap_ratio if in_force is not None else None
    uncapped_amount = round_money(sum((stretch.amount for stretch in stretches), Decimal(0)))
    explained = replace(
        full,
        stretches=tuple(stretches),
        cap_ratio=cap_ratio,
        cap=None if cap_ratio is None else round_money((bill.total_amount + bill.adjustment_amount) * cap_ratio),
        capped=amount < uncapped_amount,
        amount=amount,
    )
    return AccruedLateFee(amount, late_fee_explanation(explained))
