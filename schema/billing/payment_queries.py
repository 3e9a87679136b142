"""Queries of money received: payments the caller may see, and checking a receipt."""

from __future__ import annotations

from typing import Annotated

import strawberry

from billing import queries
from billing.receipts import verify_receipt
from kernel.errors import NotFound
from schema.billing.payment_types import PaymentType, ReceiptType
from schema.context import Info
from schema.ids import decode_id
from schema.pagination import (
    CountedConnection,
    after_id,
    connection_of,
    empty_connection,
    page_size,
    selected_on_nodes,
    selected_under,
)
from schema.permissions import IsAuthenticated, require_principal

__all__ = ["PaymentConnection", "PaymentFilter", "PaymentQueries", "ReceiptVerificationType"]


@strawberry.input(description="Which payments a list keeps.")
class PaymentFilter:
    project_id: strawberry.ID | None = strawberry.field(default=None, description="Only this project.")
    unit_id: strawberry.ID | None = strawberry.field(default=None, description="Only this unit.")


# The receipt's fields that read its signed content; a page whose receipts show none reads it not.
_RECEIPT_CONTENT_FIELDS = frozenset({"content", "signature"})


@strawberry.type(name="PaymentConnection", description="A page of payments.")
class PaymentConnection(CountedConnection[PaymentType]):
    pass


@strawberry.type(name="ReceiptVerification", description="The answer of verifyReceipt.")
class ReceiptVerificationType:
    genuine: bool = strawberry.field(
        description="True when the signature matches the content and the receipt is on record unchanged."
    )
    reason: str = strawberry.field(description="Why not, in English (or what was verified).")
    receipt: ReceiptType | None = strawberry.field(description="The receipt on record, when genuine and yours to see.")


@strawberry.type
class PaymentQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Payments you may see.")
    async def payments(
        self,
        info: Info,
        filter: Annotated[PaymentFilter | None, strawberry.argument(description="Narrow the list.")] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1 to 100 (default 50).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> PaymentConnection:
        principal = await require_principal(info)
        size, start_after = page_size(first), after_id(after)
        filter = filter or PaymentFilter()
        try:
            spec = queries.PaymentFilterSpec(
                project_id=decode_id(filter.project_id, "Project", field="projectId") if filter.project_id else None,
                unit_id=decode_id(filter.unit_id, "Unit", field="unitId") if filter.unit_id else None,
            )
        except NotFound:
            return empty_connection(PaymentConnection)
        selected = selected_on_nodes(info)
        page = await queries.list_payments(
            info.context.session_factory, principal, spec=spec, limit=size, after_id=start_after,
            with_units="unit" in selected,
            with_receipt_content=bool(selected_under(selected.get("receipt", [])).keys() & _RECEIPT_CONTENT_FIELDS),
        )
        # The row beyond the page only tells that another page follows: nothing is read for it.
        present = await PaymentType.read_for_page(info, page.rows[:size], selected)
        return connection_of(PaymentConnection, page, size, present)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Whether a presented receipt (its content and signature) is genuine and unaltered.",
    )
    async def verify_receipt(
        self,
        info: Info,
        content: Annotated[str, strawberry.argument(description="The receipt's `content` exactly as issued.")],
        signature: Annotated[str, strawberry.argument(description="The receipt's base64 `signature`.")],
    ) -> ReceiptVerificationType:
        result = await verify_receipt(
            info.context.session_factory, signer=info.context.services.receipt_signer, content=content, signature=signature
        )
        receipt = None
        if result.receipt is not None:
            # The verdict is for anyone holding the receipt; the receipt itself only for who may see it.
            (receipt,) = await ReceiptType.resolve_nodes(info=info, node_ids=[str(result.receipt.id)])
        return ReceiptVerificationType(genuine=result.genuine, reason=result.reason, receipt=receipt)

    @strawberry.field(permission_classes=[IsAuthenticated], description="The public key receipts are signed with (base64, raw Ed25519).")
    def receipt_public_key(self, info: Info) -> str:
        return info.context.services.receipt_signer.public_key_base64
