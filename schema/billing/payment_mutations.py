"""Mutations of money received: payments (one unit's, a payer's batch), refunds, reversals, online orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated

import strawberry

from billing import online, payments, refunds
from billing.policy import pays_online
from schema.billing.common import FINANCE_ONLY, decode_ids, mutation_result
from schema.billing.enums import PaymentChannelEnum
from schema.billing.payment_types import PaymentIntentType, PaymentType, RefundType
from schema.context import Info
from schema.ids import decode_id
from schema.invoicing.mutations import InvoiceBuyerInput
from schema.permissions import IsAuthenticated, allowed_if
from schema.use_cases import run_for_caller

__all__ = ["PaymentBatchType", "PaymentMutations"]


@strawberry.input(description="Money received for one unit.")
class RecordPaymentInput:
    unit_id: strawberry.ID = strawberry.field(description="The unit.")
    amount: Decimal = strawberry.field(
        description="Yuan received, positive (decimal string); what no bill takes becomes prepaid credit."
    )
    channel: PaymentChannelEnum = strawberry.field(description="How it came in.")
    payer_name: str = strawberry.field(description="Who paid.")
    idempotency_key: str = strawberry.field(description="Retries with the same key and payload answer the first result.")
    external_reference: str | None = strawberry.field(
        default=None, description="The channel's reference (bank or gateway transaction number)."
    )
    bill_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Bills to pay; empty: the unit's unpaid bills, oldest first."
    )
    paid_at: dt.datetime | None = strawberry.field(
        default=None,
        description=(
            "When it was paid (UTC timestamp, not in the future); default now. The late fee is counted to this day."
        ),
    )
    payer_party_id: strawberry.ID | None = strawberry.field(default=None, description="The paying party, if on record.")


@strawberry.input(description="One unit's part of a batch payment.")
class BatchPaymentItemInput:
    unit_id: strawberry.ID = strawberry.field(description="The unit.")
    amount: Decimal = strawberry.field(description="Yuan for it (decimal string).")
    bill_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Bills to pay; left out: its unpaid bills, oldest first."
    )


@strawberry.input(description="One payer paying several units at once (at most 500 items).")
class RecordBatchPaymentInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    channel: PaymentChannelEnum = strawberry.field(description="How it came in.")
    payer_name: str = strawberry.field(description="Who paid.")
    items: list[BatchPaymentItemInput] = strawberry.field(description="One item per unit, 1 to 500.")
    idempotency_key: str = strawberry.field(
        description="Retries with the same key and payload answer the first result."
    )
    external_reference: str | None = strawberry.field(default=None, description="The channel's reference.")
    paid_at: dt.datetime | None = strawberry.field(
        default=None, description="When it was paid (UTC, not in the future); default now."
    )


@strawberry.input(description="Give back credit a payment left unallocated.")
class RefundPaymentInput:
    payment_id: strawberry.ID = strawberry.field(description="The payment.")
    amount: Decimal = strawberry.field(description="Yuan, positive, at most its unallocated credit.")
    reason: str = strawberry.field(description="Why.")


@strawberry.input(description="Undo a whole payment (e.g. a bounced transfer).")
class ReversePaymentInput:
    payment_id: strawberry.ID = strawberry.field(description="The payment.")
    reason: str = strawberry.field(description="Why.")


def _present_payments(info: Info, recorded: Sequence[payments.RecordedPayment]) -> list[PaymentType]:
    """The payments as a mutation answers them. What this call just wrote (receipts and allocations, and
    no refunds yet) is handed to the operation's loaders, so the answer shows it without reading it back;
    a payment an idempotency key answered from before is read as any other."""
    billing = info.context.loaders.billing
    booked = [(row.payment.id, row.booked) for row in recorded if row.booked is not None]
    billing.receipts_by_payment.prime_many({payment_id: [written.receipt] for payment_id, written in booked})
    billing.allocations_by_payment.prime_many({payment_id: list(written.allocations) for payment_id, written in booked})
    billing.reversals_by_payment.prime_many({payment_id: [] for payment_id, _ in booked})
    return [PaymentType.from_row(row.payment) for row in recorded]


@strawberry.type(name="PaymentBatch", description="The payments a batch recorded.")
class PaymentBatchType:
    total_amount: Decimal = strawberry.field(description="Yuan, all items.")
    payments: list[PaymentType] = strawberry.field(description="One payment per item, in order.")

    @classmethod
    def from_recorded(cls, info: Info, recorded: payments.RecordedBatch) -> PaymentBatchType:
        return cls(total_amount=recorded.batch.total_amount, payments=_present_payments(info, recorded.payments))


RecordPaymentResult = mutation_result(PaymentType, "RecordPaymentResult")
RecordBatchPaymentResult = mutation_result(PaymentBatchType, "RecordBatchPaymentResult")
RefundPaymentResult = mutation_result(RefundType, "RefundPaymentResult")
ReversePaymentResult = mutation_result(RefundType, "ReversePaymentResult")
CreatePaymentIntentResult = mutation_result(PaymentIntentType, "CreatePaymentIntentResult")


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Record money received for a unit: explicit bills or oldest first, late fee before principal.",
    )
    async def record_payment(
        self,
        info: Info,
        input: Annotated[RecordPaymentInput, strawberry.argument(description="The payment.")],
    ) -> RecordPaymentResult:  # type: ignore[valid-type]
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
            lambda recorded: _present_payments(info, [recorded])[0],
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: One payer paying many units' bills, in one transaction.")
    async def record_batch_payment(
        self,
        info: Info,
        input: Annotated[
            RecordBatchPaymentInput,
            strawberry.argument(description="The payer and one item per unit."),
        ],
    ) -> RecordBatchPaymentResult:  # type: ignore[valid-type]
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
            lambda recorded: PaymentBatchType.from_recorded(info, recorded),
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: Give back unallocated credit of a payment.")
    async def refund_payment(
        self,
        info: Info,
        input: Annotated[
            RefundPaymentInput,
            strawberry.argument(description="The payment and what to give back."),
        ],
    ) -> RefundPaymentResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: Undo a whole payment: its bills owe again.")
    async def reverse_payment(
        self,
        info: Info,
        input: Annotated[ReversePaymentInput, strawberry.argument(description="The payment and why.")],
    ) -> ReversePaymentResult:  # type: ignore[valid-type]
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
        description="OWNER, FINANCE, ADMIN: An online order for your bills (owners: your own units'); pay it through the returned payload.",
    )
    async def create_payment_intent(
        self,
        info: Info,
        bill_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="The bills to pay (your own units' for owners), of one unit."),
        ],
        channel: Annotated[
            PaymentChannelEnum,
            strawberry.argument(description="WECHAT or ALIPAY (what the provider offers)."),
        ],
        provider: Annotated[
            str,
            strawberry.argument(
                description="The gateway; `sandbox` (development, or when enabled) unless configured otherwise."
            ),
        ] = "sandbox",
        invoice_title_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="One of your invoice titles (抬头): the payment's invoice is made out to it."),
        ] = None,
        invoice_title: Annotated[
            InvoiceBuyerInput | None,
            strawberry.argument(description="A new title to make the invoice out to, kept among yours (a company's with a valid credit code)."),
        ] = None,
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
                invoice_title_id=decode_id(invoice_title_id, "InvoiceTitle", field="invoiceTitleId") if invoice_title_id else None,
                invoice_title=invoice_title.to_buyer() if invoice_title is not None else None,
            ),
            lambda created: PaymentIntentType.from_row(created[0], created[1]),
        )
