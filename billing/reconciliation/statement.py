"""Statement lines as every parser returns them, and the typed refusal of a file that contradicts itself.

Pure: plain frozen dataclasses. A `StatementLine` is one booking of one statement (a WeChat or Alipay
bill row, a bank entry) in one shape, whatever file it came from: amounts are `Decimal`, signed from the
merchant's side (money in is positive), times are aware datetimes in the project's zone. `line_key` is
stable across re-imports of the same file (and of an overlapping later file), so storing lines by it is
idempotent; `ParsedStatement.file_hash` lets a use case recognise the very same file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from kernel.errors import BadInput

__all__ = [
    "Channel",
    "Direction",
    "LineKind",
    "ParsedStatement",
    "SourceKind",
    "StatementLine",
    "StatementRejected",
    "SummaryTotal",
    "check_totals",
    "file_hash",
    "round_fen",
]

FEN = Decimal("0.01")


class SourceKind(StrEnum):
    """Which kind of file a line was read from."""

    WECHAT = "WECHAT"
    ALIPAY = "ALIPAY"
    BANK = "BANK"


class Channel(StrEnum):
    """How a payment reached the company; the values are those of `db.models.PaymentChannel`."""

    WECHAT = "WECHAT"
    ALIPAY = "ALIPAY"
    UNIONPAY = "UNIONPAY"
    BANK_TRANSFER = "BANK_TRANSFER"
    CASH = "CASH"
    POS = "POS"


class Direction(StrEnum):
    IN = "IN"
    OUT = "OUT"


class LineKind(StrEnum):
    """What a line records: a customer's payment, a refund of one, a channel fee, a channel paying out to
    the bank, or a plain bank movement (a transfer, a settlement credit: the matcher decides which)."""

    PAYMENT = "PAYMENT"
    REFUND = "REFUND"
    FEE = "FEE"
    PAYOUT = "PAYOUT"
    BANK = "BANK"


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One booking of a statement, normalised.

    `amount` is what the payer paid or was refunded (WeChat's 订单金额, negative for refunds);
    `settled_amount` is what the channel owes the merchant for it before fees (smaller than `amount` when
    a merchant-funded coupon paid part); `fee` is the channel's fee, exact as the file writes it (WeChat
    uses five decimals), negative when a refund gives part of it back. For bank lines `settled_amount`
    equals `amount` and `fee` is zero.
    """

    source: SourceKind
    account: str
    line_key: str
    row_number: int
    booked_at: dt.datetime
    kind: LineKind
    amount: Decimal
    settled_amount: Decimal
    fee: Decimal = Decimal("0")
    order_no: str | None = None
    transaction_id: str | None = None
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    refund_no: str | None = None
    provider_refund_id: str | None = None
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    memo: str | None = None
    raw: tuple[tuple[str, str], ...] = ()

    @property
    def direction(self) -> Direction:
        return Direction.IN if self.amount >= 0 else Direction.OUT

    @property
    def coupon_amount(self) -> Decimal:
        """The part of a payment a merchant-funded coupon paid (money the merchant never receives)."""
        return self.amount - self.settled_amount


@dataclass(frozen=True, slots=True)
class SummaryTotal:
    """One total the file states about itself, beside what the parsed lines add up to."""

    name: str
    stated: Decimal
    parsed: Decimal

    @property
    def difference(self) -> Decimal:
        return self.parsed - self.stated


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """Every line of one file, the file's own totals (all agreeing with the lines) and its SHA-256."""

    source: SourceKind
    account: str
    file_hash: str
    lines: tuple[StatementLine, ...]
    totals: tuple[SummaryTotal, ...]


class StatementRejected(BadInput):
    """A file that cannot be imported: unreadable, missing a column, a bad cell, or totals that disagree.

    `row` is the 1-based line or row of the file (0 for the file as a whole), `column` the header or
    summary name concerned and `difference` how far parsed totals are from the stated ones.
    """

    def __init__(
        self, message: str, *, row: int = 0, column: str | None = None, difference: Decimal | None = None
    ) -> None:
        where = f"row {row}" if row else "file"
        if column:
            where += f", {column}"
        super().__init__(f"{where}: {message}", field="file")
        self.row = row
        self.column = column
        self.difference = difference


def file_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def round_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def check_totals(totals: list[SummaryTotal], *, row: int = 0) -> tuple[SummaryTotal, ...]:
    """Refuse the file at the first total whose lines disagree with what the file states."""
    for total in totals:
        if total.difference != 0:
            raise StatementRejected(
                f"the lines add up to {total.parsed}, the file's summary says {total.stated} "
                f"(a difference of {total.difference})",
                row=row,
                column=total.name,
                difference=total.difference,
            )
    return tuple(totals)
