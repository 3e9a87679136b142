"""Dunning (催缴): each project's policy as data, every pass and the notices it decided (with the bills
each was about and the outbox messages that carried it), and what holds dunning back: disputed bills and
payment plans.

A project without a `dunning_policy` row follows the default policy (`billing.dunning.ladder`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Fen, StrEnumColumn, UtcDateTime
from kernel.vocabulary import DunningEscalation

__all__ = ["BillDispute", "DunningLevel", "DunningNotice", "DunningNoticeBill", "DunningPolicy", "DunningRun", "PaymentPlan"]


class DunningPolicy(Base):
    """Whether the project duns, and its arrears rule for repairs; the levels are `DunningLevel` rows."""

    __tablename__ = "dunning_policy"
    __table_args__ = (CheckConstraint("repair_block_threshold IS NULL OR repair_block_threshold >= 0", name="threshold_range"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # While an owner's overdue amount is above this, non-urgent repairs in their units wait; null: off.
    repair_block_threshold: Mapped[Decimal | None] = mapped_column(Fen())
    # How to pay, as the refusal of a repair tells the owner; null: the built-in words.
    payment_instructions: Mapped[str | None] = mapped_column(String(300))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class DunningLevel(Base):
    """One level of a project's policy, in order (`position`, gentlest first); known by its `code`."""

    __tablename__ = "dunning_level"
    __table_args__ = (
        UniqueConstraint("project_id", "position"),
        UniqueConstraint("project_id", "code"),
        CheckConstraint("min_amount IS NULL OR min_amount > 0", name="min_amount_positive"),
        CheckConstraint("min_bills IS NULL OR min_bills >= 1", name="min_bills_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("dunning_policy.project_id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(16))
    days_from_due: Mapped[int]
    min_amount: Mapped[Decimal | None] = mapped_column(Fen())
    min_bills: Mapped[int | None]
    # The outbox kind of the owner's message (its template is the project's for that kind); null: none.
    kind: Mapped[str | None] = mapped_column(String(48))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    escalation: Mapped[DunningEscalation] = mapped_column(StrEnumColumn(DunningEscalation, "dunning_escalation"))


class DunningRun(Base):
    """One dunning pass over a project: on which local day, by whom (null: the worker or the command
    line), what it found and did."""

    __tablename__ = "dunning_run"
    __table_args__ = (Index("ix_dunning_run_project_id_day", "project_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    day: Mapped[dt.date] = mapped_column(Date)
    scheduled: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    run_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    accounts: Mapped[int] = mapped_column(default=0)
    notices: Mapped[int] = mapped_column(default=0)
    messages: Mapped[int] = mapped_column(default=0)
    follow_ups: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)


class DunningNotice(Base):
    """One level reached by one account: the owner's message (if the level sends one) and the finance
    desk's follow-up (if it escalates), with the figures as they stood. Its bills are `DunningNoticeBill`
    rows; its key is the owner's message's (`billing.dunning.ladder.notice_key`)."""

    __tablename__ = "dunning_notice"
    __table_args__ = (
        Index("ix_dunning_notice_project_id_unit_id", "project_id", "unit_id"),
        Index("ix_dunning_notice_follow_up_user_id", "follow_up_user_id", "follow_up_done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    run_id: Mapped[int] = mapped_column(ForeignKey("dunning_run.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    level_code: Mapped[str] = mapped_column(String(16))
    level_position: Mapped[int]
    kind: Mapped[str | None] = mapped_column(String(48))
    escalation: Mapped[DunningEscalation] = mapped_column(StrEnumColumn(DunningEscalation, "notice_escalation"))
    due_date: Mapped[dt.date] = mapped_column(Date)
    days_overdue: Mapped[int]
    amount_due: Mapped[Decimal] = mapped_column(Fen())
    late_fee: Mapped[Decimal] = mapped_column(Fen())
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="RESTRICT"), index=True)
    follow_up_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    follow_up_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="RESTRICT"), index=True)
    follow_up_done_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    follow_up_done_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    follow_up_note: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class DunningNoticeBill(Base):
    """A bill a notice was about: what the ladder reads as "this bill heard that level"."""

    __tablename__ = "dunning_notice_bill"

    notice_id: Mapped[int] = mapped_column(ForeignKey("dunning_notice.id", ondelete="CASCADE"), primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="RESTRICT"), primary_key=True, index=True)


class BillDispute(Base):
    """An owner disputes a bill: dunning holds it until the dispute is resolved (kept, with its outcome)."""

    __tablename__ = "bill_dispute"
    __table_args__ = (Index("ix_bill_dispute_bill_id_resolved_at", "bill_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(String(500))
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    resolution: Mapped[str | None] = mapped_column(String(500))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class PaymentPlan(Base):
    """An owner agreed to pay their arrears over time: dunning holds their accounts from `starts_on` to
    `ends_on` (local days), unless the plan is cancelled before."""

    __tablename__ = "payment_plan"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        Index("ix_payment_plan_party_id_ends_on", "party_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
