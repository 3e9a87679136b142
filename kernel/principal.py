"""Who is calling: the logged-in user as every permission check sees it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["STAFF_ROLES", "Principal", "Role"]


class Role(StrEnum):
    ADMIN = "ADMIN"
    FINANCE = "FINANCE"
    DISPATCHER = "DISPATCHER"
    TECHNICIAN = "TECHNICIAN"
    OWNER = "OWNER"


STAFF_ROLES = frozenset({Role.ADMIN, Role.FINANCE, Role.DISPATCHER})


@dataclass(frozen=True)
class Principal:
    """Roles per project and what the user occupies. Which objects that lets them see and change is the
    business of each domain's policy module; these are only the facts those policies read."""

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

