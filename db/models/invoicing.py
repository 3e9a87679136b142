"""Invoicing: the project's tax configuration (effective-dated, like fee rules).

Money is integer fen (`Fen()`) and rates are scaled integers, on both databases.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Scaled, StrEnumColumn, created_at_column
from kernel.vocabulary import TaxTreatment

__all__ = ["InvoiceSellerVersion", "InvoicingProfile", "TaxMappingVersion"]


class InvoicingProfile(Base):
    """How a project invoices: automatically after every payment or on request only, through which
    provider, and the name printed as the drawer (开票人)."""

    __tablename__ = "invoicing_profile"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    auto_issue: Mapped[bool] = mapped_column(default=False)
    provider: Mapped[str] = mapped_column(String(32))
    drawer: Mapped[str] = mapped_column(String(40))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class InvoiceSellerVersion(Base):
    """The seller (销售方) a project's invoices name from `effective_from` on, until the next version."""

    __tablename__ = "invoice_seller_version"
    __table_args__ = (UniqueConstraint("project_id", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(100))
    tax_code: Mapped[str] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    bank_account: Mapped[str | None] = mapped_column(String(50))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class TaxMappingVersion(Base):
    """How one fee kind is invoiced from `effective_from` on: a fee rule's code, or LATE_FEE (滞纳金) or
    PREPAYMENT (money kept as credit). The item prints as *category*name (e.g. *物业管理服务*物业费)."""

    __tablename__ = "tax_mapping_version"
    __table_args__ = (
        UniqueConstraint("project_id", "fee_kind", "effective_from"),
        CheckConstraint("rate >= 0 AND rate < 10000", name="rate_range"),
        CheckConstraint("treatment <> 'EXEMPT' OR rate = 0", name="exempt_has_no_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    fee_kind: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(40))
    item_name: Mapped[str] = mapped_column(String(60))
    classification_code: Mapped[str] = mapped_column(String(19))
    rate: Mapped[Decimal] = mapped_column(Scaled(4))
    treatment: Mapped[TaxTreatment] = mapped_column(StrEnumColumn(TaxTreatment, "tax_treatment"))
    unit: Mapped[str | None] = mapped_column(String(20))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()
