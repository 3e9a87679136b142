"""Queries of invoicing: invoices as each caller may see them, owners' titles, a project's configuration."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from invoicing import batches, configuration, queries, titles
from invoicing.policy import keeps_invoice_titles, manages_invoicing
from kernel.errors import NotFound
from kernel.vocabulary import InvoiceStatus
from schema.context import Info
from schema.ids import decode_id
from schema.invoicing.enums import InvoiceColourEnum, InvoiceStatusEnum
from schema.invoicing.types import (
    InvoiceBatchType,
    InvoiceConnection,
    InvoiceTitleType,
    InvoiceType,
    InvoicingConfigurationType,
)
from schema.pagination import after_id, connection_of, empty_connection, page_size
from schema.permissions import IsAuthenticated, allowed_if, require_principal

__all__ = ["INVOICING_STAFF", "InvoiceFilter", "InvoicingQueries", "TITLE_KEEPERS"]

INVOICING_STAFF = [IsAuthenticated, allowed_if(manages_invoicing, "Requires one of the roles ADMIN, FINANCE.")]
TITLE_KEEPERS = [IsAuthenticated, allowed_if(keeps_invoice_titles, "Requires the OWNER role: titles are kept by owners.")]


@strawberry.input(description="Which invoices a list keeps; every condition given must hold.")
class InvoiceFilter:
    project_id: strawberry.ID | None = strawberry.field(default=None, description="Only this project.")
    unit_id: strawberry.ID | None = strawberry.field(default=None, description="Only this unit's.")
    number: str | None = strawberry.field(default=None, description="The 20-digit invoice number, exactly.")
    buyer: str | None = strawberry.field(default=None, description="Part of the buyer's name, or its whole credit code.")
    issued_from: dt.date | None = strawberry.field(default=None, description="Issued on this day or later (Beijing time).")
    issued_to: dt.date | None = strawberry.field(default=None, description="Issued on this day or earlier (Beijing time).")
    statuses: list[InvoiceStatusEnum] | None = strawberry.field(default=None, description="Only these statuses.")
    colour: InvoiceColourEnum | None = strawberry.field(default=None, description="Only blue or only red-letter invoices.")
    batch_id: strawberry.ID | None = strawberry.field(default=None, description="Only those of this batch.")


@strawberry.type
class InvoicingQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Invoices you may see, newest first: staff search their projects' by number, buyer, day and status; owners their own.",
    )
    async def invoices(
        self,
        info: Info,
        filter: Annotated[InvoiceFilter | None, strawberry.argument(description="Narrow the list.")] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1 to 100 (default 50).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> InvoiceConnection:
        principal = await require_principal(info)
        size, start_after = page_size(first), after_id(after)
        wanted = filter or InvoiceFilter()
        try:
            search = queries.InvoiceSearch(
                project_id=decode_id(wanted.project_id, "Project", field="projectId") if wanted.project_id else None,
                unit_id=decode_id(wanted.unit_id, "Unit", field="unitId") if wanted.unit_id else None,
                number=wanted.number,
                buyer=wanted.buyer,
                issued_from=wanted.issued_from,
                issued_to=wanted.issued_to,
                statuses=tuple(InvoiceStatus(status.value) for status in wanted.statuses or []),
                colour=wanted.colour,
                batch_id=decode_id(wanted.batch_id, "InvoiceBatch", field="batchId") if wanted.batch_id else None,
            )
        except NotFound:
            return empty_connection(InvoiceConnection)
        page = await queries.list_invoices(info.context.session_factory, principal, search=search, limit=size, after_id=start_after)
        return connection_of(InvoiceConnection, page, size, InvoiceType.from_row)

    @strawberry.field(permission_classes=TITLE_KEEPERS, description="OWNER: The invoice titles you keep, the default first.")
    async def invoice_titles(self, info: Info) -> list[InvoiceTitleType]:
        principal = await require_principal(info)
        return [InvoiceTitleType.from_row(row) for row in await titles.list_invoice_titles(info.context.session_factory, principal)]

    @strawberry.field(
        permission_classes=INVOICING_STAFF,
        description="FINANCE, ADMIN: The project's tax configuration (profile, seller, tax mappings); null for a project not yours.",
    )
    async def invoicing_configuration(
        self, info: Info, project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")]
    ) -> InvoicingConfigurationType | None:
        principal = await require_principal(info)
        try:
            found = await configuration.get_invoicing_configuration(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except NotFound:
            return None
        return InvoicingConfigurationType.from_configuration(found)

    @strawberry.field(permission_classes=INVOICING_STAFF, description="FINANCE, ADMIN: The project's invoice batches, newest first, each with its summary.")
    async def invoice_batches(
        self, info: Info, project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")]
    ) -> list[InvoiceBatchType]:
        principal = await require_principal(info)
        try:
            found = await batches.list_invoice_batches(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except NotFound:
            return []
        return [InvoiceBatchType.from_row(batch, summary) for batch, summary in found]
