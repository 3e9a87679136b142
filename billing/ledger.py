"""Posting rules of the double-entry journal: each business event becomes one balanced set of postings.

Accounts, and which side grows them:

- ``RECEIVABLE`` (debit): what units owe, tagged with the bill;
- ``CLEARING:<channel>`` (debit): money received on a channel, until it is banked;
- ``PREPAID_CREDIT`` (credit): money received that no bill has taken yet, tagged with the unit and payment;
- ``INCOME:<rule code>`` (credit): fee income per rule, net of discounts and waivers;
- ``LATE_FEE_INCOME`` (credit) and ``ADJUSTMENTS`` (credit for debit adjustments, debit for credits);
- ``BANK:<account>`` (debit): money in a bank account, as its matched statement lines show it arrive;
- ``CHANNEL_FEES`` and ``CHANNEL_COUPONS`` (debit): what a channel keeps of a settlement (fees, merchant-
  funded coupons): expenses, never a mismatch;
- ``RECONCILIATION_WRITE_OFF`` (debit for money written off as lost, credit for money found): differences
  between statements and Courtyard that a person wrote off with a reason and an approver.

Reconciliation moves money out of a clearing account when the statements show it arrived in the bank: a
channel's settlement credits ``CLEARING:<channel>`` with the settled days' payments less refunds, the
bank line's ``BANK:<account>`` takes the net and the fees and coupons their expense accounts.

A payment first lands in full as prepaid credit; each allocation then moves part of it to a bill. So a
unit's prepaid credit is always the balance of its ``PREPAID_CREDIT`` postings, and a bill's amount due
the balance of its ``RECEIVABLE`` postings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "ADJUSTMENTS",
    "CHANNEL_COUPONS",
    "CHANNEL_FEES",
    "RECONCILIATION_WRITE_OFF",
    "LATE_FEE_INCOME",
    "PREPAID_CREDIT",
    "RECEIVABLE",
    "AllocationPart",
    "IssuedBill",
    "JournalDraft",
    "Posting",
    "UnbalancedJournal",
    "bank_account",
    "clearing_account",
    "income_account",
    "post_adjustment",
    "post_allocations",
    "post_bank_receipt",
    "post_channel_fee",
    "post_settlement",
    "post_write_off",
    "post_bills",
    "post_late_fee",
    "post_payment",
    "post_refund",
    "post_reversal",
]

RECEIVABLE = "RECEIVABLE"
PREPAID_CREDIT = "PREPAID_CREDIT"
LATE_FEE_INCOME = "LATE_FEE_INCOME"
ADJUSTMENTS = "ADJUSTMENTS"

CHANNEL_FEES = "CHANNEL_FEES"
CHANNEL_COUPONS = "CHANNEL_COUPONS"
RECONCILIATION_WRITE_OFF = "RECONCILIATION_WRITE_OFF"

_ZERO = Decimal("0.00")


def clearing_account(channel: str) -> str:
    return f"CLEARING:{channel}"


def bank_account(name: str) -> str:
    return f"BANK:{name}"[:48]


def income_account(rule_code: str) -> str:
    return f"INCOME:{rule_code}"


class UnbalancedJournal(ValueError):
    """A set of postings whose debits and credits differ, or a posting that is not one-sided and positive."""


@dataclass(frozen=True, slots=True)
class Posting:
    """One journal line: exactly one of debit and credit is positive."""

    account: str
    debit: Decimal = _ZERO
    credit: Decimal = _ZERO
    unit_id: int | None = None
    bill_id: int | None = None
    payment_id: int | None = None


@dataclass(frozen=True, slots=True)
class JournalDraft:
    """A balanced journal entry before it is written; the constructor refuses anything else."""

    kind: str
    description: str
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        if not self.postings:
            raise UnbalancedJournal(f"{self.kind}: an entry needs postings")
        for posting in self.postings:
            if posting.debit < 0 or posting.credit < 0 or (posting.debit > 0) == (posting.credit > 0):
                raise UnbalancedJournal(f"{self.kind}: {posting} is not one positive side")
        if self.total_debit != self.total_credit:
            raise UnbalancedJournal(f"{self.kind}: debits {self.total_debit} ≠ credits {self.total_credit}")

    @property
    def total_debit(self) -> Decimal:
        return sum((posting.debit for posting in self.postings), _ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((posting.credit for posting in self.postings), _ZERO)


@dataclass(frozen=True, slots=True)
class IssuedBill:
    """A bill as the journal sees it: its id, unit and net amount per rule code (codes in line order)."""

    bill_id: int
    unit_id: int
    net_by_rule_code: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class AllocationPart:
    """Money moved onto one bill: late fee and principal (negative when a reversal takes it back)."""

    bill_id: int
    principal: Decimal
    late_fee: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.late_fee


def _debit(account: str, amount: Decimal, **tags: int | None) -> Posting:
    return Posting(account=account, debit=amount, **tags)


def _credit(account: str, amount: Decimal, **tags: int | None) -> Posting:
    return Posting(account=account, credit=amount, **tags)


def post_bills(bills: Iterable[IssuedBill], description: str) -> JournalDraft | None:
    """Receivable per bill against fee income per rule code; None when every bill is zero."""
    postings: list[Posting] = []
    income: dict[str, Decimal] = {}
    for bill in bills:
        total = _ZERO
        for code, net in bill.net_by_rule_code.items():
            if net < 0:
                raise UnbalancedJournal(f"bill {bill.bill_id}: rule {code} nets to {net}")
            income[code] = income.get(code, _ZERO) + net
            total += net
        if total > 0:
            postings.append(_debit(RECEIVABLE, total, unit_id=bill.unit_id, bill_id=bill.bill_id))
    postings.extend(_credit(income_account(code), amount) for code, amount in income.items() if amount > 0)
    if not postings:
        return None
    return JournalDraft("BILLS_ISSUED", description, tuple(postings))


def post_payment(
    *, payment_id: int, unit_id: int, channel: str, amount: Decimal, description: str
) -> JournalDraft:
    """Money received: the channel's clearing account against the unit's prepaid credit."""
    if amount <= 0:
        raise UnbalancedJournal(f"payment {payment_id}: amount {amount} is not positive")
    return JournalDraft(
        "PAYMENT",
        description,
        (
            _debit(clearing_account(channel), amount, unit_id=unit_id, payment_id=payment_id),
            _credit(PREPAID_CREDIT, amount, unit_id=unit_id, payment_id=payment_id),
        ),
    )


def post_allocations(
    *, payment_id: int, unit_id: int, parts: Sequence[AllocationPart], kind: str, description: str
) -> JournalDraft | None:
    """Prepaid credit moved onto bills (`kind` says why: at payment or applied by a bill run)."""
    postings: list[Posting] = []
    total = _ZERO
    for part in parts:
        if part.principal < 0 or part.late_fee < 0:
            raise UnbalancedJournal(f"allocation to bill {part.bill_id} is negative")
        if part.amount > 0:
            postings.append(_credit(RECEIVABLE, part.amount, unit_id=unit_id, bill_id=part.bill_id))
            total += part.amount
    if total == 0:
        return None
    postings.insert(0, _debit(PREPAID_CREDIT, total, unit_id=unit_id, payment_id=payment_id))
    return JournalDraft(kind, description, tuple(postings))


def post_late_fee(*, bill_id: int, unit_id: int, amount: Decimal, description: str) -> JournalDraft:
    """A late fee charged on a bill: receivable against late-fee income."""
    return JournalDraft(
        "LATE_FEE",
        description,
        (
            _debit(RECEIVABLE, amount, unit_id=unit_id, bill_id=bill_id),
            _credit(LATE_FEE_INCOME, amount),
        ),
    )


def post_adjustment(
    *, bill_id: int, unit_id: int, amount: Decimal, raises_bill: bool, description: str
) -> JournalDraft:
    """A debit adjustment adds to the bill's receivable, a credit adjustment takes from it."""
    receivable = (_debit if raises_bill else _credit)(RECEIVABLE, amount, unit_id=unit_id, bill_id=bill_id)
    counter = (_credit if raises_bill else _debit)(ADJUSTMENTS, amount)
    return JournalDraft("ADJUSTMENT", description, (receivable, counter))


