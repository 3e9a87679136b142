"""Dataloaders of the billing types: one statement per batch of bills, payments or rules."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    Adjustment,
    Bill,
    BillLine,
    BillRun,
    DiscountRule,
    FeeRule,
    FeeRuleVersion,
    MeterReading,
    Payment,
    PaymentAllocation,
    PaymentIntent,
    PaymentReversal,
    Receipt,
    Waiver,
)
from schema.batching import BatchLoaders

__all__ = ["BillingLoaders"]


class BillingLoaders(BatchLoaders):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory)
        self.fee_rule = self._by_id(FeeRule)
        self.discount_rule = self._by_id(DiscountRule)
        self.waiver = self._by_id(Waiver)
        self.meter_reading = self._by_id(MeterReading)
        self.bill_run = self._by_id(BillRun)
        self.bill = self._by_id(Bill)
        self.adjustment = self._by_id(Adjustment)
        self.payment = self._by_id(Payment)
        self.receipt = self._by_id(Receipt)
        self.payment_intent = self._by_id(PaymentIntent)
        self.versions_by_rule = self._grouped(FeeRuleVersion, FeeRuleVersion.rule_id, order_by=FeeRuleVersion.version)
        self.lines_by_bill = self._grouped(BillLine, BillLine.bill_id, order_by=BillLine.position)
        self.allocations_by_bill = self._grouped(
            PaymentAllocation, PaymentAllocation.bill_id, order_by=PaymentAllocation.id
        )
        self.allocations_by_payment = self._grouped(
            PaymentAllocation, PaymentAllocation.payment_id, order_by=PaymentAllocation.id
        )
        self.adjustments_by_bill = self._grouped(Adjustment, Adjustment.bill_id, order_by=Adjustment.id)
        self.reversals_by_payment = self._grouped(
            PaymentReversal, PaymentReversal.payment_id, order_by=PaymentReversal.id
        )
        self.receipts_by_payment = self._grouped(Receipt, Receipt.payment_id, order_by=Receipt.id)
