"""Specification of payment allocation and late-fee accrual at their edges: the cap and its rounding, the
clamp at zero, instalments, a bill that receives nothing, and what a bill is charged if paid today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

from billing.allocation import (
    AccruedLateFee,
    BillBalance,
    PlannedAllocation,
    accrue_late_fee,
    late_fee_now,
    late_fee_now_explained,
    plan_allocation,
)
from billing.model import LateFeePolicy, phrase

DUE = date(2026, 1, 1)
ONE_PERCENT_A_DAY_CAPPED_AT_10 = LateFeePolicy(daily_rate=D("0.01"), grace_days=0, cap_ratio=D("0.1"))


@dataclass(frozen=True)
class Bill:
    """The amounts and dates of a bill row, as `late_fee_now` reads them."""

    total_amount: D
    due_date: date = DUE
    adjustment_amount: D = D("0.00")
    late_fee_amount: D = D("0.00")
    principal_paid: D = D("0.00")
    late_fee_paid: D = D("0.00")
    late_fee_through: date | None = None


def accrue(
    *,
    outstanding: str,
    original: str | None = None,
    charged_through: date | None = None,
    charged_so_far: str = "0.00",
    as_of: date,
    policy: LateFeePolicy = ONE_PERCENT_A_DAY_CAPPED_AT_10,
) -> D:
    return accrue_late_fee(
        principal_outstanding=D(outstanding),
        original_principal=D(original or outstanding),
        due_date=DUE,
        charged_through=charged_through,
        charged_so_far=D(charged_so_far),
        as_of=as_of,
        policy=policy,
    )


# --- allocation --------------------------------------------------------------------------------------


def test_a_bill_that_receives_nothing_is_left_out_of_the_allocation() -> None:
    planned, left = plan_allocation(
        D("50.00"),
        [BillBalance(1, D("0.00"), D("0.00")), BillBalance(2, D("0.00"), D("50.00")), BillBalance(3, D("1.00"), D("9.00"))],
    )

    assert planned == [PlannedAllocation(2, D("0.00"), D("50.00"))]
    assert left == D("0.00")


def test_a_bill_asking_only_a_late_fee_receives_it() -> None:
    planned, left = plan_allocation(D("3.00"), [BillBalance(1, D("2.50"), D("0.00"))])

    assert planned == [PlannedAllocation(1, D("2.50"), D("0.00"))]
    assert left == D("0.50")


def test_a_payment_with_exactly_one_yuan_left_pays_it_to_the_next_bill() -> None:
    planned, left = plan_allocation(
        D("101.00"), [BillBalance(1, D("0.00"), D("100.00")), BillBalance(2, D("0.50"), D("5.00"))]
    )

    assert [(a.bill_id, a.late_fee, a.principal, a.amount) for a in planned] == [
        (1, D("0.00"), D("100.00"), D("100.00")),
        (2, D("0.50"), D("0.50"), D("1.00")),
    ]
    assert left == D("0.00")


def test_exactly_one_yuan_beyond_every_bill_is_left_over() -> None:
    planned, left = plan_allocation(D("101.00"), [BillBalance(1, D("0.00"), D("100.00"))])

    assert planned == [PlannedAllocation(1, D("0.00"), D("100.00"))]
    assert left == D("1.00")


def test_a_negative_payment_or_balance_is_refused_with_what_is_wrong() -> None:
    for amount, bills, message in [
        (D("-0.01"), [], "cannot allocate a negative amount -0.01"),
        (D("1.00"), [BillBalance(7, D("-0.01"), D("1.00"))], "bill 7 has a negative balance"),
        (D("1.00"), [BillBalance(8, D("0.00"), D("-1.00"))], "bill 8 has a negative balance"),
    ]:
        try:
            plan_allocation(amount, bills)
        except ValueError as refused:
            assert str(refused) == message
        else:
            raise AssertionError(f"{amount} on {bills} was allocated")


def test_nothing_to_spend_allocates_nothing_even_on_a_bad_balance() -> None:
    assert plan_allocation(D("0.00"), [BillBalance(1, D("-1.00"), D("0.00"))]) == ([], D("0.00"))


# --- accrual -----------------------------------------------------------------------------------------


def test_a_fee_charged_beyond_the_cap_leaves_a_zero_fee_never_a_negative_one() -> None:
    # 12.00 was charged under an older, higher cap; today's cap is 10.00 on a principal of 100.00.
    assert accrue(outstanding="100.00", charged_through=date(2026, 1, 13), charged_so_far="12.00", as_of=date(2026, 2, 1)) == D("0.00")


def test_a_cap_that_is_not_a_whole_fen_is_rounded_half_up_to_the_fen() -> None:
    # 5 % of 333.33 is 16.6665: the fee stops at 16.67, never at a fraction of a fen.
    policy = LateFeePolicy(daily_rate=D("0.01"), grace_days=0, cap_ratio=D("0.05"))

    assert accrue(outstanding="333.33", as_of=date(2026, 3, 1), policy=policy) == D("16.67")


def test_the_cap_of_a_bill_paid_in_instalments_is_on_its_original_principal() -> None:
    # 1,000.00 billed, 950.00 paid: 49 days on 50.00 is 24.50, inside the 100.00 cap less the 20.00 charged.
    assert accrue(
        outstanding="50.00", original="1000.00", charged_through=date(2026, 1, 11), charged_so_far="20.00", as_of=date(2026, 3, 1)
    ) == D("24.50")


def test_a_principal_of_one_yuan_or_less_still_accrues() -> None:
    policy = LateFeePolicy(daily_rate=D("0.0005"), grace_days=0)

    assert accrue(outstanding="1.00", as_of=date(2026, 4, 11), policy=policy) == D("0.05")  # 100 days
    assert accrue(outstanding="0.50", as_of=date(2026, 4, 11), policy=policy) == D("0.03")  # 0.025 rounds up
    assert accrue(outstanding="0.00", original="1.00", as_of=date(2026, 4, 11), policy=policy) == D("0.00")


def test_nothing_accrues_again_for_days_already_charged() -> None:
    charged = date(2026, 1, 21)

    assert accrue(outstanding="100.00", charged_through=charged, charged_so_far="2.00", as_of=charged) == D("0.00")
    assert accrue(outstanding="100.00", charged_through=charged, charged_so_far="2.00", as_of=date(2026, 1, 20)) == D("0.00")
    assert accrue(outstanding="100.00", charged_through=charged, charged_so_far="2.00", as_of=date(2026, 1, 22)) == D("1.00")


def test_a_policy_without_a_cap_in_force_is_not_capped() -> None:
    uncapped = LateFeePolicy(daily_rate=D("0.01"), grace_days=0)

    assert accrue(outstanding="100.00", as_of=date(2026, 3, 1), policy=uncapped) == D("59.00")


def test_the_cap_in_force_on_the_day_of_payment_bounds_the_fee() -> None:
    versions = [
        LateFeePolicy(daily_rate=D("0.01"), grace_days=0),
        LateFeePolicy(daily_rate=D("0.01"), grace_days=0, cap_ratio=D("0.2"), effective_from=date(2026, 2, 1)),
    ]

    assert accrue(outstanding="100.00", as_of=date(2026, 1, 31), policy=versions) == D("30.00")
    assert accrue(outstanding="100.00", as_of=date(2026, 3, 1), policy=versions) == D("20.00")


# --- what a bill is charged if paid on a day ---------------------------------------------------------


def test_late_fee_now_charges_what_is_still_owed_within_the_cap_of_what_was_billed() -> None:
    # billed 1,000.00, adjusted by -100.00, 400.00 paid: 500.00 owed, the cap is 10 % of 900.00
    bill = Bill(
        total_amount=D("1000.00"),
        adjustment_amount=D("-100.00"),
        principal_paid=D("400.00"),
        late_fee_amount=D("85.00"),
        late_fee_paid=D("85.00"),
        late_fee_through=date(2026, 1, 11),
    )

    assert late_fee_now(bill, ONE_PERCENT_A_DAY_CAPPED_AT_10, date(2026, 1, 12)) == D("5.00")
    assert late_fee_now(bill, ONE_PERCENT_A_DAY_CAPPED_AT_10, date(2026, 1, 31)) == D("5.00")


def test_the_fee_of_today_is_explained_from_the_day_after_the_last_charge() -> None:
    policy = LateFeePolicy(daily_rate=D("0.001"), grace_days=0, cap_ratio=D("0.05"))
    bill = Bill(total_amount=D("1000.00"), late_fee_amount=D("10.00"), late_fee_through=date(2026, 1, 11))

    accrued = late_fee_now_explained(bill, policy, date(2026, 2, 10))

    assert accrued == AccruedLateFee(
        D("30.00"),
        (
            phrase(
                "late_fee_days",
                principal=D("1000.00"),
                rate="0.001",
                days=30,
                first_day="2026-01-12",
                last_day="2026-02-10",
                grace_days=0,
                amount=D("30.00"),
            ),
        ),
    )


def test_the_fee_of_today_held_back_by_the_cap_says_so() -> None:
    policy = LateFeePolicy(daily_rate=D("0.001"), grace_days=0, cap_ratio=D("0.05"))
    bill = Bill(total_amount=D("1000.00"), late_fee_amount=D("10.00"), late_fee_through=date(2026, 1, 11))

    accrued = late_fee_now_explained(bill, policy, date(2026, 3, 22))

    assert accrued.amount == D("40.00")
    assert accrued.explanation == (
        phrase(
            "late_fee_days",
            principal=D("1000.00"),
            rate="0.001",
            days=70,
            first_day="2026-01-12",
            last_day="2026-03-22",
            grace_days=0,
            amount=D("70.00"),
        ),
        phrase("late_fee_cap", ratio="5", cap=D("50.00")),
    )


def test_the_fee_of_today_explains_only_the_stretches_not_charged_yet() -> None:
    versions = [
        LateFeePolicy(daily_rate=D("0.001"), grace_days=0),
        LateFeePolicy(daily_rate=D("0.002"), grace_days=0, effective_from=date(2026, 2, 1)),
    ]

    def explained(charged_through: date) -> list[tuple[str, str, str, str]]:
        bill = Bill(total_amount=D("1000.00"), late_fee_amount=D("1.00"), late_fee_through=charged_through)
        accrued = late_fee_now_explained(bill, versions, date(2026, 2, 15))
        return [(p["first_day"], p["last_day"], p["days"], p["amount"]) for p in accrued.explanation]

    # January (30 days at 0.1 %) ends the day of the last charge: only February's stretch is left.
    assert explained(date(2026, 1, 31)) == [("2026-02-01", "2026-02-15", "15", "30.00")]
    # Charged through the first day of February's rate: 14 days of it are left.
    assert explained(date(2026, 2, 1)) == [("2026-02-02", "2026-02-15", "14", "28.00")]
    assert explained(date(2026, 2, 5)) == [("2026-02-06", "2026-02-15", "10", "20.00")]
    # Charged through mid-January: the rest of January, then all of February's stretch.
    assert explained(date(2026, 1, 21)) == [
        ("2026-01-22", "2026-01-31", "10", "10.00"),
        ("2026-02-01", "2026-02-15", "15", "30.00"),
    ]


def test_the_fee_of_a_bill_never_charged_before_is_explained_from_the_end_of_grace() -> None:
    policy = LateFeePolicy(daily_rate=D("0.001"), grace_days=5)
    bill = Bill(total_amount=D("200.00"), principal_paid=D("100.00"))

    accrued = late_fee_now_explained(bill, policy, date(2026, 1, 16))

    assert accrued.amount == D("1.00")
    assert [(p["first_day"], p["days"], p["grace_days"], p["principal"]) for p in accrued.explanation] == [
        ("2026-01-07", "10", "5", "100.00")
    ]


def test_the_fee_of_today_within_grace_is_explained_as_no_fee() -> None:
    policy = LateFeePolicy(daily_rate=D("0.001"), grace_days=5)

    accrued = late_fee_now_explained(Bill(total_amount=D("100.00")), policy, date(2026, 1, 6))

    assert accrued == AccruedLateFee(D("0.00"), (phrase("no_late_fee", due_date="2026-01-01"),))


def test_before_the_first_policy_version_nothing_accrues_and_no_cap_is_shown() -> None:
    later = LateFeePolicy(daily_rate=D("0.001"), grace_days=0, cap_ratio=D("0.1"), effective_from=date(2026, 3, 1))

    accrued = late_fee_now_explained(Bill(total_amount=D("100.00")), [later], date(2026, 2, 1))

    assert accrued == AccruedLateFee(D("0.00"), (phrase("no_late_fee", due_date="2026-01-01"),))


def test_the_cap_shown_is_on_what_was_billed_after_adjustments() -> None:
    policy = LateFeePolicy(daily_rate=D("0.01"), grace_days=0, cap_ratio=D("0.05"))
    bill = Bill(total_amount=D("1000.00"), adjustment_amount=D("-100.00"))

    accrued = late_fee_now_explained(bill, policy, date(2026, 1, 31))

    # 30 days on 900.00 at 1 % would be 270.00; the cap is 5 % of 900.00
    assert accrued.amount == D("45.00")
    assert accrued.explanation[-1] == phrase("late_fee_cap", ratio="5", cap=D("45.00"))
