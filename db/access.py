"""The SQL filters that limit lists to what a `Principal` may see."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_

from db.models import Party, Project, Unit
from kernel.principal import STAFF_ROLES, Principal, Role

__all__ = [
    "visible_parties",
    "visible_projects",
    "visible_units",
]


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
