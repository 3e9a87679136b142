"""Queries of the books: a unit's statement with its running balance, and the proof a project's books
balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from billing import queries
from billing.ledger_check import ledger_check
from kernel.errors import NotFound
from schema.billing.common import FINANCE_ONLY, gid, read_of_project
from schema.context import Info
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, require_principal
from schema.units.types import UnitType

__all__ = ["LedgerCheckType", "LedgerQueries", "StatementEntryType", "UnitStatementType"]


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


@strawberry.type
class LedgerQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A unit's account: bills, late fees, adjustments, payments, refunds, with the running balance.",
    )
    async def unit_statement(self, info: Info, unit_id: strawberry.ID) -> UnitStatementType | None:
        principal = await require_principal(info)
        try:
            statement = await queries.get_unit_statement(
                info.context.session_factory, principal, unit_id=decode_id(unit_id, "Unit", field="unitId")
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
                    bill_ids=[gid("Bill", pk) for pk in entry.bill_ids],
                    payment_ids=[gid("Payment", pk) for pk in entry.payment_ids],
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
