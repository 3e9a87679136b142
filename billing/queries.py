"""Read-side use cases of billing: bills and payments with filters, runs with their totals (a unit's
statement is `billing.unit_statement`)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import BigInteger, ColumnElement, bindparam, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.balance_sql import amount_billed_fen, amount_paid_fen, is_overdue_sql
from billing.guards import get_project
from billing.policy import (
    may_manage_charges,
    unit_billing_viewer,
    visible_unit_billing,
)
from db.conditions import given_values
from db.models import (
    Bill,
    BillRun,
    BillStatus,
    Payment,
    Unit,
)
from db.pages import KeysetPage, parametrized_keyset_page
from kernel.principal import Principal

__all__ = [
    "BillFilterSpec",
    "BillStatusFilter",
    "PaymentFilterSpec",
    "get_run_summary",
    "list_bill_runs",
    "list_bills",
    "list_payments",
]

_ZERO = Decimal("0.00")
Listed = TypeVar("Listed", Bill, Payment)


class BillStatusFilter(str, enum.Enum):
    OPEN = "OPEN"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    OVERDUE = "OVERDUE"


@dataclass(frozen=True)
class BillFilterSpec:
    project_id: int | None = None
    status: BillStatusFilter | None = None
    period: str | None = None
    building_id: int | None = None
    unit_id: int | None = None
    party_id: int | None = None


@dataclass(frozen=True)
class PaymentFilterSpec:
    project_id: int | None = None
    unit_id: int | None = None


async def list_bills(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    spec: BillFilterSpec,
    today: dt.date,
    limit: int,
    after_id: int | None,
    with_units: bool = False,
) -> KeysetPage[Bill]:
    """One page of the bills the caller may see, oldest first, as plain rows of every column (with
    `with_units`, each bill's unit and its building in the field `unit`, read by the same statement), and
    how many match in all."""
    filters: dict[str, Any] = {
        "project_id": spec.project_id,
        "period": spec.period,
        "unit_id": spec.unit_id,
        "party_id": spec.party_id,
        "building_id": spec.building_id,
    }
    if spec.status == BillStatusFilter.OVERDUE:
        filters["today"] = today
    elif spec.status is not None:
        filters["status"] = BillStatus(spec.status.value)
    # Plain rows: the list's readers (`BillType`, the bill loader they are primed into) read columns only.
    joined = (Bill.unit, Unit.building) if with_units else ()
    return await _visible_page(session_factory, principal, Bill, _BILL_FILTERS, filters, limit=limit, after_id=after_id, joined=joined)


# Each filter of a list of bills, its value a parameter of its name.
_BILL_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "project_id": lambda: Bill.project_id == bindparam("project_id"),
    "period": lambda: Bill.period == bindparam("period"),
    "unit_id": lambda: Bill.unit_id == bindparam("unit_id"),
    "party_id": lambda: Bill.party_id == bindparam("party_id"),
    "building_id": lambda: Bill.unit_id.in_(select(Unit.id).where(Unit.building_id == bindparam("building_id"))),
    "today": lambda: is_overdue_sql(bindparam("today")),
    "status": lambda: Bill.status == bindparam("status"),
}


async def list_payments(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    spec: PaymentFilterSpec,
    limit: int,
    after_id: int | None,
    with_units: bool = False,
    with_receipt_content: bool = True,
) -> KeysetPage[Payment]:
    """One page of the payments the caller may see, oldest first, each with its receipt, as plain rows of
    every column (the receipt's in the field `receipt`; with `with_units`, the unit and its building in
    `unit`), and how many match in all. Without `with_receipt_content`, None for the receipts' signed
    content and signature, which a list that shows receipts by their numbers does not read."""
    filters = {"project_id": spec.project_id, "unit_id": spec.unit_id}
    # Plain rows: the list's readers (`PaymentType`, `ReceiptType`) read columns only.
    joined = (Payment.receipt, *((Payment.unit, Unit.building) if with_units else ()))
    return await _visible_page(
        session_factory, principal, Payment, _PAYMENT_FILTERS, filters, limit=limit, after_id=after_id, joined=joined,
        left_out=frozenset() if with_receipt_content else _RECEIPT_CONTENT,
    )


_RECEIPT_CONTENT = frozenset({"receipt.content", "receipt.signature"})


_PAYMENT_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "project_id": lambda: Payment.project_id == bindparam("project_id"),
    "unit_id": lambda: Payment.unit_id == bindparam("unit_id"),
}


async def _visible_page(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    model: Any,
    conditions_by_filter: dict[str, Callable[[], ColumnElement[bool]]],
    filters: dict[str, Any],
    *,
    limit: int,
    after_id: int | None,
    joined: tuple[Any, ...],
    left_out: frozenset[str] = frozenset(),
) -> KeysetPage[Any]:
    """One page of `model`'s rows (a bill or a payment: a project's and a unit's) that the caller may see
    under `visible_unit_billing` and the filters given a value, oldest first. The statement is the same
    for every value: one per set of filters given and of the caller's ids that hold any, built once. The
    columns named in `left_out` hold None (`db.pages.parametrized_keyset_page`)."""
    given = {name: value for name, value in filters.items() if value is not None}
    viewer = unit_billing_viewer(principal)
    viewer_given = given_values(viewer)
    return await parametrized_keyset_page(
        session_factory,
        model,
        shape=(tuple(given), viewer_given),
        conditions=lambda dialect: [
            visible_unit_billing(dialect, viewer_given, project_column=model.project_id, unit_column=model.unit_id),
            *(conditions_by_filter[name]() for name in given),
        ],
        values={**viewer, **given},
        limit=limit,
        beyond_id=after_id,
        joined=joined,
        left_out=left_out,
    )


async def list_bill_runs(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> Sequence[BillRun]:
    """The project's runs, newest period first."""
    async with session_factory() as session:
        await get_project(session, principal, project_id, allowed=may_manage_charges)
        return (
            await session.scalars(select(BillRun).where(BillRun.project_id == project_id).order_by(BillRun.period.desc()))
        ).all()


async def get_run_summary(
    session_factory: async_sessionmaker[AsyncSession], *, run_id: int, today: dt.date
) -> dict[str, object]:
    """Counts per status and the amounts billed, paid and outstanding of one run's bills."""
    async with session_factory() as session:
        rows = await session.execute(
            select(
                Bill.status,
                func.count(),
                type_coerce(func.sum(amount_billed_fen()), BigInteger),
                type_coerce(func.sum(amount_paid_fen()), BigInteger),
            )
            .where(Bill.run_id == run_id)
            .group_by(Bill.status)
        )
        counts = {status: 0 for status in BillStatus}
        billed_fen = paid_fen = 0
        for status, count, billed_sum, paid_sum in rows:
            counts[status] = int(count)
            billed_fen += int(billed_sum or 0)
            paid_fen += int(paid_sum or 0)
        overdue = await session.scalar(
            select(func.count()).select_from(Bill).where(Bill.run_id == run_id, is_overdue_sql(today))
        )
        return {
            "open_count": counts[BillStatus.OPEN],
            "partially_paid_count": counts[BillStatus.PARTIALLY_PAID],
            "paid_count": counts[BillStatus.PAID],
            "overdue_count": int(overdue or 0),
            "amount_billed": Decimal(billed_fen).scaleb(-2),
            "amount_paid": Decimal(paid_fen).scaleb(-2),
            "amount_outstanding": Decimal(billed_fen - paid_fen).scaleb(-2),
        }
