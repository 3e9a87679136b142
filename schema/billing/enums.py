"""The enumerations of the billing schema, each registered once under its GraphQL name."""

from __future__ import annotations

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
from schema.described_enum import described_enum

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

FeeRuleKindEnum = described_enum(
    FeeRuleKind,
    name="FeeRuleKind",
    description="How a fee rule computes its charge.",
    values={
        "PER_AREA": "Unit price per m² of floor area per month (e.g. 物业费).",
        "FIXED": "A fixed amount per unit per month.",
        "METERED_TIERED": (
            "Metered usage priced in tiers (e.g. electricity, water), usage since the last billed reading."
        ),
        "APPORTIONED": (
            "A shared total split between units (公摊) by area, equally or by usage; the shares add up exactly."
        ),
    },
)
TierPeriodEnum = described_enum(
    engine.TierPeriod,
    name="TierPeriod",
    description="What a tier's bounds count.",
    values={
        "MONTH": "Tier bounds count the usage billed within each month.",
        "YEAR_TO_DATE": "Tier bounds count the usage since 1 January (as tiered electricity tariffs in China do).",
    },
)
ApportionBasisEnum = described_enum(
    engine.ApportionBasis,
    name="ApportionBasis",
    description="How an apportioned total is split between units.",
    values={
        "AREA": "In proportion to floor area.",
        "EQUAL": "Equally per unit.",
        "USAGE": "In proportion to each unit's metered usage.",
    },
)
BillStatusEnum = described_enum(
    BillStatus,
    name="BillStatus",
    description=(
        "A bill's payment status as stored; overdue is not a status but `isOverdue` (unpaid past the due date)."
    ),
    values={
        "OPEN": "Nothing paid yet.",
        "PARTIALLY_PAID": "Partly paid.",
        "PAID": "Fully paid (principal and any late fee charged).",
    },
)
BillLineKindEnum = described_enum(
    BillLineKind,
    name="BillLineKind",
    description="What a bill line is; discount and waiver lines follow the charge they reduce.",
    values={
        "CHARGE": "A charge (positive).",
        "DISCOUNT": "A discount on the charge before it (negative).",
        "WAIVER": "A waiver of the charge before it (negative).",
    },
)
PaymentChannelEnum = described_enum(
    PaymentChannel,
    name="PaymentChannel",
    description="How money came in (or goes back).",
    values={
        "WECHAT": "WeChat Pay (微信支付).",
        "ALIPAY": "Alipay (支付宝).",
        "UNIONPAY": "UnionPay (银联).",
        "BANK_TRANSFER": "Bank transfer.",
        "CASH": "Cash at the desk.",
        "POS": "Card terminal at the desk.",
    },
)
AdjustmentKindEnum = described_enum(
    AdjustmentKind,
    name="AdjustmentKind",
    description="The direction of an adjustment to an issued bill.",
    values={
        "CREDIT": "Lowers what the bill asks for.",
        "DEBIT": "Raises what the bill asks for.",
    },
)
AllocationSourceEnum = described_enum(
    AllocationSource,
    name="AllocationSource",
    description="Where money allocated to a bill came from.",
    values={
        "PAYMENT": "Money allocated to the bill when the payment came in.",
        "CREDIT": "Prepaid credit applied to the bill later (e.g. by a bill run).",
        "REVERSAL": "An allocation undone by a payment reversal (negative).",
    },
)
ReversalKindEnum = described_enum(
    ReversalKind,
    name="ReversalKind",
    description="How money goes back out of a payment.",
    values={
        "REFUND": "Unallocated credit returned to the payer.",
        "REVERSAL": "A whole payment undone (e.g. a bounced transfer).",
    },
)
PaymentIntentStatusEnum = described_enum(
    PaymentIntentStatus,
    name="PaymentIntentStatus",
    description="Where an online payment order stands.",
    values={
        "PENDING": "Waiting for the payer (until expiresAt).",
        "PAID": "The provider confirmed it; the payment was recorded.",
    },
)
BillStatusFilterEnum = described_enum(
    BillStatusFilter,
    name="BillStatusFilter",
    description="Which bills a list keeps.",
    values={
        "OPEN": "Nothing paid yet.",
        "PARTIALLY_PAID": "Partly paid.",
        "PAID": "Fully paid.",
        "OVERDUE": "Not fully paid and past the due date (today in the project's time zone).",
    },
)
