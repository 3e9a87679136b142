"""Reconciliation (对账): statement accounts, imported files and their lines, matches, exceptions, the
project's matching rules and the daily close.

Statement files and lines are written once and never changed (importing the same file again finds its
hash; an overlapping file finds its line keys). A match can be undone (kept, with who and why); an
exception is OPEN until someone resolves it, then RESOLVED with how, by whom and why. A daily close is a
report written once: a closed day's row never changes.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Fen, Scaled, StrEnumColumn, UtcDateTime, created_at_column
from db.models.billing import PaymentChannel

__all__ = [
    "DailyClose",
    "ExceptionLink",
    "ExceptionStatus",
    "MatchLink",
    "ReconciliationException",
    "ReconciliationMatch",
    "ReconciliationRule",
    "Resolution",
    "SettledDay",
    "StatementAccount",
    "StatementAccountKind",
    "StatementFile",
    "StatementLineRow",
]


# Exactly one of a link's targets is set, written so that both dialects accept it.
_ONE_TARGET = (
    "(CASE WHEN line_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN payment_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN reversal_id IS NULL THEN 0 ELSE 1 END) = 1"
)


class StatementAccountKind(str, enum.Enum):
    """Which statements an account receives: a WeChat Pay or Alipay merchant account, or a bank account."""

    WECHAT = "WECHAT"
    ALIPAY = "ALIPAY"
    BANK = "BANK"


class ExceptionStatus(str, enum.Enum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class Resolution(str, enum.Enum):
    """How an exception was resolved (see billing.reconciliation.resolving)."""

    MATCHED = "MATCHED"
    UNMATCHED = "UNMATCHED"
    RECORDED_PAYMENT = "RECORDED_PAYMENT"
    REFUNDED_DUPLICATE = "REFUNDED_DUPLICATE"
    WRITTEN_OFF = "WRITTEN_OFF"


class StatementAccount(Base):
    """A channel merchant account or bank account of one project, whose statements are imported.

    `name` is what its statements call it (the WeChat 商户号, the bank account number) and what the CLI's
    `--account` names. `terms` holds the channel's `ChannelTerms` (report and payout days, fee rate, the
    bank account its payouts arrive in); `bank_profile` the saved `BankProfile` of a bank account.
    """

    __tablename__ = "statement_account"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[StatementAccountKind] = mapped_column(StrEnumColumn(StatementAccountKind, "statement_account_kind"))
    channel: Mapped[PaymentChannel] = mapped_column(StrEnumColumn(PaymentChannel, "statement_account_channel"))
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bank_profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class StatementFile(Base):
    """One imported statement file; its SHA-256 is unique per account, so a file is imported once."""

    __tablename__ = "statement_file"
    __table_args__ = (UniqueConstraint("account_id", "file_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("statement_account.id", ondelete="RESTRICT"))
    file_hash: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    statement_format: Mapped[str] = mapped_column(String(16))
    line_count: Mapped[int]
    new_line_count: Mapped[int]
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    imported_at: Mapped[dt.datetime] = created_at_column()


class StatementLineRow(Base):
    """One statement line as `billing.reconciliation.statement.StatementLine` describes it; its `line_key`
    is unique per account, so an overlapping file adds only what is new."""

    __tablename__ = "statement_line"
    __table_args__ = (
        UniqueConstraint("account_id", "line_key"),
        Index("ix_statement_line_account_id_booked_at", "account_id", "booked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("statement_account.id", ondelete="RESTRICT"))
    file_id: Mapped[int] = mapped_column(ForeignKey("statement_file.id", ondelete="RESTRICT"), index=True)
    line_key: Mapped[str] = mapped_column(String(200))
    row_number: Mapped[int]
    source: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    booked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    amount: Mapped[Decimal] = mapped_column(Fen())
    settled_amount: Mapped[Decimal] = mapped_column(Fen())
    # WeChat writes fees to five decimals; the day's sum is rounded to the fen.
    fee: Mapped[Decimal] = mapped_column(Scaled(5), default=Decimal(0))
    order_no: Mapped[str | None] = mapped_column(String(100), index=True)
    transaction_id: Mapped[str | None] = mapped_column(String(100), index=True)
    bank_reference: Mapped[str | None] = mapped_column(String(100), index=True)
    end_to_end_id: Mapped[str | None] = mapped_column(String(100))
    refund_no: Mapped[str | None] = mapped_column(String(100))
    provider_refund_id: Mapped[str | None] = mapped_column(String(100))
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_account: Mapped[str | None] = mapped_column(String(100))
    memo: Mapped[str | None] = mapped_column(String(500))


class ReconciliationMatch(Base):
    """Lines, payments and refunds that belong together, with the step that paired them and why.

    `explanation` is the matcher's phrases as stored data (`[{"code": …, "facts": {…}}]`), rendered in
    the project's language when read. `journal_entry_id` is the entry the match posted (money arriving
    in the bank, a settlement's fee), if any. A match of one line and one payment (most of them: the exact
    keys of a busy day) holds both itself, in `line_id` and `payment_id`, one row per pair; any other match
    holds what it owns through its `MatchLink`s, and a settlement its `SettledDay`s. An undone match keeps
    its row; what it held is let go (its pair cleared, its links and days gone).
    """

    __tablename__ = "reconciliation_match"
    __table_args__ = (
        Index("ux_reconciliation_match_line", "line_id", unique=True, sqlite_where=text("line_id IS NOT NULL"), postgresql_where=text("line_id IS NOT NULL")),
        Index(
            "ux_reconciliation_match_payment",
            "payment_id",
            unique=True,
            sqlite_where=text("payment_id IS NOT NULL"),
            postgresql_where=text("payment_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # project_id, line_id and payment_id name rows that are never deleted, and have no foreign keys (0027):
    # PostgreSQL checks a foreign key row by row, locking the parent row, and a group's day writes a
    # million pairs. Their writers take them from stored rows instead: the run from the lines and payments
    # it joined or read in its transaction, a resolution from the items it checked.
    project_id: Mapped[int] = mapped_column(Integer, index=True)
    step: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str | None] = mapped_column(String(100))
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    channel_fee: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    amount_difference: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    settlement: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # journal_entry_id, created_by and undone_by have none either (0026): a foreign key's check is called for
    # every row inserted, NULL or not. Users and journal entries are never deleted; the writers take them
    # from the principal acting and the entry they wrote in the same transaction.
    journal_entry_id: Mapped[int | None] = mapped_column(Integer)
    line_id: Mapped[int | None] = mapped_column(Integer)
    payment_id: Mapped[int | None] = mapped_column(Integer)
    corrects_closed_day: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = created_at_column()
    undone_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    undone_by: Mapped[int | None] = mapped_column(Integer)
    undo_reason: Mapped[str | None] = mapped_column(String(500))


class MatchLink(Base):
    """What a match holds besides its own pair: a line, a payment or a refund (a `payment_reversal` of kind
    REFUND). Each line, payment and refund is owned by one match at most (the unique indexes here and on
    the match's pair; the use cases check a pair's items against the links and the other way round)."""

    __tablename__ = "reconciliation_match_link"
    __table_args__ = (
        CheckConstraint(_ONE_TARGET, name="one_target"),
        # A link holds one target: each index leaves out the rows that hold another.
        Index("ux_match_link_line", "line_id", unique=True, sqlite_where=text("line_id IS NOT NULL"), postgresql_where=text("line_id IS NOT NULL")),
        Index("ux_match_link_payment", "payment_id", unique=True, sqlite_where=text("payment_id IS NOT NULL"), postgresql_where=text("payment_id IS NOT NULL")),
        Index("ux_match_link_reversal", "reversal_id", unique=True, sqlite_where=text("reversal_id IS NOT NULL"), postgresql_where=text("reversal_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_match.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("statement_line.id", ondelete="RESTRICT"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"))
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("payment_reversal.id", ondelete="RESTRICT"))


class SettledDay(Base):
    """A channel account's local day that a settlement match paid out (one bank credit for one or more
    days: a row per day, not per line). A day is settled once at most; undoing the settlement lets it go."""

    __tablename__ = "reconciliation_settled_day"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_match.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("statement_account.id", ondelete="RESTRICT"))
    day: Mapped[dt.date] = mapped_column(Date)


class ReconciliationException(Base):
    """Something a person must resolve: a typed finding with its difference, links and resolution."""

    __tablename__ = "reconciliation_exception"
    __table_args__ = (
        Index("ix_reconciliation_exception_project_id_status", "project_id", "status"),
        CheckConstraint("status = 'OPEN' OR (resolution IS NOT NULL AND resolved_at IS NOT NULL)", name="resolved_has_how"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[ExceptionStatus] = mapped_column(
        StrEnumColumn(ExceptionStatus, "reconciliation_exception_status"), default=ExceptionStatus.OPEN
    )
    difference: Mapped[Decimal | None] = mapped_column(Fen())
    fee_explains: Mapped[bool | None]
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    suggested_payment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    day: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = created_at_column()
    resolution: Mapped[Resolution | None] = mapped_column(StrEnumColumn(Resolution, "reconciliation_resolution"))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    resolution_reason: Mapped[str | None] = mapped_column(String(500))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    resolution_match_id: Mapped[int | None] = mapped_column(ForeignKey("reconciliation_match.id", ondelete="RESTRICT"))
    resolution_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"))
    resolution_journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id", ondelete="RESTRICT"))
    corrects_closed_day: Mapped[dt.date | None] = mapped_column(Date)


class ExceptionLink(Base):
    """A line, payment or refund an exception is about (`related`: shown for context, owned elsewhere)."""

    __tablename__ = "reconciliation_exception_link"
    __table_args__ = (
        CheckConstraint(_ONE_TARGET, name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exception_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_exception.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("statement_line.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("payment_reversal.id", ondelete="RESTRICT"))
    related: Mapped[bool] = mapped_column(default=False)


class ReconciliationRule(Base):
    """A project's matching rule, as data (`billing.reconciliation.matching.MatchRule`), tried in `position`
    order after the exact keys and settlements. A disabled rule keeps its place and is no longer tried;
    the matches it made stay and name it."""

    __tablename__ = "reconciliation_rule"
    __table_args__ = (UniqueConstraint("project_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    disabled_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class DailyClose(Base):
    """One closed day of one statement account (日清日结): a report written once and never changed."""

    __tablename__ = "daily_close"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("statement_account.id", ondelete="RESTRICT"))
    day: Mapped[dt.date] = mapped_column(Date)
    clearing_account: Mapped[str] = mapped_column(String(48))
    opening_balance: Mapped[Decimal] = mapped_column(Fen())
    closing_balance: Mapped[Decimal] = mapped_column(Fen())
    matched_count: Mapped[int]
    matched_amount: Mapped[Decimal] = mapped_column(Fen())
    exception_count: Mapped[int]
    exception_amount: Mapped[Decimal] = mapped_column(Fen())
    open_exception_count: Mapped[int]
    open_exception_amount: Mapped[Decimal] = mapped_column(Fen())
    sign_off_reason: Mapped[str | None] = mapped_column(String(500))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    closed_at: Mapped[dt.datetime] = created_at_column()
