"""Queries of billing: thin calls into the billing services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import relay

from billing import queries as reads
from billing import readings, rule_admin
from billing.guards import get_project
from billing.ledger_check import ledger_check
from billing.policy import manages_billing, may_manage_charges
from billing.receipts import verify_receipt
from kernel.errors import NotFound
from schema.billing.types import (
    BillingPolicyType,
    BillRunType,
    BillType,
    DiscountRuleType,
    FeeRuleType,
    MeterReadingType,
    PaymentType,
    ReceiptType,
    WaiverType,
)
from schema.context import Info
from schema.ids import decode_id
from schema.pagination import after_id, edges_and_page_info, page_size
from schema.permissions import IsAuthenticated, allowed_if, require_principal
from schema.units.types import UnitType

__all__ = [
    "BillConnection",
    "BillFilter",
    "BillStatusFilterEnum",
    "BillingQueries",
    "LedgerCheckType",
    "PaymentConnection",
    "PaymentFilter",
]

FINANCE_ONLY = [IsAuthenticated, allowed_if(manages_billing, "Requires one of the roles ADMIN, FINANCE.")]

BillStatusFilterEnum = strawberry.enum(reads.BillStatusFilter, name="BillStatusFilter")


@strawberry.input
class BillFilter:
    project_id: strawberry.ID | None = None
    status: BillStatusFilterEnum | None = strawberry.field(
        default=None, description="OVERDUE: unpaid and past the due date."
    )
    period: str | None = None
    building_id: strawberry.ID | None = None
    unit_id: strawberry.ID | None = None
    party_id: strawberry.ID | None = None


@strawberry.input
class PaymentFilter:
    project_id: strawberry.ID | None = None
    unit_id: strawberry.ID | None = None


@strawberry.type(name="BillConnection")
class BillConnection(relay.Connection[BillType]):
    total_count: int


@strawberry.type(name="PaymentConnection")
class PaymentConnection(relay.Connection[PaymentType]):
    total_count: int


@strawberry.type(name="MeterReadingConnection")
class MeterReadingConnection(relay.Connection[MeterReadingType]):
    pass


@strawberry.type(name="LedgerCheck", description="Whether the project's books balance, and what does not if not.")
class LedgerCheckType:
    ok: bool
    total_debit: Decimal
    total_credit: Decimal
    entries: int
    bills_checked: int
    payments_checked: int
    problems: list[str]


@strawberry.type(name="StatementEntry")
class StatementEntryType:
    occurred_at: dt.datetime
    kind: str
    description: str
    amount: Decimal = strawberry.field(description="> 0 raises what the unit owes, < 0 lowers it.")
    balance: Decimal = strawberry.field(description="Running balance: owed minus prepaid credit.")
    bill_ids: list[strawberry.ID]
    payment_ids: list[strawberry.ID]


@strawberry.type(name="UnitStatement")
class UnitStatementType:
    unit: UnitType
    entries: list[StatementEntryType]
    amount_owed: Decimal
    prepaid_credit: Decimal
    balance: Decimal


@strawberry.type(name="ReceiptVerification")
class ReceiptVerificationType:
    genuine: bool
    reason: str
    receipt: ReceiptType | None


def _gid(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID(type_name, str(pk))))


def _empty(connection: type) -> object:
    return connection(edges=[], page_info=relay.PageInfo(has_next_page=False, has_previous_page=False), total_count=0)


@strawberry.type
class BillingQueries:
    @strawberry.field(permission_classes=FINANCE_ONLY, description="A project's fee rules with their version history.")
    async def fee_rules(self, info: Info, project_id: strawberry.ID) -> list[FeeRuleType]:
        principal = await require_principal(info)
        async with info.context.session_factory() as session:
            try:
                rules = await rule_admin.list_fee_rules(
                    session, principal, project_id=decode_id(project_id, "Project", field="projectId")
                )
            except NotFound:
                return []
        for rule, versions in rules:
            info.context.loaders.billing.versions_by_rule.prime(rule.id, versions)
        return [FeeRuleType.from_row(rule) for rule, _ in rules]

    @strawberry.field(permission_classes=FINANCE_ONLY)
    async def discount_rules(self, info: Info, project_id: strawberry.ID) -> list[DiscountRuleType]:
        principal = await require_principal(info)
        async with info.context.session_factory() as session:
            try:
                rows = await rule_admin.list_discount_rules(
                    session, principal, project_id=decode_id(project_id, "Project", field="projectId")
                )
            except NotFound:
                return []
        return [DiscountRuleType.from_row(row) for row in rows]

    @strawberry.field(permission_classes=FINANCE_ONLY)
    async def waivers(self, info: Info, project_id: strawberry.ID) -> list[WaiverType]:
        principal = await require_principal(info)
        async with info.context.session_factory() as session:
            try:
                rows = await rule_admin.list_waivers(
                    session, principal, project_id=decode_id(project_id, "Project", field="projectId")
                )
            except NotFound:
                return []
        return [WaiverType.from_row(row) for row in rows]

    @strawberry.field(permission_classes=FINANCE_ONLY, description="Billing cycle, due days and late-fee policy.")
    async def billing_policy(self, info: Info, project_id: strawberry.ID) -> BillingPolicyType | None:
        principal = await require_principal(info)
        async with info.context.session_factory() as session:
            try:
                project = decode_id(project_id, "Project", field="projectId")
                await get_project(session, principal, project, allowed=may_manage_charges)
            except NotFound:
                return None
            return BillingPolicyType.from_policies(await rule_admin.load_policies(session, project))

    @strawberry.field(permission_classes=FINANCE_ONLY, description="Readings whose usage exceeds 3× the trailing average.")
    async def flagged_readings(
        self, info: Info, project_id: strawberry.ID, first: int | None = None, after: str | None = None
    ) -> MeterReadingConnection:
        principal = await require_principal(info)
        size, start_after = page_size(first), after_id(after)
        async with info.context.session_factory() as session:
            try:
                rows = await readings.flagged_readings(
                    session,
                    principal,
                    project_id=decode_id(project_id, "Project", field="projectId"),
                    limit=size + 1,
                    after_id=start_after,
                )
            except NotFound:
                rows = []
        edges, page_info = edges_and_page_info(rows, size, MeterReadingType.from_row)
        return MeterReadingConnection(edges=edges, page_info=page_info)

    @strawberry.field(permission_classes=FINANCE_ONLY, description="A project's bill runs, newest period first.")
    async def bill_runs(self, info: Info, project_id: strawberry.ID) -> list[BillRunType]:
        principal = await require_principal(info)
        async with info.context.session_factory() as session:
            try:
                rows = await reads.list_bill_runs(
                    session, principal, project_id=decode_id(project_id, "Project", field="projectId")
                )
            except NotFound:
                return []
        return [BillRunType.from_row(row) for row in rows]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Bills you may see: your units', or your project's as finance staff.")
    async def bills(
        self, info: Info, filter: BillFilter | None = None, first: int | None = None, after: str | None = None
    ) -> BillConnection:
        principal = await require_principal(info)
        size, start_after = page_size(first), after_id(after)
        filter = filter or BillFilter()
        try:
            spec = reads.BillFilterSpec(
                project_id=decode_id(filter.project_id, "Project", field="projectId") if filter.project_id else None,
                status=filter.status,
                period=filter.period,
                building_id=decode_id(filter.building_id, "Building", field="buildingId") if filter.building_id else None,
                unit_id=decode_id(filter.unit_id, "Unit", field="unitId") if filter.unit_id else None,
                party_id=decode_id(filter.party_id, "Party", field="partyId") if filter.party_id else None,
            )
        except NotFound:
            return _empty(BillConnection)  # type: ignore[return-value]
        async with info.context.session_factory() as session:
            rows, total = await reads.list_bills(
                session, principal, spec=spec, today=info.context.now().date(), limit=size, after_id=start_after
            )
        info.context.loaders.prime(info.context.loaders.billing.bill, rows)
        edges, page_info = edges_and_page_info(rows, size, BillType.from_row)
        return BillConnection(edges=edges, page_info=page_info, total_count=total)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Payments you may see.")
    async def payments(
        self, info: Info, filter: PaymentFilter | None = None, first: int | None = None, after: str | None = None
    ) -> PaymentConnection:
        principal = await require_principal(info)
        size, start_after = page_size(first), after_id(after)
        filter = filter or PaymentFilter()
        try:
            spec = reads.PaymentFilterSpec(
                project_id=decode_id(filter.project_id, "Project", field="projectId") if filter.project_id else None,
                unit_id=decode_id(filter.unit_id, "Unit", field="unitId") if filter.unit_id else None,
            )
        except NotFound:
            return _empty(PaymentConnection)  # type: ignore[return-value]
        async with info.context.session_factory() as session:
            rows, total = await reads.list_payments(session, principal, spec=spec, limit=size, after_id=start_after)
        edges, page_info = edges_and_page_info(rows, size, PaymentType.from_row)
        return PaymentConnection(edges=edges, page_info=page_info, total_count=total)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A unit's account: bills, late fees, adjustments, payments, refunds, with the running balance.",
    )
    async def unit_statement(self, info: Info, unit_id: strawberry.ID) -> UnitStatementType | None:
        principal = await require_principal(info)
        async with info.context.session_factory() as session:
            try:
                statement = await reads.unit_statement(
                    session, principal, unit_id=decode_id(unit_id, "Unit", field="unitId")
                )
            except NotFound:
                return None
        return UnitStatementType(
            unit=UnitType.from_row(statement.unit),
            entries=[
                StatementEntryType(
                    occurred_at=entry.occurred_at,
                    kind=entry.kind,
                    description=entry.description,
                    amount=entry.amount,
                    balance=entry.balance,
                    bill_ids=[_gid("Bill", pk) for pk in entry.bill_ids],
                    payment_ids=[_gid("Payment", pk) for pk in entry.payment_ids],
                )
                for entry in statement.entries
            ],
            amount_owed=statement.amount_owed,
            prepaid_credit=statement.prepaid_credit,
            balance=statement.balance,
        )

    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description="Prove the books: debits = credits, paid = allocations per bill, every payment accounted for.",
    )
    async def ledger_check(self, info: Info, project_id: strawberry.ID) -> LedgerCheckType | None:
        principal = await require_principal(info)
        try:
            report = await ledger_check(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except NotFound:
            return None
        return LedgerCheckType(
            ok=report.ok,
            total_debit=report.total_debit,
            total_credit=report.total_credit,
            entries=report.entries,
            bills_checked=report.bills_checked,
            payments_checked=report.payments_checked,
            problems=list(report.problems),
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Whether a presented receipt (its content and signature) is genuine and unaltered.",
    )
    async def verify_receipt(self, info: Info, content: str, signature: str) -> ReceiptVerificationType:
        signer = info.context.services.receipt_signer
        async with info.context.session_factory() as session:
            result = await verify_receipt(session, signer, content=content, signature=signature)
        receipt = None
        if result.receipt is not None:
            # The verdict is for anyone holding the receipt; the receipt itself only for who may see it.
            (receipt,) = await ReceiptType.resolve_nodes(info=info, node_ids=[str(result.receipt.id)])
        return ReceiptVerificationType(genuine=result.genuine, reason=result.reason, receipt=receipt)

    @strawberry.field(permission_classes=[IsAuthenticated], description="The public key receipts are signed with (base64, raw Ed25519).")
    def receipt_public_key(self, info: Info) -> str:
        signer = info.context.services.receipt_signer
        return signer.public_key_base64
