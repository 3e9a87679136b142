"""Invoicing: the project's tax configuration (effective-dated, like fee rules), owners' invoice titles,
and the invoices with their lines and the payments they cover.

Money is integer fen (`Fen()`) and rates are scaled integers, on both databases. An issued invoice and
its lines are never updated or deleted: a red-letter invoice takes them back. Until it is issued an
invoice is a request (PENDING, or FAILED with the reason), which issuing completes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Fen, Scaled, StrEnumColumn, UtcDateTime, created_at_column
from kernel.vocabulary import InvoiceColour, InvoiceStatus, InvoiceType, PartyType, TaxTreatment

__all__ = [
    "Invoice",
    "InvoiceBatch",
    "InvoiceLine",
    "InvoiceSellerVersion",
    "InvoiceTitle",
    "InvoicedPayment",
    "InvoicingProfile",
    "TaxMappingVersion",
]


class InvoicingProfile(Base):
    """How a project invoices: automatically after every payment or on request only, through which
    provider, and the name printed as the drawer (开票人)."""

    __tablename__ = "invoicing_profile"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    auto_issue: Mapped[bool] = mapped_column(default=False)
    provider: Mapped[str] = mapped_column(String(32))
    drawer: Mapped[str] = mapped_column(String(40))
    public_url: Mapped[str | None] = mapped_column(String(200))
    """Where owners reach this deployment (https://wuye.example.com): the base of delivered download links."""
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


class InvoiceTitle(Base):
    """An invoice title (发票抬头) a party keeps: whom their invoices are made out to."""

    __tablename__ = "invoice_title"
    __table_args__ = (Index("ix_invoice_title_party_id", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="CASCADE"))
    kind: Mapped[PartyType] = mapped_column(StrEnumColumn(PartyType, "invoice_title_kind"))
    name: Mapped[str] = mapped_column(String(100))
    tax_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    bank_account: Mapped[str | None] = mapped_column(String(50))
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = created_at_column()


class InvoiceBatch(Base):
    """One run of batch issuing: an invoice per party for the period's payments not invoiced yet, issued
    in the background; each invoice keeps its own status, the batch counts them."""

    __tablename__ = "invoice_batch"
    __table_args__ = (
        Index("ix_invoice_batch_project_id_period", "project_id", "period"),
        CheckConstraint("skipped_payments >= 0", name="skipped_payments_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(7))
    invoice_type: Mapped[InvoiceType] = mapped_column(StrEnumColumn(InvoiceType, "invoice_batch_type"))
    skipped_payments: Mapped[int] = mapped_column(default=0)
    skipped_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class Invoice(Base):
    """One invoice: blue, or red taking back part of a blue one (`corrects_invoice_id`), made out to the
    buyer copied here when it was requested. Its number, totals, lines and `xml` (the EInvoice document
    exactly as the provider issued it, from which its PDF is drawn) come with issuing."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("number"),
        UniqueConstraint("reversal_id"),
        UniqueConstraint("download_key"),
        CheckConstraint("(colour = 'RED') = (corrects_invoice_id IS NOT NULL)", name="red_corrects_an_invoice"),
        CheckConstraint("(status = 'ISSUED') = (number IS NOT NULL)", name="issued_has_a_number"),
        CheckConstraint("(status = 'ISSUED') = (xml IS NOT NULL)", name="issued_has_its_document"),
        Index("ix_invoice_project_id_status", "project_id", "status"),
        Index("ix_invoice_project_id_issued_at", "project_id", "issued_at"),
        Index("ix_invoice_unit_id", "unit_id"),
        Index("ix_invoice_party_id", "party_id"),
        Index("ix_invoice_corrects_invoice_id", "corrects_invoice_id"),
        Index("ix_invoice_batch_id", "batch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    colour: Mapped[InvoiceColour] = mapped_column(StrEnumColumn(InvoiceColour, "invoice_colour"))
    invoice_type: Mapped[InvoiceType] = mapped_column(StrEnumColumn(InvoiceType, "invoice_type"))
    status: Mapped[InvoiceStatus] = mapped_column(StrEnumColumn(InvoiceStatus, "invoice_status"))
    number: Mapped[str | None] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"))
    title_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_title.id", ondelete="SET NULL"))
    buyer_kind: Mapped[PartyType] = mapped_column(StrEnumColumn(PartyType, "invoice_buyer_kind"))
    buyer_name: Mapped[str] = mapped_column(String(100))
    buyer_tax_code: Mapped[str | None] = mapped_column(String(18))
    buyer_address: Mapped[str | None] = mapped_column(String(200))
    buyer_phone: Mapped[str | None] = mapped_column(String(40))
    buyer_bank_name: Mapped[str | None] = mapped_column(String(100))
    buyer_bank_account: Mapped[str | None] = mapped_column(String(50))
    corrects_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"))
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("payment_reversal.id", ondelete="RESTRICT"))
    seller_version_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_seller_version.id", ondelete="RESTRICT"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_batch.id", ondelete="RESTRICT"))
    net_total: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    gross_total: Mapped[Decimal] = mapped_column(Fen(), default=Decimal(0))
    remark: Mapped[str | None] = mapped_column(String(200))
    xml: Mapped[str | None] = mapped_column(Text)
    download_key: Mapped[str | None] = mapped_column(String(32))
    """Given with issuing: the secret part of the links its delivery sends (whoever holds it may download)."""
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    issued_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[dt.datetime] = created_at_column()


class InvoiceLine(Base):
    """One item of an issued invoice: a payment's share of one fee kind, tax-inclusive `amount` split into
    `net` and `tax`; on a red invoice negative, naming the blue line it takes back."""

    __tablename__ = "invoice_line"
    __table_args__ = (
        CheckConstraint("net + tax = amount", name="net_and_tax_add_up"),
        Index("ix_invoice_line_payment_id", "payment_id"),
    )

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"))
    fee_kind: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    item_name: Mapped[str] = mapped_column(String(60))
    classification_code: Mapped[str] = mapped_column(String(19))
    unit: Mapped[str | None] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Scaled(6))
    unit_price: Mapped[Decimal] = mapped_column(Scaled(6))
    rate: Mapped[Decimal] = mapped_column(Scaled(4))
    treatment: Mapped[TaxTreatment] = mapped_column(StrEnumColumn(TaxTreatment, "invoice_line_treatment"))
    amount: Mapped[Decimal] = mapped_column(Fen())
    net: Mapped[Decimal] = mapped_column(Fen())
    tax: Mapped[Decimal] = mapped_column(Fen())
    mapping_id: Mapped[int | None] = mapped_column(ForeignKey("tax_mapping_version.id", ondelete="RESTRICT"))
    original_position: Mapped[int | None]


class InvoicedPayment(Base):
    """The blue invoice that covers a payment: one per payment, ever (the primary key says so)."""

    __tablename__ = "invoiced_payment"
    __table_args__ = (Index("ix_invoiced_payment_invoice_id", "invoice_id"),)

    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"))
