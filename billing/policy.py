"""Who may see and do what in billing: the named predicates that billing's use cases and GraphQL types
ask, with the SQL twin of the one that filters lists.

Finance staff (ADMIN or FINANCE in a project) run the project's charges and money. An occupant who is an
OWNER in the project sees their own units' bills, payments, receipts, online orders and statement, and
nothing of anyone else's. Whether an object exists at all for a caller (NOT_FOUND rather than FORBIDDEN)
is told apart by the `knows_*` predicates, so that a refusal never confirms an object to a stranger.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from db.conditions import among_parameter, any_of
from kernel.principal import Principal, Role

__all__ = [
    "FINANCE_ROLES",
    "knows_project_records",
    "knows_unit_account",
    "manages_billing",
    "may_adjust_bills",
    "may_manage_charges",
    "may_manage_dunning",
    "may_refund_payments",
    "may_see_ledger",
    "may_see_reports",
    "may_edit_reconciliation_rules",
    "may_reconcile",
    "may_see_unit_billing",
    "may_take_payments",
    "pays_online",
    "unit_billing_viewer",
    "visible_unit_billing",
]

FINANCE_ROLES = (Role.ADMIN, Role.FINANCE)


# --- operation gates: may the caller use the finance desk at all ----------------------------------


def manages_billing(principal: Principal) -> bool:
    """Finance staff of some project: may call the finance desk's operations (which projects' objects
    they then touch is asked per project below)."""
    return principal.holds_any(FINANCE_ROLES)


def pays_online(principal: Principal) -> bool:
    """May open online payment orders at all: finance staff for anyone's bills, owners for their own."""
    return principal.holds_any((*FINANCE_ROLES, Role.OWNER))


# --- what finance staff may do in a project --------------------------------------------------------


def _finance_staff(principal: Principal, project_id: int) -> bool:
    return principal.has_role(project_id, *FINANCE_ROLES)


def may_manage_charges(principal: Principal, *, project_id: int) -> bool:
    """Fee rules, discounts, waivers, the billing policy, meter readings and bill runs."""
    return _finance_staff(principal, project_id)


def may_take_payments(principal: Principal, *, project_id: int) -> bool:
    """Record money received, one unit's or a payer's batch for many units."""
    return _finance_staff(principal, project_id)


def may_refund_payments(principal: Principal, *, project_id: int) -> bool:
    """Give back a payment's credit, or reverse a payment."""
    return _finance_staff(principal, project_id)


def may_adjust_bills(principal: Principal, *, project_id: int) -> bool:
    return _finance_staff(principal, project_id)


def may_reconcile(principal: Principal, *, project_id: int) -> bool:
    """The project's statement accounts, imports, matching, exceptions and daily closes (对账, 日清日结),
    including signing off a day closed with open exceptions."""
    return _finance_staff(principal, project_id)


def may_edit_reconciliation_rules(principal: Principal, *, project_id: int) -> bool:
    """Create, change and disable the project's matching rules (what a bank line's memo or payer name
    pairs it with): they decide which money counts as received, so finance staff only."""
    return _finance_staff(principal, project_id)


def may_manage_dunning(principal: Principal, *, project_id: int) -> bool:
    """The project's dunning: its policy and passes, bill disputes and payment plans, and the work queue of
    accounts to chase with their dunning history and follow-ups."""
    return _finance_staff(principal, project_id)


def may_see_ledger(principal: Principal, *, project_id: int) -> bool:
    """The project's books and their check."""
    return _finance_staff(principal, project_id)


def may_see_reports(principal: Principal, *, project_id: int) -> bool:
    """The project's collection rate, arrears ageing and income, their exports and the /finance page:
    figures of every unit's account, so finance staff only."""
    return _finance_staff(principal, project_id)


# --- what an occupant may see ----------------------------------------------------------------------


def may_see_unit_billing(principal: Principal, *, project_id: int, unit_id: int) -> bool:
    """A unit's bills, adjustments, payments, receipts, online orders and statement: the project's finance
    staff, and an OWNER of the project who occupies the unit."""
    return _finance_staff(principal, project_id) or (
        unit_id in principal.unit_ids and principal.has_role(project_id, Role.OWNER)
    )



def visible_unit_billing(
    dialect: str, given: frozenset[str], *, project_column: object, unit_column: object
) -> ColumnElement[bool]:
    """The SQL twin of `may_see_unit_billing`, over a table's project and unit columns, with the caller's
    ids as bound parameters (`unit_billing_viewer` gives their values; `given` names those that hold any,
    `db.conditions.given_values`): the same SQL for every caller with the same ids given, so a list's
    statement is built once, not per request. A branch whose ids the caller lacks is left out rather than
    matched against an empty list: behind an OR that cannot match, PostgreSQL still planned an owner's bills
    as a scan of the project's (9,758 index entries for 24 bills on the benchmark's community, 0.24 ms of
    the server's CPU a page without fresh statistics) and SQLite walked the bills in id order."""
    branches = []
    if "viewer_finance_projects" in given:
        branches.append(among_parameter(dialect, project_column, "viewer_finance_projects"))
    if {"viewer_units", "viewer_owner_projects"} <= given:
        branches.append(
            and_(
                among_parameter(dialect, unit_column, "viewer_units"),
                among_parameter(dialect, project_column, "viewer_owner_projects"),
            )
        )
    return any_of(branches)


def unit_billing_viewer(principal: Principal) -> dict[str, list[int]]:
    """The values of `visible_unit_billing`'s parameters for `principal`."""
    return {
        "viewer_finance_projects": sorted(principal.projects_with(*FINANCE_ROLES)),
        "viewer_units": sorted(principal.unit_ids),
        "viewer_owner_projects": sorted(principal.projects_with(Role.OWNER)),
    }


# --- whether an object exists for the caller (NOT_FOUND) before whether they may act (FORBIDDEN) ---


def knows_project_records(principal: Principal, *, project_id: int) -> bool:
    """The project's staff know its rules and units."""
    return principal.is_staff_of(project_id)


def knows_unit_account(principal: Principal, *, project_id: int, unit_id: int) -> bool:
    """The project's staff, and the unit's occupant, know its bills and payments."""
    return principal.is_staff_of(project_id) or unit_id in principal.unit_ids
