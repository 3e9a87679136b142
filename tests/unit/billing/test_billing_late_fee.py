"""Specification of late fees: simple daily interest counted from the end of the grace period."""

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from billing.model import LateFeePolicy
from billing.money import round_money
from billing.rules import late_fee, late_fee_breakdown

DUE = date(2026, 12, 15)
TEN_DAYS_GRACE = LateFeePolicy(daily_rate=D("0.0003"), grace_days=10)
NO_GRACE = LateFeePolicy(daily_rate=D("0.0003"))


def test_late_fee_is_zero_before_the_due_date() -> None:
    assert late_fee(D("1000.00"), DUE, date(2026, 12, 1), NO_GRACE) == D("0.00")


def test_late_fee_is_zero_on_the_due_date() -> None:
    assert late_fee(D("1000.00"), DUE, DUE, NO_GRACE) == D("0.00")


def test_late_fee_is_zero_within_grace_period() -> None:
    assert late_fee(D("1000.00"), DUE, date(2026, 12, 25), TEN_DAYS_GRACE) == D("0.00")


def test_late_fee_counts_days_from_the_end_of_the_grace_period() -> None:
    assert late_fee(D("1000.00"), DUE, date(2026, 12, 26), TEN_DAYS_GRACE) == D("0.30")
    assert late_fee(D("1000.00"), DUE, date(2027, 1, 24), TEN_DAYS_GRACE) == D("9.00")  # 30 days


def test_late_fee_without_grace_starts_the_day_after_the_due_date() -> None:
    assert late_fee(D("1000.00"), DUE, date(2026, 12, 16), NO_GRACE) == D("0.30")


def test_late_fee_is_rounded_to_the_fen() -> None:
    assert late_fee(D("337.40"), DUE, DUE + timedelta(days=7), NO_GRACE) == D("0.71")  # 0.70854


def test_late_fee_rounds_half_a_fen_up() -> None:
    assert late_fee(D("50.00"), DUE, DUE + timedelta(days=1), NO_GRACE) == D("0.02")  # 0.015


def test_late_fee_stops_growing_at_its_cap() -> None:
    capped = LateFeePolicy(daily_rate=D("0.0003"), cap_ratio=D("0.1"))

    assert late_fee(D("1000.00"), DUE, DUE + timedelta(days=300), capped) == D("90.00")
    assert late_fee(D("1000.00"), DUE, DUE + timedelta(days=400), capped) == D("100.00")  # not 120.00


def test_late_fee_without_a_cap_keeps_growing() -> None:
    assert late_fee(D("1000.00"), DUE, DUE + timedelta(days=10_000), NO_GRACE) == D("3000.00")


def test_late_fee_on_nothing_owed_is_zero() -> None:
    far_later = DUE + timedelta(days=90)
    assert late_fee(D("0.00"), DUE, far_later, NO_GRACE) == D("0.00")
    assert late_fee(D("-50.00"), DUE, far_later, NO_GRACE) == D("0.00")


principals = st.integers(min_value=-10_000, max_value=10**9).map(lambda fen: D(fen).scaleb(-2))
policies = st.builds(
    LateFeePolicy,
    daily_rate=st.decimals(min_value=0, max_value=D("0.01"), places=5),
    grace_days=st.integers(min_value=0, max_value=60),
    cap_ratio=st.none() | st.decimals(min_value=0, max_value=D(3), places=2),
)
due_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(principal=principals, due=due_dates, policy=policies, days_after_due=st.integers(-400, 60))
def test_late_fee_is_zero_until_the_grace_period_has_passed(
    principal: D, due: date, policy: LateFeePolicy, days_after_due: int
) -> None:
    as_of = due + timedelta(days=min(days_after_due, policy.grace_days))

    assert late_fee(principal, due, as_of, policy) == 0


@given(principal=principals, due=due_dates, policy=policies, days_after_due=st.integers(0, 5000))
def test_late_fee_never_exceeds_its_cap(
    principal: D, due: date, policy: LateFeePolicy, days_after_due: int
) -> None:
    fee = late_fee(principal, due, due + timedelta(days=days_after_due), policy)

    assert fee >= 0
    if policy.cap_ratio is not None:
        assert fee <= max(round_money(principal * policy.cap_ratio), D(0))


