"""Who an announcement is for. Pure: standard library and the kernel only.

An audience names roles and, for residents, places:

- `OWNER` stands for the residents: every party whose occupancy (owner or tenant) covers the day of
  publishing, of a unit in the named buildings and units, or in the whole project when none is named;
- `ADMIN`, `FINANCE`, `DISPATCHER`, `TECHNICIAN` are the logins granted that role in the project (staff
  live nowhere, so places narrow only the residents, and naming places without `OWNER` is refused).

It is resolved into a snapshot of recipients when the announcement is published (one per addressee, as
the outbox addresses them); changes to the register afterwards change nothing of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kernel.errors import BadInput
from kernel.principal import Role

__all__ = ["MAX_PLACES", "Audience", "audience_of", "occupies_on"]

MAX_PLACES = 5_000
"""Buildings or units one audience may name; a larger community is addressed as a whole."""


@dataclass(frozen=True, slots=True)
class Audience:
    roles: frozenset[Role]
    building_ids: frozenset[int] = frozenset()
    unit_ids: frozenset[int] = frozenset()

    @property
    def addressed_roles(self) -> tuple[Role, ...]:
        """The roles, in the order `Role` lists them (for showing; the edge reads no role sets)."""
        return tuple(role for role in Role if role in self.roles)

    @property
    def residents(self) -> bool:
        """Whether the audience takes in residents (the `OWNER` role)."""
        return Role.OWNER in self.roles

    @property
    def whole_project(self) -> bool:
        """Residents of the whole project, no place named."""
        return not self.building_ids and not self.unit_ids

    @property
    def staff_roles(self) -> frozenset[Role]:
        """The roles whose logins are addressed by their grant."""
        return self.roles - {Role.OWNER}

    def stored(self) -> dict[str, Any]:
        """As the announcement's JSON column keeps it."""
        return {
            "roles": sorted(role.value for role in self.roles),
            "buildings": sorted(self.building_ids),
            "units": sorted(self.unit_ids),
        }

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Audience:
        return cls(
            roles=frozenset(Role(role) for role in stored.get("roles", ())),
            building_ids=frozenset(int(i) for i in stored.get("buildings", ())),
            unit_ids=frozenset(int(i) for i in stored.get("units", ())),
        )


def audience_of(*, roles: Iterable[Role], building_ids: Iterable[int], unit_ids: Iterable[int]) -> Audience:
    """The audience as given, checked: at least one role; places only with residents and at most
    `MAX_PLACES` of each kind. Whether the places belong to the project is the use case's to check."""
    audience = Audience(frozenset(roles), frozenset(building_ids), frozenset(unit_ids))
    if not audience.roles:
        raise BadInput("Name at least one role the announcement is for (OWNER for the residents).", field="audience.roles")
    for places, field in ((audience.building_ids, "audience.buildingIds"), (audience.unit_ids, "audience.unitIds")):
        if places and not audience.residents:
            raise BadInput("Buildings and units narrow the residents: add OWNER to the roles.", field=field)
        if len(places) > MAX_PLACES:
            raise BadInput(f"Name at most {MAX_PLACES} places, or address the whole project.", field=field)
    return audience


def occupies_on(start: dt.date, end: dt.date | None, day: dt.date) -> bool:
    """Whether an occupancy from `start` to `end` (inclusive; open-ended when None) covers `day`."""
    return start <= day and (end is None or end >= day)