def post_refund(
    *, payment_id: int, unit_id: int, channel: str, amount: Decimal, description: str
) -> JournalDraft:
    """Unallocated credit paid back on the payment's channel."""
    return JournalDraft(
        "REFUND",
        description,
        (
            _debit(PREPAID_CREDIT, amount, unit_id=unit_id, payment_id=payment_id),
            _credit(clearing_account(channel), amount, unit_id=unit_id, payment_id=payment_id),
        ),
    )


def post_reversal(
    *,
    payment_id: int,
    unit_id: int,
    channel: str,
    taken_back: Sequence[AllocationPart],
    credit_left: Decimal,
    description: str,
) -> JournalDraft:
    """A payment undone: every bill it paid owes again, its unused credit goes, the channel gives it back.

    `taken_back` holds the amounts (positive) the payment had allocated to each bill.
    """
    postings: list[Posting] = []
    total = _ZERO
    for part in taken_back:
        if part.amount > 0:
            postings.append(_debit(RECEIVABLE, part.amount, unit_id=unit_id, bill_id=part.bill_id))
            total += part.amount
    if credit_left > 0:
        postings.append(_debit(PREPAID_CREDIT, credit_left, unit_id=unit_id, payment_id=payment_id))
        total += credit_left
    postings.append(_credit(clearing_account(channel), total, unit_id=unit_id, payment_id=payment_id))
    return JournalDraft("REVERSAL", description, tuple(postings))