@given(
    principal=principals, due=due_dates, policy=policies, day=st.integers(0, 3000), later=st.integers(0, 400)
)
def test_late_fee_never_shrinks_as_time_passes(
    principal: D, due: date, policy: LateFeePolicy, day: int, later: int
) -> None:
    earlier_fee = late_fee(principal, due, due + timedelta(days=day), policy)
    later_fee = late_fee(principal, due, due + timedelta(days=day + later), policy)

    assert earlier_fee <= later_fee


# --- effective-dated versions ------------------------------------------------------------------------

RAISED_FROM_JAN = LateFeePolicy(daily_rate=D("0.0010"), grace_days=10, effective_from=date(2027, 1, 1))
FIRST_VERSION = LateFeePolicy(daily_rate=D("0.0003"), grace_days=10, effective_from=date(2026, 1, 1))


def test_each_overdue_day_is_charged_under_the_version_in_force_that_day() -> None:
    # 26–31 December (6 days) at 0.0003 and 1–10 January (10 days) at 0.0010 on 1,000.00
    fee = late_fee_breakdown(D("1000.00"), DUE, date(2027, 1, 10), [RAISED_FROM_JAN, FIRST_VERSION])
    assert fee.amount == D("11.80")
    assert [(s.first_day, s.last_day, s.days, s.daily_rate) for s in fee.stretches] == [
        (date(2026, 12, 26), date(2026, 12, 31), 6, D("0.0003")),
        (date(2027, 1, 1), date(2027, 1, 10), 10, D("0.0010")),
    ]


def test_a_version_added_later_never_changes_the_fee_of_days_before_it() -> None:
    before = late_fee(D("1000.00"), DUE, date(2026, 12, 31), [FIRST_VERSION])
    after = late_fee(D("1000.00"), DUE, date(2026, 12, 31), [FIRST_VERSION, RAISED_FROM_JAN])
    assert before == after == D("1.80")


def test_a_lower_cap_from_a_date_stops_the_fee_growing_but_takes_nothing_back() -> None:
    capped_from_jan = LateFeePolicy(daily_rate=D("0.01"), cap_ratio=D("0.05"), effective_from=date(2027, 1, 1))
    steep = LateFeePolicy(daily_rate=D("0.01"), effective_from=date(2026, 1, 1))
    # 16 days at 1 % in December: 160.00, above the 50.00 cap that starts in January
    fee = late_fee_breakdown(D("1000.00"), DUE, date(2027, 1, 20), [steep, capped_from_jan])
    assert (fee.amount, fee.capped, fee.cap) == (D("160.00"), True, D("50.00"))


def test_days_before_the_first_version_cost_nothing() -> None:
    # only 1–10 January, under the one version there is, are charged
    assert late_fee(D("1000.00"), DUE, date(2027, 1, 10), [RAISED_FROM_JAN]) == D("10.00")


def test_the_breakdown_names_grace_and_cap_of_the_version_in_force() -> None:
    capped = LateFeePolicy(daily_rate=D("0.0003"), grace_days=10, cap_ratio=D("0.1"))
    fee = late_fee_breakdown(D("1000.00"), DUE, DUE + timedelta(days=410), capped)
    assert (fee.amount, fee.capped, fee.cap, fee.cap_ratio) == (D("100.00"), True, D("100.00"), D("0.1"))
    assert fee.stretches[0].grace_days == 10


@given(
    principal=st.decimals(min_value=0, max_value=100_000, places=2),
    rate=st.decimals(min_value=0, max_value=D("0.01"), places=6),
    grace=st.integers(min_value=0, max_value=30),
    change_after=st.integers(min_value=1, max_value=200),
    days=st.integers(min_value=0, max_value=200),
    new_rate=st.decimals(min_value=0, max_value=D("0.01"), places=6),
)
def test_adding_a_version_changes_no_fee_as_of_a_day_before_it(
    principal: D, rate: D, grace: int, change_after: int, days: int, new_rate: D
) -> None:
    first = LateFeePolicy(daily_rate=rate, grace_days=grace, effective_from=date(2020, 1, 1))
    change = DUE + timedelta(days=change_after)
    added = LateFeePolicy(daily_rate=new_rate, grace_days=0, cap_ratio=D(0), effective_from=change)
    as_of = min(DUE + timedelta(days=days), change - timedelta(days=1))
    assert late_fee(principal, DUE, as_of, [first, added]) == late_fee(principal, DUE, as_of, [first])
