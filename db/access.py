"""Who may see and change what: pure rules over a `Principal`, plus the SQL filters that apply them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_

from db.models import Party, Project, Role, Technician, Unit

__all__ = [
    "STAFF_ROLES",
    "Principal",
    "visible_parties",
    "visible_projects",
    "visible_technicians",
    "visible_units",
]

STAFF_ROLES = frozenset({Role.ADMIN, Role.FINANCE, Role.DISPATCHER})


@dataclass(frozen=True)
class Principal:
    """The logged-in user as permission checks see it: roles per project and what they occupy."""

    user_id: int
    roles: Mapping[int, frozenset[Role]]
    party_id: int | None = None
    technician_id: int | None = None
    unit_ids: frozenset[int] = field(default_factory=frozenset)

    def has_role(self, project_id: int, *roles: Role) -> bool:
        return bool(self.roles.get(project_id, frozenset()) & set(roles))

    def projects_with(self, *roles: Role) -> frozenset[int]:
        wanted = set(roles)
        return frozenset(project for project, held in self.roles.items() if held & wanted)

    def holds_any(self, roles: Iterable[Role]) -> bool:
        wanted = set(roles)
        return any(held & wanted for held in self.roles.values())

    @property
    def project_ids(self) -> frozenset[int]:
        return frozenset(self.roles)

    @property
    def staff_project_ids(self) -> frozenset[int]:
        return self.projects_with(*STAFF_ROLES)

    def is_staff_of(self, project_id: int) -> bool:
        return self.has_role(project_id, *STAFF_ROLES)

    def can_see_unit(self, project_id: int, unit_id: int) -> bool:
        return self.has_role(project_id, *STAFF_ROLES, Role.TECHNICIAN) or unit_id in self.unit_ids

    def can_see_party(self, project_id: int, party_id: int) -> bool:
        return self.is_staff_of(project_id) or party_id == self.party_id

    def can_see_personal_data(self, project_id: int, party_id: int) -> bool:
        """Unmasked phone and ID numbers: project admins and the person themself."""
        return self.has_role(project_id, Role.ADMIN) or party_id == self.party_id

    def can_see_technician(self, project_id: int, technician_id: int) -> bool:
        return self.is_staff_of(project_id) or technician_id == self.technician_id


def _in(column: ColumnElement[int] | object, values: frozenset[int]) -> ColumnElement[bool]:
    return column.in_(sorted(values)) if values else false()  # type: ignore[attr-defined, no-any-return]


def visible_projects(principal: Principal) -> ColumnElement[bool]:
    return _in(Project.id, principal.project_ids)


def visible_units(principal: Principal) -> ColumnElement[bool]:
    whole_projects = principal.projects_with(*STAFF_ROLES, Role.TECHNICIAN)
    return or_(_in(Unit.project_id, whole_projects), _in(Unit.id, principal.unit_ids))


def visible_parties(principal: Principal) -> ColumnElement[bool]:
    own = frozenset({principal.party_id}) if principal.party_id else frozenset()
    return or_(_in(Party.project_id, principal.staff_project_ids), _in(Party.id, own))


def visible_technicians(principal: Principal) -> ColumnElement[bool]:
    own = frozenset({principal.technician_id}) if principal.technician_id else frozenset()
    return or_(_in(Technician.project_id, principal.staff_project_ids), _in(Technician.id, own))
