"""The enumerations of the billing schema, each registered once under its GraphQL name."""

from __future__ import annotations

import strawberry

from billing import model as engine
from billing.queries import BillStatusFilter
from db.models import (
    AdjustmentKind,
    AllocationSource,
    BillStatus,
    PaymentChannel,
    PaymentIntentStatus,
    ReversalKind,
)
from kernel.vocabulary import BillLineKind, FeeRuleKind

__all__ = [
    "AdjustmentKindEnum",
    "AllocationSourceEnum",
    "ApportionBasisEnum",
    "BillLineKindEnum",
    "BillStatusEnum",
    "BillStatusFilterEnum",
    "FeeRuleKindEnum",
    "PaymentChannelEnum",
    "PaymentIntentStatusEnum",
    "ReversalKindEnum",
    "TierPeriodEnum",
]

FeeRuleKindEnum = strawberry.enum(FeeRuleKind, name="FeeRuleKind")
TierPeriodEnum = strawberry.enum(engine.TierPeriod, name="TierPeriod")
ApportionBasisEnum = strawberry.enum(engine.ApportionBasis, name="ApportionBasis")
BillStatusEnum = strawberry.enum(BillStatus, name="BillStatus")
BillLineKindEnum = strawberry.enum(BillLineKind, name="BillLineKind")
PaymentChannelEnum = strawberry.enum(PaymentChannel, name="PaymentChannel")
AdjustmentKindEnum = strawberry.enum(AdjustmentKind, name="AdjustmentKind")
AllocationSourceEnum = strawberry.enum(AllocationSource, name="AllocationSource")
ReversalKindEnum = strawberry.enum(ReversalKind, name="ReversalKind")
PaymentIntentStatusEnum = strawberry.enum(PaymentIntentStatus, name="PaymentIntentStatus")
BillStatusFilterEnum = strawberry.enum(BillStatusFilter, name="BillStatusFilter")
