"""Who may see and do what in invoicing: the named predicates its use cases and GraphQL types ask, with
the SQL twin of the one that filters lists.

Finance staff (ADMIN or FINANCE in a project) configure the project's invoicing and issue, search and
correct its invoices. An OWNER keeps their own invoice titles (抬头), requests invoices for the payments
of the units they occupy, and sees the invoices of those units and those made out to them; nothing of
anyone else's.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_

from db.conditions import among
from kernel.principal import Principal, Role

__all__ = [
    "INVOICING_ROLES",
    "keeps_invoice_titles",
    "manages_invoicing",
    "may_configure_invoicing",
    "may_issue_invoices",
    "may_request_invoice",
    "may_see_invoice",
    "owns_invoice_title",
    "requests_invoices",
    "visible_invoices",
]

INVOICING_ROLES = (Role.ADMIN, Role.FINANCE)


# --- operation gates: may the caller use the operation at all ------------------------------------


def manages_invoicing(principal: Principal) -> bool:
    """Finance staff of some project: the tax configuration, batch issuing."""
    return principal.holds_any(INVOICING_ROLES)


def requests_invoices(principal: Principal) -> bool:
    """May ask for invoices at all: finance staff for their project's payments, owners for their own."""
    return principal.holds_any((*INVOICING_ROLES, Role.OWNER))


def keeps_invoice_titles(principal: Principal) -> bool:
    """An owner with a party of their own keeps the titles (抬头) their invoices are made out to."""
    return principal.party_id is not None and principal.holds_any((Role.OWNER,))


# --- per project and per object ---------------------------------------------------------------------


def _finance_staff(principal: Principal, project_id: int) -> bool:
    return principal.has_role(project_id, *INVOICING_ROLES)


def may_configure_invoicing(principal: Principal, *, project_id: int) -> bool:
    """The seller, the tax mapping of every fee kind, automatic issuing."""
    return _finance_staff(principal, project_id)


def may_issue_invoices(principal: Principal, *, project_id: int) -> bool:
    """Issue the project's invoices for any of its payments, one at a time or in batches."""
    return _finance_staff(principal, project_id)


def may_request_invoice(principal: Principal, *, project_id: int, unit_id: int) -> bool:
    """Ask for the invoice of a payment to a unit: finance staff, or an OWNER who occupies the unit."""
    return _finance_staff(principal, project_id) or (
        unit_id in principal.unit_ids and principal.has_role(project_id, Role.OWNER)
    )


def may_see_invoice(principal: Principal, *, project_id: int, unit_id: int | None, party_id: int | None) -> bool:
    """An invoice: the project's finance staff, and an OWNER of the project whose unit it is for or
    whose party it is made out to."""
    if _finance_staff(principal, project_id):
        return True
    if not principal.has_role(project_id, Role.OWNER):
        return False
    return unit_id in principal.unit_ids or (party_id is not None and party_id == principal.party_id)


def owns_invoice_title(principal: Principal, *, party_id: int) -> bool:
    """A title is its owner's alone: staff do not see owners' titles (an invoice keeps its own copy)."""
    return keeps_invoice_titles(principal) and principal.party_id == party_id


def visible_invoices(
    principal: Principal, *, project_column: object, unit_column: object, party_column: object
) -> ColumnElement[bool]:
    """The SQL twin of `may_see_invoice`, over the invoice table's project, unit and party columns."""
    own_party = party_column == principal.party_id if principal.party_id is not None else false()  # type: ignore[operator]
    return or_(
        among(project_column, principal.projects_with(*INVOICING_ROLES)),
        and_(
            among(project_column, principal.projects_with(Role.OWNER)),
            or_(among(unit_column, principal.unit_ids), own_party),
        ),
    )
