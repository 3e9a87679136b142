"""Who may see and change what in the property register.

Named predicates over a `Principal` and plain facts, used by the register's use cases and the GraphQL
types alike; where a list is filtered, the predicate's SQL twin (`visible_*`) stands beside it and must
say the same thing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_

from db.conditions import among
from db.models import Party, Project, Unit
from kernel.principal import STAFF_ROLES, Principal, Role

__all__ = [
    "REGISTER_ADMINS_ONLY",
    "REGISTER_ADMIN_ROLES",
    "administered_projects",
    "administers_register",
    "changes_parties",
    "may_administer_project",
    "may_change_party",
    "may_reset_password",
    "may_see_all_parties",
    "may_see_all_units",
    "may_see_occupancy",
    "may_see_party",
    "may_see_personal_data",
    "may_see_project",
    "may_see_unit",
    "visible_parties",
    "visible_projects",
    "visible_units",
]

REGISTER_ADMIN_ROLES = (Role.ADMIN,)
"""The roles that administer a project's register: the project, its buildings, units, parties, occupancies."""
REGISTER_ADMINS_ONLY = "Requires one of the roles ADMIN in this project."

# Technicians work in every unit of their projects, so they see them all; owners see the units they occupy.
_WHOLE_PROJECT_UNIT_ROLES = (*STAFF_ROLES, Role.TECHNICIAN)


def administers_register(principal: Principal) -> bool:
    """May call the register's administrative operations at all; each object's project is checked by the use case."""
    return principal.holds_any(REGISTER_ADMIN_ROLES)


def changes_parties(principal: Principal) -> bool:
    """May call `updateParty` at all: admins, and a person changing their own contact details."""
    return administers_register(principal) or principal.party_id is not None


def may_administer_project(principal: Principal, project_id: int) -> bool:
    return principal.has_role(project_id, *REGISTER_ADMIN_ROLES)


def may_reset_password(principal: Principal, user_projects: frozenset[int]) -> bool:
    """An administrator may issue a password reset for anyone who belongs to a project they administer
    (by a role, as an occupant's party, or as a technician)."""
    return not administered_projects(principal).isdisjoint(user_projects)


def administered_projects(principal: Principal) -> frozenset[int]:
    return principal.projects_with(*REGISTER_ADMIN_ROLES)


def may_see_project(principal: Principal, project_id: int) -> bool:
    """Any role in a project shows it, with its buildings."""
    return project_id in principal.project_ids


def may_see_all_units(principal: Principal, project_id: int) -> bool:
    """Staff and technicians see every unit and building of their projects."""
    return principal.has_role(project_id, *_WHOLE_PROJECT_UNIT_ROLES)


def may_see_unit(principal: Principal, *, project_id: int, unit_id: int) -> bool:
    return may_see_all_units(principal, project_id) or unit_id in principal.unit_ids


def may_see_all_parties(principal: Principal, project_id: int) -> bool:
    """Staff see every party of their projects and every occupancy linking one to a unit."""
    return principal.is_staff_of(project_id)


def may_see_party(principal: Principal, *, project_id: int, party_id: int) -> bool:
    return may_see_all_parties(principal, project_id) or party_id == principal.party_id


def may_see_occupancy(principal: Principal, *, project_id: int, party_id: int) -> bool:
    """Staff of the unit's project, and the occupant themself."""
    return may_see_party(principal, project_id=project_id, party_id=party_id)


def may_see_personal_data(principal: Principal, *, project_id: int, party_id: int) -> bool:
    """Unmasked phone and ID numbers: project admins and the person themself."""
    return may_administer_project(principal, project_id) or party_id == principal.party_id


def may_change_party(principal: Principal, *, project_id: int, party_id: int, identity: bool) -> bool:
    """Admins change anything; a person may change their own contact details but not their `identity`
    (name or ID number)."""
    if may_administer_project(principal, project_id):
        return True
    return party_id == principal.party_id and not identity



def visible_projects(principal: Principal) -> ColumnElement[bool]:
    """`may_see_project` in SQL."""
    return among(Project.id, principal.project_ids)


def visible_units(principal: Principal) -> ColumnElement[bool]:
    """`may_see_unit` in SQL."""
    whole_projects = principal.projects_with(*_WHOLE_PROJECT_UNIT_ROLES)
    return or_(among(Unit.project_id, whole_projects), among(Unit.id, principal.unit_ids))


def visible_parties(principal: Principal) -> ColumnElement[bool]:
    """`may_see_party` in SQL."""
    own = frozenset({principal.party_id}) if principal.party_id else frozenset()
    return or_(among(Party.project_id, principal.staff_project_ids), among(Party.id, own))
