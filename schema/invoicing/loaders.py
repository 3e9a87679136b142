"""Dataloaders of the invoicing types: one statement per batch of invoices, lines or titles."""

from __future__ import annotations

from db.models import Invoice, InvoicedPayment, InvoiceLine, InvoiceSellerVersion, InvoiceTitle
from invoicing.queries import deliveries_of
from schema.batching import BatchLoaders, batched, by_id, grouped

__all__ = ["InvoicingLoaders"]


class InvoicingLoaders(BatchLoaders):
    invoice = by_id(Invoice)
    title = by_id(InvoiceTitle)
    seller = by_id(InvoiceSellerVersion)
    lines_by_invoice = grouped(InvoiceLine, InvoiceLine.invoice_id, order_by=InvoiceLine.position)
    payments_by_invoice = grouped(InvoicedPayment, InvoicedPayment.invoice_id, order_by=InvoicedPayment.payment_id)
    invoices_by_payment = grouped(InvoicedPayment, InvoicedPayment.payment_id, order_by=InvoicedPayment.invoice_id)
    corrections_by_invoice = grouped(Invoice, Invoice.corrects_invoice_id, order_by=Invoice.id)
    delivery = batched(deliveries_of)
