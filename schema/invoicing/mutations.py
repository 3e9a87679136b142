"""Mutations of invoicing: thin calls into the invoicing use cases, each of which owns its transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry

from invoicing import batches, configuration, issuing, titles
from invoicing.buyers import Buyer
from invoicing.policy import requests_invoices
from invoicing.providers import SANDBOX
from kernel.vocabulary import InvoiceType, PartyType, TaxTreatment
from schema.context import Info
from schema.errors import result_union
from schema.ids import decode_id, decode_optional_id
from schema.invoicing.enums import InvoiceKindEnum, TaxTreatmentEnum
from schema.invoicing.queries import INVOICING_STAFF, TITLE_KEEPERS
from schema.invoicing.types import (
    InvoiceBatchType,
    InvoiceSellerType,
    InvoiceTitleType,
    InvoicingProfileType,
    TaxMappingType,
)
from schema.invoicing.types import InvoiceType as InvoiceNode
from schema.permissions import IsAuthenticated, allowed_if
from schema.scalars import PartyTypeEnum
from schema.use_cases import run_for_caller

__all__ = ["InvoicingMutations"]


@strawberry.input(description="How a project invoices.")
class SetInvoicingProfileInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    auto_issue: bool = strawberry.field(description="True: every payment gets its invoice by itself after it is recorded.")
    drawer: str | None = strawberry.field(default=None, description="The drawer (开票人) to print; 系统 when left out.")
    provider: str = strawberry.field(default=SANDBOX, description="Who issues: SANDBOX, refused in production.")
    public_url: str | None = strawberry.field(
        default=None, description="Where owners reach this service (https://wuye.example.com): delivered invoices link there."
    )


@strawberry.input(description="The seller (销售方) the project's invoices name from a day on.")
class SetInvoiceSellerInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    name: str = strawberry.field(description="The company's name.")
    tax_code: str = strawberry.field(description="Its 18-character 统一社会信用代码 (checked).")
    address: str | None = strawberry.field(default=None, description="Address to print.")
    phone: str | None = strawberry.field(default=None, description="Telephone to print.")
    bank_name: str | None = strawberry.field(default=None, description="Bank (开户行) to print.")
    bank_account: str | None = strawberry.field(default=None, description="Bank account to print.")
    effective_from: dt.date | None = strawberry.field(
        default=None, description="First day in force, today or later (the project's time zone); today when left out."
    )


@strawberry.input(description="How one fee kind is invoiced from a day on.")
class SetTaxMappingInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    fee_kind: str = strawberry.field(description="A fee rule's code in the project, or LATE_FEE or PREPAYMENT.")
    category: str = strawberry.field(description="The classification's short name, printed *category*item (e.g. 物业管理服务).")
    item_name: str = strawberry.field(description="The item as printed after the category (e.g. 物业费).")
    classification_code: str = strawberry.field(description="The 19-digit 税收分类编码.")
    rate: Decimal = strawberry.field(description="The rate as a decimal, 0 to below 1 (0.06 is 6%); 0 for EXEMPT.")
    treatment: TaxTreatmentEnum = strawberry.field(description="General, simplified or exempt.")
    unit: str | None = strawberry.field(default=None, description="计量单位 to print, if any.")
    effective_from: dt.date | None = strawberry.field(
        default=None, description="First day in force, today or later (the project's time zone); today when left out."
    )


@strawberry.input(description="Whom an invoice is made out to: a person by name, or a company with its credit code.")
class InvoiceBuyerInput:
    kind: PartyTypeEnum = strawberry.field(description="PERSON (name only) or COMPANY.")
    name: str = strawberry.field(description="名称 (at most 100 characters).")
    tax_code: str | None = strawberry.field(default=None, description="A company's 统一社会信用代码; left out for a person.")
    address: str | None = strawberry.field(default=None, description="A company's address to print.")
    phone: str | None = strawberry.field(default=None, description="A company's telephone to print.")
    bank_name: str | None = strawberry.field(default=None, description="A company's bank (开户行) to print.")
    bank_account: str | None = strawberry.field(default=None, description="A company's bank account to print.")

    def to_buyer(self) -> Buyer:
        return Buyer(
            PartyType(self.kind.value), self.name, self.tax_code, self.address, self.phone, self.bank_name, self.bank_account
        )


@strawberry.input(description="A title to keep, or its new content.")
class InvoiceTitleInput(InvoiceBuyerInput):
    is_default: bool = strawberry.field(default=False, description="Make it the default title.")


@strawberry.input(description="A title's new content.")
class UpdateInvoiceTitleInput(InvoiceTitleInput):
    id: strawberry.ID = strawberry.field(description="The title (yours).")


@strawberry.input(description="Ask for the invoice of one or more payments of one project.")
class RequestInvoiceInput:
    payment_ids: list[strawberry.ID] = strawberry.field(description="The payments (owners: your own units'), 1 to 50.")
    kind: InvoiceKindEnum = strawberry.field(default=InvoiceType.NORMAL, description="普票 (default) or 专票 (company buyers only).")
    title_id: strawberry.ID | None = strawberry.field(default=None, description="One of your titles to make it out to.")
    buyer: InvoiceBuyerInput | None = strawberry.field(
        default=None, description="Whom to make it out to, instead of a title; neither: your default title, else the payer."
    )


@strawberry.input(description="Invoice a month's payments, one invoice per party, in the background.")
class IssueInvoiceBatchInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    period: str = strawberry.field(description="The month, e.g. 2026-11 (the project's time zone).")
    kind: InvoiceKindEnum = strawberry.field(default=InvoiceType.NORMAL, description="普票 (default) or 专票 (company buyers only).")


@strawberry.type(name="DeletedInvoiceTitle", description="The title that was deleted.")
class DeletedInvoiceTitleType:
    id: strawberry.ID = strawberry.field(description="Its ID.")


SetInvoicingProfileResult = result_union(InvoicingProfileType, "SetInvoicingProfileResult")
SetInvoiceSellerResult = result_union(InvoiceSellerType, "SetInvoiceSellerResult")
SetTaxMappingResult = result_union(TaxMappingType, "SetTaxMappingResult")
CreateInvoiceTitleResult = result_union(InvoiceTitleType, "CreateInvoiceTitleResult")
UpdateInvoiceTitleResult = result_union(InvoiceTitleType, "UpdateInvoiceTitleResult")
DeleteInvoiceTitleResult = result_union(DeletedInvoiceTitleType, "DeleteInvoiceTitleResult")
RequestInvoiceResult = result_union(InvoiceNode, "RequestInvoiceResult")
IssueInvoiceBatchResult = result_union(InvoiceBatchType, "IssueInvoiceBatchResult")

REQUESTERS = [IsAuthenticated, allowed_if(requests_invoices, "Requires one of the roles ADMIN, FINANCE, OWNER.")]


@strawberry.type
class InvoicingMutations:
    @strawberry.mutation(permission_classes=INVOICING_STAFF, description="FINANCE, ADMIN: Whether the project invoices every payment by itself, and its drawer.")
    async def set_invoicing_profile(
        self, info: Info, input: Annotated[SetInvoicingProfileInput, strawberry.argument(description="The profile.")]
    ) -> SetInvoicingProfileResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: configuration.set_invoicing_profile(
                info.context.session_factory,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                auto_issue=input.auto_issue,
                drawer=input.drawer,
                provider=input.provider,
                sandbox_allowed=not info.context.production,
                public_url=input.public_url,
            ),
            InvoicingProfileType.from_row,
        )

    @strawberry.mutation(permission_classes=INVOICING_STAFF, description="FINANCE, ADMIN: Put the seller in force from a day on.")
    async def set_invoice_seller(
        self, info: Info, input: Annotated[SetInvoiceSellerInput, strawberry.argument(description="The seller.")]
    ) -> SetInvoiceSellerResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: configuration.set_invoice_seller(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                seller=configuration.SellerInput(
                    name=input.name, tax_code=input.tax_code, address=input.address, phone=input.phone,
                    bank_name=input.bank_name, bank_account=input.bank_account, effective_from=input.effective_from,
                ),
            ),
            InvoiceSellerType.from_row,
        )

    @strawberry.mutation(permission_classes=INVOICING_STAFF, description="FINANCE, ADMIN: Put a fee kind's 税收分类编码, rate and treatment in force from a day on.")
    async def set_tax_mapping(
        self, info: Info, input: Annotated[SetTaxMappingInput, strawberry.argument(description="The mapping.")]
    ) -> SetTaxMappingResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: configuration.set_tax_mapping(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                mapping=configuration.TaxMappingInput(
                    fee_kind=input.fee_kind, category=input.category, item_name=input.item_name,
                    classification_code=input.classification_code, rate=input.rate,
                    treatment=TaxTreatment(input.treatment.value), unit=input.unit, effective_from=input.effective_from,
                ),
            ),
            TaxMappingType.from_row,
        )

    @strawberry.mutation(permission_classes=TITLE_KEEPERS, description="OWNER: Keep an invoice title (the first is the default).")
    async def create_invoice_title(
        self, info: Info, input: Annotated[InvoiceTitleInput, strawberry.argument(description="The title.")]
    ) -> CreateInvoiceTitleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: titles.create_invoice_title(
                info.context.session_factory, principal, buyer=input.to_buyer(), is_default=input.is_default
            ),
            InvoiceTitleType.from_row,
        )

    @strawberry.mutation(permission_classes=TITLE_KEEPERS, description="OWNER: Change one of your invoice titles.")
    async def update_invoice_title(
        self, info: Info, input: Annotated[UpdateInvoiceTitleInput, strawberry.argument(description="The title and its content.")]
    ) -> UpdateInvoiceTitleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: titles.update_invoice_title(
                info.context.session_factory,
                principal,
                title_id=decode_id(input.id, "InvoiceTitle", field="id"),
                buyer=input.to_buyer(),
                is_default=input.is_default,
            ),
            InvoiceTitleType.from_row,
        )

    @strawberry.mutation(permission_classes=TITLE_KEEPERS, description="OWNER: Forget one of your invoice titles (invoices made out to it stay as issued).")
    async def delete_invoice_title(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The title (yours).")]
    ) -> DeleteInvoiceTitleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: titles.delete_invoice_title(
                info.context.session_factory, principal, title_id=decode_id(id, "InvoiceTitle", field="id")
            ),
            lambda deleted: DeletedInvoiceTitleType(id=id),
        )

    @strawberry.mutation(
        permission_classes=REQUESTERS,
        description=(
            "OWNER, FINANCE, ADMIN: The invoice of chosen payments (owners: their own), issued at once; asking again answers "
            "the same invoice. Refused, naming them, when fee kinds have no tax mapping."
        ),
    )
    async def request_invoice(
        self, info: Info, input: Annotated[RequestInvoiceInput, strawberry.argument(description="The payments and the buyer.")]
    ) -> RequestInvoiceResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: issuing.request_invoice(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                payment_ids=[decode_id(value, "Payment", field="paymentIds") for value in input.payment_ids],
                invoice_type=InvoiceType(input.kind.value),
                title_id=decode_optional_id(input.title_id, "InvoiceTitle", field="titleId"),
                buyer=input.buyer.to_buyer() if input.buyer is not None else None,
            ),
            InvoiceNode.from_row,
        )

    @strawberry.mutation(
        permission_classes=INVOICING_STAFF,
        description=(
            "FINANCE, ADMIN: Request one invoice per party for a month's payments not invoiced yet (merchants, agencies); "
            "the worker issues them in the background, each with its own status (see the batch's summary)."
        ),
    )
    async def issue_invoice_batch(
        self, info: Info, input: Annotated[IssueInvoiceBatchInput, strawberry.argument(description="The project and month.")]
    ) -> IssueInvoiceBatchResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: batches.issue_invoice_batch(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                period=input.period,
                invoice_type=InvoiceType(input.kind.value),
            ),
            lambda issued: InvoiceBatchType.from_row(*issued),
        )
