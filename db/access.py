"""The SQL filters that limit lists to what a `Principal` may see."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_

from db.models import Technician
from kernel.principal import Principal

__all__ = ["visible_technicians"]


def _in(column: ColumnElement[int] | object, values: frozenset[int]) -> ColumnElement[bool]:
    return column.in_(sorted(values)) if values else false()  # type: ignore[attr-defined, no-any-return]


def visible_technicians(principal: Principal) -> ColumnElement[bool]:
    own = frozenset({principal.technician_id}) if principal.technician_id else frozenset()
    return or_(_in(Technician.project_id, principal.staff_project_ids), _in(Technician.id, own))
