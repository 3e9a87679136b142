"""What an invoice lists (pure): what each payment paid per fee kind, the blue lines that split it into
net and tax, and the red lines that take part or all of them back.

A payment pays bills and keeps the rest as credit. On a bill, its principal is split over the bill's fee
kinds in proportion to what the bill's lines charge for each (a discount or waiver line lowers its own
kind), by largest remainder on the bill's cumulative principal: the k-th allocation on a bill gets
split(paid after it) − split(paid before it), so the invoices of a bill paid in instalments add up per
fee kind to exactly what it charged. With three kinds or more a larger total can, rarely, give one kind
a fen less than a smaller total did (the Alabama paradox of largest remainder); that fen is taken from
the allocation's largest other share, so no blue line is ever negative, at the price of that one fen
between kinds. Late fees are the fee kind LATE_FEE, what the payment still keeps as credit PREPAYMENT.

A red line takes back part of one blue line: never more than is left of it, with the tax the formula
gives for the part (but no more than is left of the line's tax), and the line's whole remaining tax when
it empties the line, so that a line taken back in full nets to zero in amount and tax alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing.money import split_by_largest_remainder
from invoicing.fee_kinds import LATE_FEE, PREPAYMENT
from invoicing.tax import TaxSplit, split_tax
from kernel.errors import BadInput
from kernel.vocabulary import TaxTreatment

__all__ = [
    "AllocationRow",
    "BillPayments",
    "DraftLine",
    "IssuedLine",
    "LineTerms",
    "MissingTaxMapping",
    "PaymentFacts",
    "blue_lines",
    "payment_shares",
    "red_lines",
]

_ZERO = Decimal("0.00")
_ONE = Decimal("1")


@dataclass(frozen=True)
class AllocationRow:
    """One allocation on a bill: the payment, the principal and the late fee it settled (negative when a
    reversal took them back)."""

    payment_id: int
    principal: Decimal
    late_fee: Decimal


@dataclass(frozen=True)
class BillPayments:
    """One bill: what its lines charge per fee kind, and every allocation on it in the order made."""

    bill_id: int
    period: str
    charges: Mapping[str, Decimal]
    allocations: Sequence[AllocationRow]


@dataclass(frozen=True)
class PaymentFacts:
    payment_id: int
    amount: Decimal
    refunded: Decimal = _ZERO


@dataclass(frozen=True)
class LineTerms:
    """How a fee kind is invoiced: the item as printed (*category*item_name), its 税收分类编码, unit, rate
    and treatment, and the configuration version they come from (None for a red line's copy)."""

    category: str
    item_name: str
    classification_code: str
    unit: str | None
    rate: Decimal
    treatment: TaxTreatment
    mapping_id: int | None


@dataclass(frozen=True)
class DraftLine:
    """A line to issue: the payment it is for, its fee kind and terms, quantity (1, or −1 on a red
    invoice), unit price (net, positive), the split, and on a red line the blue line it takes back."""

    payment_id: int
    fee_kind: str
    terms: LineTerms
    quantity: Decimal
    unit_price: Decimal
    split: TaxSplit
    original_position: int | None = None


@dataclass(frozen=True)
class IssuedLine:
    """What is left of an issued blue line: its amount and tax less every red line against it."""

    position: int
    payment_id: int
    fee_kind: str
    terms: LineTerms
    amount: Decimal
    tax: Decimal


class MissingTaxMapping(BadInput):
    """Issuing is refused rather than guessed: these fee kinds have no tax mapping in force."""

    def __init__(self, fee_kinds: Sequence[str], *, field: str | None) -> None:
        self.fee_kinds = tuple(sorted(set(fee_kinds)))
        super().__init__(
            f"No tax mapping (税收分类编码, rate) is in force for fee kind {', '.join(self.fee_kinds)}: configure it before issuing.",
            field=field,
        )


def payment_shares(payment: PaymentFacts, bills: Sequence[BillPayments]) -> dict[str, Decimal]:
    """What `payment` paid per fee kind (see the module docstring), the bills' kinds in order of
    appearance, then LATE_FEE and PREPAYMENT; kinds it paid nothing of are left out."""
    shares: dict[str, Decimal] = {}
    late_fees = allocated = _ZERO
    for bill in bills:
        kinds = [kind for kind, charged in bill.charges.items() if charged > 0]
        weights = [bill.charges[kind] for kind in kinds]
        paid = _ZERO
        for row in bill.allocations:
            before, paid = paid, paid + row.principal
            if row.payment_id != payment.payment_id:
                continue
            if row.principal < 0 or row.late_fee < 0:
                raise ValueError(f"payment {payment.payment_id} was reversed: there is nothing of it to invoice")
            late_fees += row.late_fee
            allocated += row.principal + row.late_fee
            if row.principal == 0:
                continue
            if not kinds:
                raise ValueError(f"bill {bill.bill_id} ({bill.period}) charges nothing to attribute a payment to")
            part = _part_between(weights, before, paid)
            for kind, share in zip(kinds, part, strict=True):
                shares[kind] = shares.get(kind, _ZERO) + share
    credit = payment.amount - payment.refunded - allocated
    if credit < 0:
        raise ValueError(f"payment {payment.payment_id} gave back or allocated more than its {payment.amount}")
    shares[LATE_FEE] = late_fees
    shares[PREPAYMENT] = credit
    return {kind: share for kind, share in shares.items() if share != 0}


def _part_between(weights: Sequence[Decimal], before: Decimal, after: Decimal) -> list[Decimal]:
    """split(after) − split(before) per weight; a negative fen (the paradox) comes out of the largest share."""
    part = [late - early for late, early in zip(_split(after, weights), _split(before, weights), strict=True)]
    deficit = sum((-share for share in part if share < 0), _ZERO)
    part = [max(share, _ZERO) for share in part]
    while deficit > 0:
        largest = max(range(len(part)), key=lambda position: (part[position], -position))
        step = min(deficit, part[largest])
        part[largest] -= step
        deficit -= step
    return part


def _split(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    if total <= 0:
        return [_ZERO] * len(weights)
    return split_by_largest_remainder(total, weights)


def blue_lines(
    shares: Sequence[tuple[int, Mapping[str, Decimal]]], terms: Mapping[str, LineTerms], *, field: str | None = None
) -> list[DraftLine]:
    """One line per payment and fee kind, split by the kind's terms; MissingTaxMapping (BAD_USER_INPUT on
    `field`) naming every kind that has none."""
    missing = [kind for _, paid in shares for kind in paid if kind not in terms]
    if missing:
        raise MissingTaxMapping(missing, field=field)
    lines = []
    for payment_id, paid in shares:
        for kind, amount in paid.items():
            line_terms = terms[kind]
            split = split_tax(amount, rate=line_terms.rate, treatment=line_terms.treatment)
            lines.append(DraftLine(payment_id, kind, line_terms, _ONE, abs(split.net), split))
    return lines


def red_lines(left: Sequence[IssuedLine], *, payment_id: int, amount: Decimal | None) -> list[DraftLine]:
    """Red lines taking back `amount` of what `payment_id`'s blue lines have left (everything when None,
    a reversal): credit (PREPAYMENT) first, then the lines from the last one up (a refund gives back
    credit). Never more than is left: a larger `amount` takes what there is. The lines come in the order
    of the blue lines they take back."""
    own = [line for line in left if line.payment_id == payment_id and line.amount > 0]
    order = sorted(own, key=lambda line: (line.fee_kind != PREPAYMENT, -line.position))
    wanted = sum((line.amount for line in own), _ZERO) if amount is None else amount
    lines = []
    for line in order:
        if wanted <= 0:
            break
        part = min(wanted, line.amount)
        wanted -= part
        if part == line.amount:
            tax = line.tax
        else:
            tax = min(split_tax(part, rate=line.terms.rate, treatment=line.terms.treatment).tax, line.tax)
        split = TaxSplit(amount=-part, net=-(part - tax), tax=-tax)
        terms = LineTerms(
            line.terms.category, line.terms.item_name, line.terms.classification_code, line.terms.unit,
            line.terms.rate, line.terms.treatment, None,
        )
        lines.append(DraftLine(payment_id, line.fee_kind, terms, -_ONE, abs(split.net), split, line.position))
    return sorted(lines, key=lambda line: line.original_position or 0)
