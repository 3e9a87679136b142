"""The tax split of tax-inclusive amounts (pure): per line and summed over an invoice.

Courtyard's amounts include VAT. Per line, tax = round(amount ÷ (1 + rate) × rate, 2) with halves away
from zero (ROUND_HALF_UP), and net = amount − tax, so net + tax = amount on every line by construction.
An invoice sums its lines: Σ net = 合计金额, Σ tax = 合计税额, and 合计金额 + 合计税额 = 价税合计 to the fen.
The tax is computed in exact integer arithmetic on fen (amount × rate ÷ (1 + rate) is the same number):
no precision is lost on the way to the one rounding. A negated amount (a red-letter line) splits into
the negated parts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from billing.money import from_fen, to_fen
from kernel.errors import BadInput
from kernel.vocabulary import TaxTreatment

__all__ = ["RATE_PLACES", "InvoiceTotals", "TaxSplit", "checked_rate", "invoice_totals", "split_tax"]

RATE_PLACES = 4
_RATE_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)
_RATE_SCALE = 10**RATE_PLACES
_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class TaxSplit:
    """One line: its tax-inclusive amount (价税合计), the net amount (金额) and the tax (税额)."""

    amount: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    """合计金额 (net), 合计税额 (tax) and 价税合计 (amount) of an invoice."""

    net: Decimal
    tax: Decimal
    amount: Decimal


def split_tax(amount: Decimal, *, rate: Decimal, treatment: TaxTreatment) -> TaxSplit:
    """Split a tax-inclusive `amount` (whole fen, either sign) at `rate` (see the module docstring)."""
    if treatment is TaxTreatment.EXEMPT and rate != 0:
        raise ValueError(f"an exempt line has no rate, got {rate}")
    amount_fen = to_fen(amount)
    rate_units = _rate_units(rate)
    # |amount| × rate ÷ (1 + rate) in fen, rounded half up: floor((2·n·p + d) ÷ 2d) with d = scale + p.
    numerator = abs(amount_fen) * rate_units
    denominator = _RATE_SCALE + rate_units
    tax_fen = (2 * numerator + denominator) // (2 * denominator)
    if amount_fen < 0:
        tax_fen = -tax_fen
    return TaxSplit(amount=from_fen(amount_fen), net=from_fen(amount_fen - tax_fen), tax=from_fen(tax_fen))


def invoice_totals(splits: Iterable[TaxSplit]) -> InvoiceTotals:
    net = tax = _ZERO
    for split in splits:
        net += split.net
        tax += split.tax
    return InvoiceTotals(net=net, tax=tax, amount=net + tax)


def checked_rate(value: Decimal, treatment: TaxTreatment, *, field: str) -> Decimal:
    """A rate a project may configure for `treatment`, with four decimal places, else BAD_USER_INPUT on
    `field`: from 0 to below 1 (which rates are in force is the project's data, not ours); exempt lines
    have none; simplified taxation always has a levy rate."""
    try:
        rate = Decimal(value)
    except (InvalidOperation, TypeError):
        raise BadInput(f"{field} must be a number such as 0.06.", field=field) from None
    if not rate.is_finite():
        raise BadInput(f"{field} must be a number such as 0.06.", field=field)
    if rate < 0:
        raise BadInput(f"{field} must be at least 0.", field=field)
    if rate >= 1:
        raise BadInput(f"{field} must be below 1 (0.06 is 6%).", field=field)
    if rate != rate.quantize(_RATE_QUANTUM):
        raise BadInput(f"{field} has at most four decimal places.", field=field)
    if treatment is TaxTreatment.EXEMPT and rate != 0:
        raise BadInput(f"{field} must be 0 for an exempt fee (免税 lines carry no tax).", field=field)
    if treatment is TaxTreatment.SIMPLIFIED and rate == 0:
        raise BadInput(f"{field} must be the levy rate of simplified taxation (such as 0.03), not 0.", field=field)
    return rate.quantize(_RATE_QUANTUM)


def _rate_units(rate: Decimal) -> int:
    scaled = rate * _RATE_SCALE
    if not rate.is_finite() or scaled != scaled.to_integral_value() or not 0 <= rate < 1:
        raise ValueError(f"a rate is from 0 to below 1 with at most {RATE_PLACES} decimal places, got {rate}")
    return int(scaled)
