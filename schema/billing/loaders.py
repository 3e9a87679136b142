"""Dataloaders of the billing types: one statement per batch of bills, payments or rules."""

from __future__ import annotations

from collections.abc import Iterable

from db.models import (
    Adjustment,
    Bill,
    BillLine,
    BillRun,
    DiscountRule,
    FeeRule,
    FeeRuleVersion,
    LateFeePolicyVersion,
    MeterReading,
    Payment,
    PaymentAllocation,
    PaymentIntent,
    PaymentReversal,
    Receipt,
    Waiver,
)
from billing.rule_book import late_fee_policy_of
from billing.rules import LateFeePolicies
from db.batch_reads import rows_grouped_by
from schema.batching import BatchLoaders, SessionFactory, batched, by_id, grouped

__all__ = ["BillingLoaders", "late_fee_policies"]


def late_fee_policies(versions: Iterable[LateFeePolicyVersion]) -> LateFeePolicies:
    """A project's late-fee policy versions (oldest first) as the engine takes them."""
    return tuple(late_fee_policy_of(version) for version in versions)


async def _late_fee_policies(session_factory: SessionFactory, project_ids: list[int]) -> list[LateFeePolicies]:
    """Each project's late-fee policy versions as the engine takes them, converted once per project:
    every bill of a page computes its fee from them."""
    versions = await rows_grouped_by(
        session_factory,
        LateFeePolicyVersion,
        LateFeePolicyVersion.project_id,
        project_ids,
        order_by=LateFeePolicyVersion.effective_from,
        plain=True,
    )
    return [late_fee_policies(project) for project in versions]


class BillingLoaders(BatchLoaders):
    fee_rule = by_id(FeeRule)
    discount_rule = by_id(DiscountRule)
    waiver = by_id(Waiver)
    meter_reading = by_id(MeterReading)
    bill_run = by_id(BillRun)
    # Plain rows: a page of payments names a hundred bills, and every reader of this loader (`BillType`,
    # the node lookup's permission check) reads columns only.
    bill = by_id(Bill, plain=True)
    adjustment = by_id(Adjustment)
    payment = by_id(Payment)
    receipt = by_id(Receipt)
    payment_intent = by_id(PaymentIntent)
    versions_by_rule = grouped(FeeRuleVersion, FeeRuleVersion.rule_id, order_by=FeeRuleVersion.version)
    # Plain rows: a page of bills reads thirty lines and more, and `BillLineType` reads columns only.
    lines_by_bill = grouped(BillLine, BillLine.bill_id, order_by=BillLine.position, plain=True)
    allocations_by_bill = grouped(PaymentAllocation, PaymentAllocation.bill_id, order_by=PaymentAllocation.id)
    # Plain rows: a page of payments reads a hundred of each, and their readers (`PaymentType`'s
    # allocations, refunds and creditLeft) read columns only.
    allocations_by_payment = grouped(
        PaymentAllocation, PaymentAllocation.payment_id, order_by=PaymentAllocation.id, plain=True
    )
    # The same, each with its bill in `bill`: what a page of payments that shows the bills reads, in one
    # statement, to prime `allocations_by_payment` and `bill` with.
    allocations_with_bills_by_payment = grouped(
        PaymentAllocation,
        PaymentAllocation.payment_id,
        order_by=PaymentAllocation.id,
        plain=True,
        joined=(PaymentAllocation.bill,),
    )
    adjustments_by_bill = grouped(Adjustment, Adjustment.bill_id, order_by=Adjustment.id)
    reversals_by_payment = grouped(PaymentReversal, PaymentReversal.payment_id, order_by=PaymentReversal.id, plain=True)
    receipts_by_payment = grouped(Receipt, Receipt.payment_id, order_by=Receipt.id)
    late_fee_policies_by_project = batched(_late_fee_policies)
