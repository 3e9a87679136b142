"""Specification of money arithmetic: rounding, integer fen, and exact proportional splits."""

import math
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import from_fen, round_money, split_by_largest_remainder, to_fen


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("0.125", "0.13"),
        ("0.124999", "0.12"),
        ("2.675", "2.68"),
        ("-0.125", "-0.13"),
        ("10", "10.00"),
        ("126.792", "126.79"),
        ("34.698", "34.70"),
    ],
)
def test_round_money_rounds_halves_away_from_zero_to_the_fen(amount: str, rounded: str) -> None:
    assert str(round_money(D(amount))) == rounded


def test_to_fen_converts_whole_fen_amounts_to_integers() -> None:
    assert to_fen(D("12.34")) == 1234
    assert to_fen(D("-0.05")) == -5
    assert to_fen(D("1E+2")) == 10000
    assert to_fen(D("7.50000")) == 750


def test_to_fen_refuses_sub_fen_amounts_instead_of_rounding_them() -> None:
    with pytest.raises(ValueError, match="whole number of fen"):
        to_fen(D("12.345"))


def test_to_fen_refuses_non_finite_amounts() -> None:
    with pytest.raises(ValueError, match="finite"):
        to_fen(D("NaN"))


def test_from_fen_gives_exactly_two_decimal_places() -> None:
    assert str(from_fen(1234)) == "12.34"
    assert str(from_fen(0)) == "0.00"
    assert str(from_fen(-5)) == "-0.05"


def test_split_gives_the_leftover_fen_to_the_earliest_of_equal_remainders() -> None:
    assert split_by_largest_remainder(D("100.00"), [D(1), D(1), D(1)]) == [
        D("33.34"),
        D("33.33"),
        D("33.33"),
    ]


def test_split_gives_the_leftover_fen_to_the_largest_remainder_before_position() -> None:
    # 100 fen by 1:2 is 33.33… and 66.66…: the second remainder is larger, so it gets the odd fen.
    assert split_by_largest_remainder(D("1.00"), [D(1), D(2)]) == [D("0.33"), D("0.67")]


def test_split_is_exact_when_the_proportions_divide_evenly() -> None:
    assert split_by_largest_remainder(D("10.00"), [D(1), D(2), D(3), D(4)]) == [
        D("1.00"),
        D("2.00"),
        D("3.00"),
        D("4.00"),
    ]


def test_split_handles_weights_with_different_decimal_places() -> None:
    assert split_by_largest_remainder(D("7.00"), [D("0.5"), D("1.25")]) == [D("2.00"), D("5.00")]


def test_split_of_fewer_fen_than_weights_hands_them_out_in_order() -> None:
    assert split_by_largest_remainder(D("0.02"), [D(1)] * 4) == [D("0.01"), D("0.01"), D("0.00"), D("0.00")]


def test_split_gives_nothing_to_zero_weights() -> None:
    assert split_by_largest_remainder(D("5.00"), [D(0), D(3), D(0)]) == [D("0.00"), D("5.00"), D("0.00")]


def test_split_of_zero_gives_zero_shares() -> None:
    assert split_by_largest_remainder(D("0.00"), [D(1), D(2)]) == [D("0.00"), D("0.00")]


@pytest.mark.parametrize(
    ("total", "weights", "message"),
    [
        (D("10.00"), [D(0), D(0)], "cannot split by weights that are all zero"),
        (D("10.00"), [], "cannot split among no weights"),
        (D("10.00"), [D(1), D(-1)], "weights must be finite and non-negative, got -1"),
        (D("10.00"), [D(1), D("Infinity")], "weights must be finite and non-negative, got Infinity"),
        (D("10.005"), [D(1)], "10.005 is not a whole number of fen; round it with round_money first"),
        (D("-10.00"), [D(1)], "cannot split a negative total: -10.00"),
    ],
)
def test_split_refuses_what_it_cannot_share(total: D, weights: list[D], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        split_by_largest_remainder(total, weights)
    assert str(refused.value) == message


def test_split_shifts_weights_of_more_than_28_digits_without_rounding_them() -> None:
    # Decimal's default context keeps 28 digits and would make these two weights equal, handing the
    # leftover fen to the first; exactly, the second weighs more and takes it.
    lighter = D("0.1")
    heavier = D("0.1000000000000000000000000000001")
    assert split_by_largest_remainder(D("0.01"), [lighter, heavier]) == [D("0.00"), D("0.01")]
    assert split_by_largest_remainder(D("0.03"), [heavier, lighter, heavier]) == [D("0.01")] * 3


fen_totals = st.integers(min_value=0, max_value=10**10).map(from_fen)
weight_lists = st.lists(
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=40,
).filter(lambda weights: any(weight > 0 for weight in weights))


@given(total=fen_totals, weights=weight_lists)
def test_split_shares_always_add_up_to_the_total_exactly(total: D, weights: list[D]) -> None:
    shares = split_by_largest_remainder(total, weights)

    assert sum(shares, D(0)) == total
    assert len(shares) == len(weights)


@given(total=fen_totals, weights=weight_lists)
def test_split_shares_are_within_one_fen_of_the_exact_proportion(total: D, weights: list[D]) -> None:
    shares = split_by_largest_remainder(total, weights)

    weight_sum = Fraction(sum(weights, D(0)))
    for share, weight in zip(shares, weights, strict=True):
        exact_fen = to_fen(total) * Fraction(weight) / weight_sum
        assert 0 <= to_fen(share) - math.floor(exact_fen) <= 1
