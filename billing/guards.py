"""The object a billing use case acts on, loaded in its transaction and checked against `billing.policy`:
NOT_FOUND when it does not exist for the caller, FORBIDDEN when it does but the caller may not act on it.

Kept apart from the register's lookups (whose unit import pulls in openpyxl and numpy) so that a bill
run's process stays small.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from billing.policy import knows_project, knows_project_records, knows_unit_account
from db.models import Bill, FeeRule, Payment, Project, Unit
from kernel.errors import AccessDenied, NotFound
from kernel.principal import Principal

__all__ = [
    "ProjectGate",
    "get_fee_rule",
    "get_project",
    "get_project_unit",
    "get_unit_account",
    "lock_bill",
    "lock_payment",
]

_DENIED = "Requires the ADMIN or FINANCE role in this project."
_DENIED_IN_PROJECT = "Requires one of the roles ADMIN, FINANCE in this project."


class ProjectGate(Protocol):
    """A predicate of `billing.policy` over one project, e.g. `may_manage_charges`."""

    def __call__(self, principal: Principal, /, *, project_id: int) -> bool: ...


async def get_project(session: AsyncSession, principal: Principal, project_id: int, *, allowed: ProjectGate) -> Project:
    """The project, if the caller holds any role in it (else NOT_FOUND) and `allowed` (else FORBIDDEN)."""
    project = await session.get(Project, project_id)
    if project is None or not knows_project(principal, project_id=project_id):
        raise NotFound("No such project.", field="projectId")
    if not allowed(principal, project_id=project_id):
        raise AccessDenied(_DENIED_IN_PROJECT)
    return project


async def get_project_unit(session: AsyncSession, principal: Principal, unit_id: int, *, allowed: ProjectGate) -> Unit:
    """A unit as one of its project's records (its readings, its waivers): the project's staff know it."""
    unit = await session.get(Unit, unit_id)
    if unit is None or not knows_project_records(principal, project_id=unit.project_id):
        raise NotFound("No such unit.", field="unitId")
    if not allowed(principal, project_id=unit.project_id):
        raise AccessDenied(_DENIED_IN_PROJECT)
    return unit


async def get_unit_account(
    session: AsyncSession, principal: Principal, unit_id: int, *, allowed: ProjectGate, field: str = "unitId"
) -> Unit:
    """A unit whose account is acted on (a payment for it): its staff and its occupant know it."""
    unit = await session.get(Unit, unit_id)
    if unit is None or not knows_unit_account(principal, project_id=unit.project_id, unit_id=unit_id):
        raise NotFound("No such unit.", field=field)
    if not allowed(principal, project_id=unit.project_id):
        raise AccessDenied(_DENIED)
    return unit


async def get_fee_rule(session: AsyncSession, principal: Principal, rule_id: int, *, allowed: ProjectGate) -> FeeRule:
    rule = await session.get(FeeRule, rule_id)
    if rule is None or not knows_project_records(principal, project_id=rule.project_id):
        raise NotFound("No such fee rule.", field="ruleId")
    if not allowed(principal, project_id=rule.project_id):
        raise AccessDenied(_DENIED)
    return rule


async def lock_payment(session: AsyncSession, principal: Principal, payment_id: int, *, allowed: ProjectGate) -> Payment:
    """The payment, locked until commit."""
    payment = await session.get(Payment, payment_id, with_for_update=True)
    if payment is None or not knows_unit_account(principal, project_id=payment.project_id, unit_id=payment.unit_id):
        raise NotFound("No such payment.", field="paymentId")
    if not allowed(principal, project_id=payment.project_id):
        raise AccessDenied(_DENIED)
    return payment


async def lock_bill(session: AsyncSession, principal: Principal, bill_id: int, *, allowed: ProjectGate) -> Bill:
    """The bill, locked until commit."""
    bill = await session.get(Bill, bill_id, with_for_update=True)
    if bill is None or not knows_unit_account(principal, project_id=bill.project_id, unit_id=bill.unit_id):
        raise NotFound("No such bill.", field="billId")
    if not allowed(principal, project_id=bill.project_id):
        raise AccessDenied(_DENIED)
    return bill
