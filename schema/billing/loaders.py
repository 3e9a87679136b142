"""Dataloaders of the billing types: one statement per batch of bills, payments or rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

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

__all__ = ["BillingLoaders"]

Row = TypeVar("Row")


class BillingLoaders:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
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
        self.allocations_by_bill = self._grouped(PaymentAllocation, PaymentAllocation.bill_id, order_by=PaymentAllocation.id)
        self.allocations_by_payment = self._grouped(
            PaymentAllocation, PaymentAllocation.payment_id, order_by=PaymentAllocation.id
        )
        self.adjustments_by_bill = self._grouped(Adjustment, Adjustment.bill_id, order_by=Adjustment.id)
        self.reversals_by_payment = self._grouped(PaymentReversal, PaymentReversal.payment_id, order_by=PaymentReversal.id)
        self.receipts_by_payment = self._grouped(Receipt, Receipt.payment_id, order_by=Receipt.id)

    async def _rows(self, statement: Select[Any]) -> Sequence[Any]:
        async with self._session_factory() as session:
            return (await session.scalars(statement)).all()

    def _by_id(self, model: type[Row]) -> DataLoader[int, Row | None]:
        async def load(ids: list[int]) -> list[Row | None]:
            rows = await self._rows(select(model).where(model.id.in_(ids)))  # type: ignore[attr-defined]
            found = {row.id: row for row in rows}
            return [found.get(key) for key in ids]

        return DataLoader(load_fn=load)

    def _grouped(self, model: type[Row], key_column: Any, *, order_by: Any) -> DataLoader[int, list[Row]]:
        async def load(keys: list[int]) -> list[list[Row]]:
            rows = await self._rows(select(model).where(key_column.in_(keys)).order_by(order_by))
            groups: dict[int, list[Row]] = defaultdict(list)
            for row in rows:
                groups[getattr(row, key_column.key)].append(row)
            return [groups.get(key, []) for key in keys]

        return DataLoader(load_fn=load)
