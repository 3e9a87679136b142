"""Mutations of issued bills: adjusting one."""

from __future__ import annotations

from decimal import Decimal

from typing import Annotated

import strawberry

from billing import adjustments
from schema.billing.bill_types import AdjustmentType
from schema.billing.common import FINANCE_ONLY, mutation_result
from schema.billing.enums import AdjustmentKindEnum
from schema.context import Info
from schema.ids import decode_id
from schema.use_cases import run_for_caller

__all__ = ["BillMutations"]


@strawberry.input(description="A correction of an issued bill.")
class CreateAdjustmentInput:
    bill_id: strawberry.ID = strawberry.field(description="The bill.")
    kind: AdjustmentKindEnum = strawberry.field(description="CREDIT lowers it, DEBIT raises it.")
    amount: Decimal = strawberry.field(
        description="Yuan, positive (decimal string); a credit no more than the bill still asks for."
    )
    reason: str = strawberry.field(description="Why (kept with you as the acting user).")


CreateAdjustmentResult = mutation_result(AdjustmentType, "CreateAdjustmentResult")


@strawberry.type
class BillMutations:
    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: Correct an issued bill: CREDIT lowers it, DEBIT raises it.")
    async def create_adjustment(
        self,
        info: Info,
        input: Annotated[CreateAdjustmentInput, strawberry.argument(description="The adjustment.")],
    ) -> CreateAdjustmentResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: adjustments.create_adjustment(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                bill_id=decode_id(input.bill_id, "Bill", field="billId"),
                kind=input.kind,
                amount=input.amount,
                reason=input.reason,
            ),
            AdjustmentType.from_row,
        )
