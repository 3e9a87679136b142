"""The object a billing use case acts on, loaded in its transaction and checked against `billing.policy`:
NOT_FOUND when it does not exist for the caller, FORBIDDEN when it does but the caller may not act on it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.policy import knows_project_records, knows_unit_account
from billing.receipts import ReceiptPlace
from db.driver import DriverStatement, session_connection
from db.models import Bill, Building, FeeRule, InvoicingProfile, Payment, Project, Unit
from kernel.errors import AccessDenied, NotFound
from kernel.principal import Principal
from register.projects import get_project_for

__all__ = [
    "ProjectGate",
    "UnitAccount",
    "get_fee_rule",
    "get_project",
    "get_project_unit",
    "get_unit_account",
    "lock_bill",
    "lock_payment",
    "queue_behind_bill_runs",
    "read_unit_accounts",
    "unit_account_of",
    "unit_accounts_select",
]

Row = TypeVar("Row", Bill, FeeRule, Payment, Unit)

_DENIED = "Requires the ADMIN or FINANCE role in this project."
_DENIED_IN_PROJECT = "Requires one of the roles ADMIN, FINANCE in this project."


class ProjectGate(Protocol):
    """A predicate of `billing.policy` over one project, e.g. `may_manage_charges`."""

    def __call__(self, principal: Principal, /, *, project_id: int) -> bool: ...


async def get_project(session: AsyncSession, principal: Principal, project_id: int, *, allowed: ProjectGate) -> Project:
    """The project, if the caller holds any role in it (else NOT_FOUND) and `allowed` (else FORBIDDEN)."""
    return await get_project_for(
        session,
        principal,
        project_id,
        allowed=lambda caller, project: allowed(caller, project_id=project),
        refusal=_DENIED_IN_PROJECT,
    )


def _admitted(
    principal: Principal, row: Row | None, known: Callable[[Row], bool], allowed: ProjectGate, missing: NotFound, denied: str
) -> Row:
    if row is None or not known(row):
        raise missing
    if not allowed(principal, project_id=row.project_id):
        raise AccessDenied(denied)
    return row


def _knows_account(principal: Principal) -> Callable[[Bill | Payment], bool]:
    """The unit's account is known to the project's staff and the unit's occupant."""
    return lambda row: knows_unit_account(principal, project_id=row.project_id, unit_id=row.unit_id)


def _knows_records(principal: Principal) -> Callable[[FeeRule | Unit], bool]:
    """The project's records are known to its staff."""
    return lambda row: knows_project_records(principal, project_id=row.project_id)


async def get_project_unit(session: AsyncSession, principal: Principal, unit_id: int, *, allowed: ProjectGate) -> Unit:
    """A unit as one of its project's records (its readings, its waivers)."""
    unit = await session.get(Unit, unit_id)
    missing = NotFound("No such unit.", field="unitId")
    return _admitted(principal, unit, _knows_records(principal), allowed, missing, _DENIED_IN_PROJECT)


@dataclass(frozen=True, slots=True)
class UnitAccount:
    """A unit whose account money is booked on, with what booking needs of it: its project, the project's
    time zone, and the place its receipts name."""

    unit_id: int
    project_id: int
    timezone: str
    place: ReceiptPlace
    issues_invoices: bool = False
    """Whether the project issues each payment's invoice by itself (`invoicing.automatic`)."""


def unit_accounts_select() -> Select[Any]:
    """What `UnitAccount` holds of units, in the order `unit_account_of` takes it (for any units: the caller
    says which)."""
    unit, building, project, invoicing = Unit.__table__, Building.__table__, Project.__table__, InvoicingProfile.__table__
    return (
        select(
            unit.c.id, unit.c.project_id, project.c.timezone, project.c.name, building.c.name, unit.c.number, invoicing.c.auto_issue
        )
        .join_from(unit, project, unit.c.project_id == project.c.id)
        .join(building, unit.c.building_id == building.c.id)
        .outerjoin(invoicing, invoicing.c.project_id == project.c.id)
    )


def unit_account_of(row: Sequence[Any]) -> UnitAccount:
    """The account of a row of `unit_accounts_select`."""
    unit_id, project_id, timezone, project_name, building_name, number, auto_issue = row
    return UnitAccount(unit_id, project_id, timezone, ReceiptPlace(project_name, building_name, number), bool(auto_issue))


# Built once: building a statement costs more than running it (payments read their units on every call).
_UNIT_ACCOUNTS = DriverStatement(
    unit_accounts_select().where(Unit.__table__.c.id.in_(bindparam("unit_ids", expanding=True)))
)


async def read_unit_accounts(session: AsyncSession, unit_ids: Collection[int]) -> dict[int, UnitAccount]:
    """The accounts of the units that exist among `unit_ids`, in one statement (no permission asked)."""
    rows = await _UNIT_ACCOUNTS.rows(await session_connection(session), {"unit_ids": sorted(set(unit_ids))})
    return {row[0]: unit_account_of(row) for row in rows}


async def get_unit_account(
    session: AsyncSession, principal: Principal | None, unit_id: int, *, allowed: ProjectGate, field: str = "unitId"
) -> UnitAccount:
    """A unit whose account is acted on (a payment for it); `principal` None acts on the system's own
    authority (a verified gateway notification)."""
    account = (await read_unit_accounts(session, [unit_id])).get(unit_id)
    if principal is None:
        if account is None:
            raise NotFound("No such unit.", field=field)
        return account
    if account is None or not knows_unit_account(principal, project_id=account.project_id, unit_id=unit_id):
        raise NotFound("No such unit.", field=field)
    if not allowed(principal, project_id=account.project_id):
        raise AccessDenied(_DENIED)
    return account


async def get_fee_rule(session: AsyncSession, principal: Principal, rule_id: int, *, allowed: ProjectGate) -> FeeRule:
    rule = await session.get(FeeRule, rule_id)
    missing = NotFound("No such fee rule.", field="ruleId")
    return _admitted(principal, rule, _knows_records(principal), allowed, missing, _DENIED)


async def lock_payment(session: AsyncSession, principal: Principal, payment_id: int, *, allowed: ProjectGate) -> Payment:
    """The payment, locked until commit."""
    payment = await session.get(Payment, payment_id, with_for_update=True)
    missing = NotFound("No such payment.", field="paymentId")
    return _admitted(principal, payment, _knows_account(principal), allowed, missing, _DENIED)


async def lock_bill(session: AsyncSession, principal: Principal, bill_id: int, *, allowed: ProjectGate) -> Bill:
    """The bill, locked until commit."""
    bill = await session.get(Bill, bill_id, with_for_update=True)
    missing = NotFound("No such bill.", field="billId")
    return _admitted(principal, bill, _knows_account(principal), allowed, missing, _DENIED)


async def queue_behind_bill_runs(session: AsyncSession, project_id: int) -> None:
    """Wait for the project's bill run in progress, and make a run wait for this transaction.

    A run reads the waivers and the prepaid credit once and then writes for seconds; a waiver, refund or
    reversal committed in between would be lost (a waiver the bill never shows) or spend credit the run
    has applied too. They all lock the project's row until commit, so they queue one after another; the
    lock is `FOR NO KEY UPDATE`, which rows that merely reference the project do not wait for. SQLite
    ignores it: its transactions begin IMMEDIATE and queue anyway. Take it before any row lock of the
    project's, so that every transaction locks in the same order.
    """
    await session.execute(select(Project.id).where(Project.id == project_id).with_for_update(key_share=True))
