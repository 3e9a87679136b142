"""Queries of the books: a unit's statement with its running balance, and the proof a project's books
balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from typing import Annotated

import strawberry

from billing.ledger_check import ledger_check
from billing.unit_statement import get_unit_statement
from kernel.errors import NotFound
from schema.billing.common import FINANCE_ONLY, gid, read_of_project
from schema.context import Info
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, require_principal
from schema.units.types import UnitType

__all__ = ["LedgerCheckType", "LedgerQueries", "StatementEntryType", "UnitStatementType"]


@strawberry.type(name="LedgerCheck", description="Whether the project's books balance, and what does not if not.")
class LedgerCheckType:
    ok: bool = strawberry.field(description="True when nothing is wrong.")
    total_debit: Decimal = strawberry.field(description="Sum of all debits, yuan.")
    total_credit: Decimal = strawberry.field(
        description="Sum of all credits, yuan; equals totalDebit when the books balance."
    )
    entries: int = strawberry.field(description="Journal entries checked.")
    bills_checked: int = strawberry.field(description="Bills checked (paid amount = allocations).")
    payments_checked: int = strawberry.field(description="Payments checked (allocated + credit + refunded = amount).")
    problems: list[str] = strawberry.field(description="What does not add up, in English; empty when ok.")


@strawberry.type(name="StatementEntry", description="One change of what a unit owes.")
class StatementEntryType:
    occurred_at: dt.datetime = strawberry.field(description="When (UTC).")
    kind: str = strawberry.field(
        description=(
            "The journal entry kind, a stable code (e.g. BILLS_ISSUED, PAYMENT, ALLOCATION, CREDIT_APPLIED, LATE_FEE, "
            "ADJUSTMENT, REFUND, REVERSAL)."
        ),
    )
    description: str = strawberry.field(description="What happened, in the project's locale.")
    amount: Decimal = strawberry.field(description="> 0 raises what the unit owes, < 0 lowers it.")
    balance: Decimal = strawberry.field(description="Running balance: owed minus prepaid credit.")
    bill_ids: list[strawberry.ID] = strawberry.field(description="The bills it concerns.")
    payment_ids: list[strawberry.ID] = strawberry.field(description="The payments it concerns.")


@strawberry.type(
    name="UnitStatement",
    description="A unit's account (its owner and tenants, FINANCE and ADMIN). Money is a decimal string in yuan.",
)
class UnitStatementType:
    unit: UnitType = strawberry.field(description="The unit.")
    entries: list[StatementEntryType] = strawberry.field(
        description="Everything that changed what it owes, oldest first."
    )
    amount_owed: Decimal = strawberry.field(description="Yuan owed on its bills now, late fees charged included.")
    prepaid_credit: Decimal = strawberry.field(description="Yuan paid and not yet taken by a bill.")
    balance: Decimal = strawberry.field(description="amountOwed − prepaidCredit; negative: in credit.")


@strawberry.type
class LedgerQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A unit's account: bills, late fees, adjustments, payments, refunds, with the running balance.",
    )
    async def unit_statement(
        self,
        info: Info,
        unit_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The unit (yours, or of a project you do finance for); null when not yours to see."
            ),
        ],
    ) -> UnitStatementType | None:
        principal = await require_principal(info)
        try:
            statement = await get_unit_statement(
                info.context.session_factory, principal, unit_id=decode_id(unit_id, "Unit", field="unitId")
            )
        except NotFound:
            return None
        return UnitStatementType(
            unit=UnitType.from_row(statement.unit),
            entries=[
                StatementEntryType(
                    occurred_at=at,
                    kind=kind,
                    description=description,
                    amount=amount,
                    balance=balance,
                    bill_ids=[gid("Bill", pk) for pk in bill_ids],
                    payment_ids=[gid("Payment", pk) for pk in payment_ids],
                )
                for at, kind, description, amount, balance, bill_ids, payment_ids in statement.entries
            ],
            amount_owed=statement.amount_owed,
            prepaid_credit=statement.prepaid_credit,
            balance=statement.balance,
        )

    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Prove the books: debits = credits, paid = allocations per bill, every payment accounted for.",
    )
    async def ledger_check(
        self,
        info: Info,
        project_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The project; null when it is not yours."),
        ],
    ) -> LedgerCheckType | None:
        sessions = info.context.session_factory
        report = await read_of_project(
            info, project_id, lambda principal, project: ledger_check(sessions, principal, project_id=project)
        )
        if report is None:
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
