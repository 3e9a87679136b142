"""Money arithmetic: rounding to the fen, integer-fen conversion, exact proportional splits."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal

__all__ = ["FEN", "from_fen", "round_money", "split_by_largest_remainder", "to_fen"]

FEN = Decimal("0.01")

# Shifting the decimal point of a weight must never round it, whatever its number of digits.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def round_money(amount: Decimal) -> Decimal:
    """Round to the fen, halves away from zero (ROUND_HALF_UP), as every bill line is."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen(amount: Decimal) -> int:
    """Convert an amount to integer fen; refuses sub-fen amounts rather than rounding them silently."""
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {amount}")
    fen = amount.scaleb(2)
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of fen; round it with round_money first")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    """Convert integer fen to an amount with exactly two decimal places."""
    return Decimal(fen).scaleb(-2)


def split_by_largest_remainder(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` in proportion to `weights` so that the shares add up to it exactly to the fen.

    Every share is first rounded down to the fen; the fen left over go one each to the shares with the
    largest remainders, and between equal remainders to the earlier position, so the result depends only
    on the inputs. Weights must be finite and non-negative and not all zero; `total` must be a
    non-negative whole number of fen.
    """
    total_fen = to_fen(total)
    if total_fen < 0:
        raise ValueError(f"cannot split a negative total: {total}")
    if not weights:
        raise ValueError("cannot split among no weights")
    integer_weights = _as_common_integers(weights)
    weight_sum = sum(integer_weights)
    if weight_sum == 0:
        raise ValueError("cannot split by weights that are all zero")
    floors: list[int] = []
    remainders: list[int] = []
    for weight in integer_weights:
        floor, remainder = divmod(total_fen * weight, weight_sum)
        floors.append(floor)
        remainders.append(remainder)
    leftover = total_fen - sum(floors)
    by_remainder = sorted(range(len(floors)), key=lambda index: (-remainders[index], index))
    for index in by_remainder[:leftover]:
        floors[index] += 1
    return [from_fen(share) for share in floors]


def _as_common_integers(weights: Sequence[Decimal]) -> list[int]:
    """Scale decimal weights by one power of ten into integers, exactly, keeping their proportions."""
    places = 0
    for weight in weights:
        if not weight.is_finite() or weight < 0:
            raise ValueError(f"weights must be finite and non-negative, got {weight}")
        exponent = weight.as_tuple().exponent
        assert isinstance(exponent, int), "finite decimals have an integer exponent"
        places = max(places, -exponent)
    return [int(weight.scaleb(places, context=_EXACT)) for weight in weights]
