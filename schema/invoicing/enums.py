"""The enumerations of the invoicing schema, each registered once under its GraphQL name."""

from __future__ import annotations

from kernel.vocabulary import InvoiceColour, InvoiceStatus, InvoiceType, TaxTreatment
from schema.described_enum import described_enum

__all__ = ["InvoiceColourEnum", "InvoiceKindEnum", "InvoiceStatusEnum", "TaxTreatmentEnum"]

InvoiceKindEnum = described_enum(
    InvoiceType,
    name="InvoiceKind",
    description="Which VAT invoice (票种).",
    values={
        "NORMAL": "普通发票 (普票): for anyone.",
        "SPECIAL": "增值税专用发票 (专票): the buyer credits its input tax; a company buyer only.",
    },
)
InvoiceColourEnum = described_enum(
    InvoiceColour,
    name="InvoiceColour",
    description="Blue issues an amount; red (红字发票) takes back part or all of a blue invoice, which is never edited.",
    values={
        "BLUE": "A blue invoice (蓝字发票): money received.",
        "RED": "A red-letter invoice (红字发票): negative, after a refund or reversal, naming the blue one (`corrects`).",
    },
)
InvoiceStatusEnum = described_enum(
    InvoiceStatus,
    name="InvoiceStatus",
    description="Where an invoice stands.",
    values={
        "PENDING": "Requested, not yet issued (automatic invoices are issued moments after the payment).",
        "ISSUED": "Issued with its number, PDF and XML; never changes again.",
        "FAILED": "Not issued, `failureReason` says why (e.g. a fee kind without a tax mapping); asking again retries it.",
        "CANCELLED": "Never issued: the payment was reversed or refunded in full first.",
    },
)
TaxTreatmentEnum = described_enum(
    TaxTreatment,
    name="TaxTreatment",
    description="How VAT is charged on a fee kind.",
    values={
        "GENERAL": "一般计税: output tax at the rate (6%, 9%, 13%, or 0 for zero-rated).",
        "SIMPLIFIED": "简易计税: at a levy rate (征收率, e.g. 3% or 5%).",
        "EXEMPT": "免税: no tax; the rate is 0 and prints as 免税.",
    },
)