# --- reconciliation --------------------------------------------------------------------------------


def post_bank_receipt(*, bank: str, channel: str, amount: Decimal, description: str) -> JournalDraft:
    """A bank line matched to a transfer recorded in Courtyard: the money left clearing for the bank
    (negative `amount`: a bank debit matched to a refund, the other way round)."""
    if amount > 0:
        postings = (_debit(bank_account(bank), amount), _credit(clearing_account(channel), amount))
    else:
        postings = (_debit(clearing_account(channel), -amount), _credit(bank_account(bank), -amount))
    return JournalDraft("BANK_RECEIPT", description, postings)


def post_settlement(
    *, bank: str, channel: str, cleared: Decimal, fees: Decimal, coupons: Decimal, description: str
) -> JournalDraft:
    """A channel's days paid into the bank as one credit: clearing gives up what the days took in
    (`cleared`: payments less refunds), the bank receives the net, fees and coupons are expenses."""
    net = cleared - fees - coupons
    postings = [_debit(bank_account(bank), net)] if net > 0 else []
    if fees > 0:
        postings.append(_debit(CHANNEL_FEES, fees))
    if coupons > 0:
        postings.append(_debit(CHANNEL_COUPONS, coupons))
    postings.append(_credit(clearing_account(channel), cleared))
    return JournalDraft("SETTLEMENT", description, tuple(postings))


def post_channel_fee(*, channel: str, amount: Decimal, description: str) -> JournalDraft:
    """A fee a channel booked as its own line (Alipay 服务费), taken from the money it holds for us."""
    fee = abs(amount)
    return JournalDraft("CHANNEL_FEE", description, (_debit(CHANNEL_FEES, fee), _credit(clearing_account(channel), fee)))


def post_write_off(*, account: str, difference: Decimal, description: str) -> JournalDraft:
    """A difference between a statement and Courtyard written off against `account` (a clearing or bank
    account): positive when the statement shows more money than Courtyard recorded (found), negative when
    less (lost)."""
    if difference == 0:
        raise UnbalancedJournal("nothing to write off")
    amount = abs(difference)
    if difference > 0:
        postings = (_debit(account, amount), _credit(RECONCILIATION_WRITE_OFF, amount))
    else:
        postings = (_debit(RECONCILIATION_WRITE_OFF, amount), _credit(account, amount))
    return JournalDraft("WRITE_OFF", description, postings)
