"""Charging: fee rules and their versions, readings, bill runs, bills, payments, receipts and the journal.

Money is integer fen (`Fen()`), rates and quantities are scaled integers, on both databases. Issued
money records (bills, bill lines, payments, allocations, adjustments, receipts, journal lines) are never
updated or deleted, with one exception: a bill's paid and late-fee columns and its status follow its
allocations, and `ledger_check` proves they agree with them.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Fen, Scaled, StrEnumColumn, UtcDateTime, created_at_column
from kernel.vocabulary import BillLineKind, BillStatus, FeeRuleKind, PartyType

__all__ = [
    "Adjustment",
    "AdjustmentKind",
    "AllocationSource",
    "Bill",
    "BillLine",
    "BillRun",
    "BillStatus",
    "BillingCounter",
    "BillingPolicy",
    "DiscountRule",
    "FeeRule",
    "FeeRuleVersion",
    "JournalEntry",
    "JournalLine",
    "LateFeePolicyVersion",
    "MeterReading",
    "Payment",
    "PaymentAllocation",
    "PaymentBatch",
    "PaymentChannel",
    "PaymentIntent",
    "PaymentIntentStatus",
    "PaymentReversal",
    "Receipt",
    "ReversalKind",
    "Waiver",
]

if TYPE_CHECKING:
    from db.models.property import Project, Unit


class PaymentChannel(str, enum.Enum):
    WECHAT = "WECHAT"
    ALIPAY = "ALIPAY"
    UNIONPAY = "UNIONPAY"
    BANK_TRANSFER = "BANK_TRANSFER"
    CASH = "CASH"
    POS = "POS"


class AdjustmentKind(str, enum.Enum):
    """CREDIT lowers what a bill asks for, DEBIT raises it."""

    CREDIT = "CREDIT"
    DEBIT = "DEBIT"


class AllocationSource(str, enum.Enum):
    """PAYMENT: money allocated when it came in; CREDIT: prepaid credit applied later; REVERSAL: undone."""

    PAYMENT = "PAYMENT"
    CREDIT = "CREDIT"
    REVERSAL = "REVERSAL"


class ReversalKind(str, enum.Enum):
    """REFUND returns unallocated credit to the payer; REVERSAL undoes a whole payment (e.g. a bounced transfer)."""

    REFUND = "REFUND"
    REVERSAL = "REVERSAL"


class PaymentIntentStatus(str, enum.Enum):
    PENDING = "PENDING"
    PAID = "PAID"


class FeeRule(Base):
    """A rule series: the code and kind every version shares."""

    __tablename__ = "fee_rule"
    __table_args__ = (UniqueConstraint("project_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[FeeRuleKind] = mapped_column(StrEnumColumn(FeeRuleKind, "fee_rule_kind"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class FeeRuleVersion(Base):
    """One effective-dated version of a rule; `params` holds its kind's parameters as decimal strings."""

    __tablename__ = "fee_rule_version"
    __table_args__ = (
        UniqueConstraint("rule_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("fee_rule.id", ondelete="RESTRICT"))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class DiscountRule(Base):
    __tablename__ = "discount_rule"
    __table_args__ = (
        CheckConstraint("percent >= 0 AND percent <= 1000000", name="percent_range"),
        CheckConstraint(
            "effective_to IS NULL OR effective_from IS NULL OR effective_to >= effective_from", name="dates_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    percent: Mapped[Decimal] = mapped_column(Scaled(4))
    rule_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    vacant_only: Mapped[bool] = mapped_column(default=False)
    party_type: Mapped[PartyType | None] = mapped_column(StrEnumColumn(PartyType, "discount_party_type"))
    effective_from: Mapped[dt.date | None] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class Waiver(Base):
    """A one-off reduction of one unit's charge under a rule code in one period, with who approved it."""

    __tablename__ = "waiver"
    __table_args__ = (
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        Index("ix_waiver_project_id_period", "project_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    rule_code: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    amount: Mapped[Decimal | None] = mapped_column(Fen())
    reason: Mapped[str] = mapped_column(String(500))
    approved_by: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = created_at_column()


class BillingPolicy(Base):
    __tablename__ = "billing_policy"
    __table_args__ = (
        CheckConstraint("due_days >= 0 AND due_days <= 365", name="due_days_range"),
        CheckConstraint("cycle_months >= 1 AND cycle_months <= 12", name="cycle_months_range"),
    )

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    due_days: Mapped[int] = mapped_column(default=15)
    cycle_months: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = created_at_column()


class LateFeePolicyVersion(Base):
    """The project's late-fee policy from `effective_from` on, until the next version starts.

    Versions are only added: a bill overdue across a change pays each day under the version in force
    that day, so changing the policy never changes what days already past cost.
    """

    __tablename__ = "late_fee_policy_version"
    __table_args__ = (
        UniqueConstraint("project_id", "effective_from"),
        CheckConstraint("daily_rate >= 0", name="daily_rate_non_negative"),
        CheckConstraint("grace_days >= 0", name="grace_days_non_negative"),
        CheckConstraint("cap_ratio IS NULL OR cap_ratio >= 0", name="cap_ratio_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    daily_rate: Mapped[Decimal] = mapped_column(Scaled(6))
    grace_days: Mapped[int] = mapped_column(default=0)
    cap_ratio: Mapped[Decimal | None] = mapped_column(Scaled(4))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()

    # Read with the versions when a page of bills computes late fees (its project's time zone and locale
    # come with them); never lazily.
    project: Mapped[Project] = relationship(lazy="raise", viewonly=True)


class MeterReading(Base):
    """A meter reading and the usage since the previous reading of the same unit and meter type."""

    __tablename__ = "meter_reading"
    __table_args__ = (
        UniqueConstraint("unit_id", "meter_type", "read_at"),
        CheckConstraint("reading >= 0", name="reading_non_negative"),
        CheckConstraint("usage >= 0", name="usage_non_negative"),
        CheckConstraint(
            "(is_replacement AND replacement_start_value IS NOT NULL)"
            " OR (NOT is_replacement AND replacement_start_value IS NULL)",
            name="replacement_has_start_value",
        ),
        Index("ix_meter_reading_project_id_flagged", "project_id", "flagged_for_review"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    meter_type: Mapped[str] = mapped_column(String(32))
    reading: Mapped[Decimal] = mapped_column(Scaled(3))
    read_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    usage: Mapped[Decimal] = mapped_column(Scaled(3))
    is_replacement: Mapped[bool] = mapped_column(default=False)
    replacement_start_value: Mapped[Decimal | None] = mapped_column(Scaled(3))
    flagged_for_review: Mapped[bool] = mapped_column(default=False)
    trailing_average: Mapped[Decimal | None] = mapped_column(Scaled(3))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    # The run whose bill charged this reading's usage; None until a bill has. A bill charges every reading
    # of its meters read before its period ends and not charged yet, so a month without a run is charged
    # by the next bill instead of being lost.
    billed_in_run_id: Mapped[int | None] = mapped_column(ForeignKey("bill_run.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = created_at_column()


class BillRun(Base):
    """One per project and period; running it again bills only units that have no bill for the period yet."""

    __tablename__ = "bill_run"
    __table_args__ = (
        UniqueConstraint("project_id", "period"),
        CheckConstraint("bill_count >= 0", name="bill_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(7))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    bill_count: Mapped[int] = mapped_column(default=0)
    total_amount: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    times_run: Mapped[int] = mapped_column(default=0)
    last_run_bill_count: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # Why a period after the next one was billed ahead (such a run needs one); the latest given.
    advance_reason: Mapped[str | None] = mapped_column(String(500))


BILL_OWING = "total_amount + adjustment_amount + late_fee_amount - (principal_paid + late_fee_paid) <> 0"
"""`billing.balance_sql.amount_due_fen() != 0` as the databases print it, so that the partial index serves it."""


class Bill(Base):
    """A unit's bill for one period. Its lines and total never change; adjustments, late fees and
    allocations are recorded beside it and summed into the columns below."""

    __tablename__ = "bill"
    __table_args__ = (
        UniqueConstraint("unit_id", "period"),
        Index("ix_bill_project_id_period", "project_id", "period"),
        # The bills that owe something today: the arrears ageing starts from them (`billing.reports.reading`).
        Index("ix_bill_owing", "project_id", postgresql_where=text(BILL_OWING), sqlite_where=text(BILL_OWING)),
        CheckConstraint("total_amount >= 0", name="total_non_negative"),
        CheckConstraint("principal_paid >= 0", name="principal_paid_non_negative"),
        CheckConstraint("late_fee_amount >= 0", name="late_fee_non_negative"),
        CheckConstraint("late_fee_paid >= 0 AND late_fee_paid <= late_fee_amount", name="late_fee_paid_range"),
        CheckConstraint("principal_paid <= total_amount + adjustment_amount", name="not_overpaid"),
        CheckConstraint("total_amount + adjustment_amount >= 0", name="adjusted_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    run_id: Mapped[int] = mapped_column(ForeignKey("bill_run.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(7))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[BillStatus] = mapped_column(StrEnumColumn(BillStatus, "bill_status"), default=BillStatus.OPEN)
    total_amount: Mapped[Decimal] = mapped_column(Fen())
    adjustment_amount: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    late_fee_amount: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    late_fee_through: Mapped[dt.date | None] = mapped_column(Date)
    principal_paid: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    late_fee_paid: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    created_at: Mapped[dt.datetime] = created_at_column()

    # Read with the bill when a page of bills shows its unit (`db.batch_reads.plain_reader`); never lazily.
    unit: Mapped[Unit] = relationship(lazy="raise", viewonly=True)


class BillLine(Base):
    """One itemised amount of a bill; `unit_price` is empty when no single price produced the amount."""

    __tablename__ = "bill_line"

    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="RESTRICT"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rule_version_id: Mapped[int] = mapped_column(ForeignKey("fee_rule_version.id", ondelete="RESTRICT"))
    rule_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[BillLineKind] = mapped_column(StrEnumColumn(BillLineKind, "bill_line_kind"))
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Scaled(4))
    unit_price: Mapped[Decimal | None] = mapped_column(Scaled(6))
    amount: Mapped[Decimal] = mapped_column(Fen())
    explanation: Mapped[str] = mapped_column(Text)


class Adjustment(Base):
    __tablename__ = "adjustment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    kind: Mapped[AdjustmentKind] = mapped_column(StrEnumColumn(AdjustmentKind, "adjustment_kind"))
    amount: Mapped[Decimal] = mapped_column(Fen())
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = created_at_column()


class PaymentBatch(Base):
    """One payer's single transfer covering several units' payments, recorded in one transaction."""

    __tablename__ = "payment_batch"
    __table_args__ = (
        UniqueConstraint("project_id", "idempotency_key"),
        CheckConstraint("total_amount > 0", name="total_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    payer_name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[PaymentChannel] = mapped_column(StrEnumColumn(PaymentChannel, "batch_channel"))
    external_reference: Mapped[str | None] = mapped_column(String(100))
    total_amount: Mapped[Decimal] = mapped_column(Fen())
    idempotency_key: Mapped[str] = mapped_column(String(100))
    payload_hash: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class Payment(Base):
    """Money received for one unit; whatever no bill takes stays with the unit as prepaid credit."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("project_id", "idempotency_key"),
        # A matching run reads a project's payments of a window of days.
        Index("ix_payment_project_id_paid_at", "project_id", "paid_at"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "(idempotency_key IS NULL) = (payload_hash IS NULL)", name="idempotency_key_has_payload_hash"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    payer_party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"))
    payer_name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[PaymentChannel] = mapped_column(StrEnumColumn(PaymentChannel, "payment_channel"))
    external_reference: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Fen())
    paid_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("payment_batch.id", ondelete="RESTRICT"), index=True)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()
    # Read with the payment when a page of payments wants it (one receipt at most per payment); never lazily.
    receipt: Mapped[Receipt | None] = relationship(lazy="raise", viewonly=True, uselist=False)

    # Read with the payment when a page of payments shows its unit; never lazily.
    unit: Mapped[Unit] = relationship(lazy="raise", viewonly=True)


class PaymentAllocation(Base):
    """Part of a payment settling a bill's late fee and principal; reversals are negative rows."""

    __tablename__ = "payment_allocation"
    __table_args__ = (
        CheckConstraint(
            "(source = 'REVERSAL' AND principal <= 0 AND late_fee <= 0)"
            " OR (source <> 'REVERSAL' AND principal >= 0 AND late_fee >= 0)",
            name="sign_follows_source",
        ),
        CheckConstraint("principal <> 0 OR late_fee <> 0", name="not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="RESTRICT"), index=True)
    principal: Mapped[Decimal] = mapped_column(Fen())
    late_fee: Mapped[Decimal] = mapped_column(Fen())
    source: Mapped[AllocationSource] = mapped_column(StrEnumColumn(AllocationSource, "allocation_source"))
    created_at: Mapped[dt.datetime] = created_at_column()

    # Read with the allocation when a page of payments shows the bills they settled; never lazily.
    bill: Mapped[Bill] = relationship(lazy="raise", viewonly=True)


class PaymentReversal(Base):
    __tablename__ = "payment_reversal"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[ReversalKind] = mapped_column(StrEnumColumn(ReversalKind, "reversal_kind"))
    amount: Mapped[Decimal] = mapped_column(Fen())
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = created_at_column()


class Receipt(Base):
    """A payment's receipt: gapless per-project number, canonical content and its Ed25519 signature."""

    __tablename__ = "receipt"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), unique=True)
    number: Mapped[int]
    content: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class BillingCounter(Base):
    """Per-project counters (receipt numbers, order numbers): the row lock held until commit keeps them gapless."""

    __tablename__ = "billing_counter"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class PaymentIntent(Base):
    """An online order: what a gateway is asked to collect, and the payment its notification recorded."""

    __tablename__ = "payment_intent"
    __table_args__ = (
        UniqueConstraint("out_trade_no"),
        UniqueConstraint("provider", "provider_transaction_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    out_trade_no: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(32))
    channel: Mapped[PaymentChannel] = mapped_column(StrEnumColumn(PaymentChannel, "intent_channel"))
    amount: Mapped[Decimal] = mapped_column(Fen())
    bill_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[PaymentIntentStatus] = mapped_column(
        StrEnumColumn(PaymentIntentStatus, "payment_intent_status"), default=PaymentIntentStatus.PENDING
    )
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    provider_transaction_id: Mapped[str | None] = mapped_column(String(100))
    invoice_title_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_title.id", ondelete="SET NULL"))
    """The invoice title the owner picked: the payment's automatic invoice is made out to it."""
    created_at: Mapped[dt.datetime] = created_at_column()


class JournalEntry(Base):
    """One balanced posting: the sum of its lines' debits equals the sum of their credits."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        Index("ix_journal_entry_project_id_id", "project_id", "id"),
        # Reports as of a day read the postings booked since it.
        Index("ix_journal_entry_project_id_occurred_at", "project_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(500))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class JournalLine(Base):
    """A debit or a credit to one account, tagged with the unit, bill and payment it concerns."""

    __tablename__ = "journal_line"
    __table_args__ = (
        CheckConstraint(
            "(debit > 0 AND credit = 0) OR (debit = 0 AND credit > 0)", name="one_side_positive"
        ),
        Index("ix_journal_line_unit_id_account", "unit_id", "account"),
    )

    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id", ondelete="RESTRICT"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(48))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    debit: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    credit: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
