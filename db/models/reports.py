"""The morning reports' facts (`billing.reports.facts`): rows written in the same transaction as the money
they summarise, so that the collection rate and the arrears ageing as of any day read a few small rows
instead of the journal. They hold integer fen and local days (the project's time zone); the books stay
the truth, and a check recomputes the facts from them (`billing.reports.facts.facts_discrepancies`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

__all__ = ["OPEN_UNTIL_FURTHER_NOTICE", "ArrearsSpan", "CollectionFlow", "CollectionFlowMonth", "SettledResidual"]

OPEN_UNTIL_FURTHER_NOTICE = dt.date(9999, 12, 31)
"""The `open_until` of a span still open: a real date, so one index range finds spans open on a day."""


class CollectionFlow(Base):
    """What the bills of one period, building and issue day did to one fee kind on one day, summed:
    receivable (net charges on the issue day, adjustments on the day booked) and collected (each kind's
    change of its waterfall share as cash was applied or taken back)."""

    __tablename__ = "collection_flow"
    # The collection rate reads the days of the report day's month only (`CollectionFlowMonth` the rest).
    __table_args__ = (Index("ix_collection_flow_project_id_day", "project_id", "day"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="RESTRICT"), primary_key=True)
    issued_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    fee_kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    receivable: Mapped[int] = mapped_column(BigInteger)
    collected: Mapped[int] = mapped_column(BigInteger)


class CollectionFlowMonth(Base):
    """`CollectionFlow` summed per calendar month of its day (`month` is the month's first day), written
    with it by every writer: the collection rate of a year reads a row per month where the flows have one
    per day with money (17 times fewer rows at 20,000 flats), and the report day's own month from the days."""

    __tablename__ = "collection_flow_month"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="RESTRICT"), primary_key=True)
    issued_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    fee_kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    receivable: Mapped[int] = mapped_column(BigInteger)
    collected: Mapped[int] = mapped_column(BigInteger)


class SettledResidual(Base):
    """While a bill owes nothing, what one of its fee kinds still shows open against its credit adjustment
    (negative for the adjustment kind), from the day it was settled until the day it next moved."""

    __tablename__ = "settled_residual"
    __table_args__ = (Index("ix_settled_residual_project_id_period", "project_id", "period"),)

    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="RESTRICT"), primary_key=True)
    fee_kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    settled_from: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    settled_until: Mapped[dt.date] = mapped_column(Date)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(7))
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="RESTRICT"))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)


class ArrearsSpan(Base):
    """A bill's receivable balance (not zero) from the day it took it until the day it next changed
    (`OPEN_UNTIL_FURTHER_NOTICE` while it holds), with what the ageing groups and ages it by."""

    __tablename__ = "arrears_span"
    # On PostgreSQL the index carries every column the ageing reads, so the spans open on a day are read
    # from the index alone: at 100,000 flats the 139,000 open today lie on nearly every page of the table
    # (21,000 pages read, against 1,000 of the index).
    __table_args__ = (
        Index(
            "ix_arrears_span_project_id_open_until",
            "project_id",
            "open_until",
            postgresql_include=["open_from", "unit_id", "building_id", "party_id", "due_date", "bill_id", "balance"],
        ),
    )

    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="RESTRICT"), primary_key=True)
    open_from: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    open_until: Mapped[dt.date] = mapped_column(Date)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="RESTRICT"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"))
    due_date: Mapped[dt.date] = mapped_column(Date)
    balance: Mapped[int] = mapped_column(BigInteger)
