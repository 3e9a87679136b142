"""Mutations of money received: payments (one unit's, a payer's batch), refunds, reversals, online orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from billing import online, payments, refunds
from billing.policy import pays_online
from schema.billing.common import FINANCE_ONLY, decode_ids, mutation_result
from schema.billing.enums import PaymentChannelEnum
from schema.billing.payment_types import PaymentIntentType, PaymentType, RefundType
from schema.context import Info
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, allowed_if
from schema.use_cases import run_for_caller

__all__ = ["PaymentBatchType", "PaymentMutations"]


@strawberry.input
class RecordPaymentInput:
    unit_id: strawberry.ID
    amount: Decimal
    channel: PaymentChannelEnum
    payer_name: str
    idempotency_key: str = strawberry.field(description="Retries with the same key and payload answer the first result.")
    external_reference: str | None = None
    bill_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Bills to pay; empty: the unit's unpaid bills, oldest first."
    )
    paid_at: dt.datetime | None = None
    payer_party_id: strawberry.ID | None = None


@strawberry.input
class BatchPaymentItemInput:
    unit_id: strawberry.ID
    amount: Decimal
    bill_ids: list[strawberry.ID] | None = None


@strawberry.input
class RecordBatchPaymentInput:
    project_id: strawberry.ID
    channel: PaymentChannelEnum
    payer_name: str
    items: list[BatchPaymentItemInput]
    idempotency_key: str
    external_reference: str | None = None
    paid_at: dt.datetime | None = None


@strawberry.input
class RefundPaymentInput:
    payment_id: strawberry.ID
    amount: Decimal
    reason: str


@strawberry.input
class ReversePaymentInput:
    payment_id: strawberry.ID
    reason: str


@strawberry.type(name="PaymentBatch")
class PaymentBatchType:
    total_amount: Decimal
    payments: list[PaymentType]

    @classmethod
    def from_recorded(cls, recorded: payments.RecordedBatch) -> PaymentBatchType:
        return cls(
            total_amount=recorded.batch.total_amount,
            payments=[PaymentType.from_row(row) for row in recorded.payments],
        )


RecordPaymentResult = mutation_result(PaymentType, "RecordPaymentResult")
RecordBatchPaymentResult = mutation_result(PaymentBatchType, "RecordBatchPaymentResult")
RefundPaymentResult = mutation_result(RefundType, "RefundPaymentResult")
ReversePaymentResult = mutation_result(RefundType, "ReversePaymentResult")
CreatePaymentIntentResult = mutation_result(PaymentIntentType, "CreatePaymentIntentResult")


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="Record money received for a unit: explicit bills or oldest first, late fee before principal.",
    )
    async def record_payment(self, info: Info, input: RecordPaymentInput) -> RecordPaymentResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: payments.record_payment(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                signer=info.context.services.receipt_signer,
                request=payments.PaymentRequest(
                    unit_id=decode_id(input.unit_id, "Unit", field="unitId"),
                    channel=input.channel,
                    amount=input.amount,
                    payer_name=input.payer_name,
                    external_reference=input.external_reference,
                    bill_ids=decode_ids(input.bill_ids, "Bill", "billIds"),
                    paid_at=input.paid_at,
                    payer_party_id=decode_id(input.payer_party_id, "Party", field="payerPartyId")
                    if input.payer_party_id
                    else None,
                ),
                idempotency_key=input.idempotency_key,
            ),
            PaymentType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="One payer paying many units' bills, in one transaction.")
    async def record_batch_payment(self, info: Info, input: RecordBatchPaymentInput) -> RecordBatchPaymentResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: payments.record_batch_payment(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                signer=info.context.services.receipt_signer,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                channel=input.channel,
                payer_name=input.payer_name,
                external_reference=input.external_reference,
                items=[
                    payments.BatchItem(
                        unit_id=decode_id(item.unit_id, "Unit", field=f"items[{index}].unitId"),
                        amount=item.amount,
                        bill_ids=decode_ids(item.bill_ids, "Bill", f"items[{index}].billIds"),
                    )
                    for index, item in enumerate(input.items)
                ],
                idempotency_key=input.idempotency_key,
                paid_at=input.paid_at,
            ),
            PaymentBatchType.from_recorded,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="Give back unallocated credit of a payment.")
    async def refund_payment(self, info: Info, input: RefundPaymentInput) -> RefundPaymentResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: refunds.refund_payment(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                payment_id=decode_id(input.payment_id, "Payment", field="paymentId"),
                amount=input.amount,
                reason=input.reason,
            ),
            RefundType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="Undo a whole payment: its bills owe again.")
    async def reverse_payment(self, info: Info, input: ReversePaymentInput) -> ReversePaymentResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: refunds.reverse_payment(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                payment_id=decode_id(input.payment_id, "Payment", field="paymentId"),
                reason=input.reason,
            ),
            RefundType.from_row,
        )

    @strawberry.mutation(
        permission_classes=[
            IsAuthenticated,
            allowed_if(pays_online, "Requires one of the roles ADMIN, FINANCE, OWNER."),
        ],
        description="An online order for your bills (owners: your own units'); pay it through the returned payload.",
    )
    async def create_payment_intent(
        self,
        info: Info,
        bill_ids: list[strawberry.ID],
        channel: PaymentChannelEnum,
        provider: str = "sandbox",
    ) -> CreatePaymentIntentResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: online.create_payment_intent(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                providers=info.context.services.payment_providers,
                bill_ids=decode_ids(bill_ids, "Bill", "billIds"),
                channel=channel,
                provider_name=provider,
            ),
            lambda created: PaymentIntentType.from_row(created[0], created[1]),
        )
