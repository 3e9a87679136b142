"""Every ORM model, imported here so `Base.metadata` knows all tables (Alembic and tests rely on it)."""

from db.models.accounts import Role, RoleGrant, User
from db.models.property import (
    Building,
    Occupancy,
    OccupancyRelation,
    OccupancyStatus,
    Organization,
    Party,
    PartyType,
    Project,
    Unit,
    UnitKind,
)
from db.models.technicians import Technician

__all__ = [
    "Building",
    "Occupancy",
    "OccupancyRelation",
    "OccupancyStatus",
    "Organization",
    "Party",
    "PartyType",
    "Project",
    "Role",
    "RoleGrant",
    "Technician",
    "Unit",
    "UnitKind",
    "User",
]
