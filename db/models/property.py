"""The property register: who manages what, and who lives where."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Scaled, StrEnumColumn, created_at_column
from kernel.vocabulary import Locale, PartyType, UnitKind

__all__ = [
    "Building",
    "Occupancy",
    "OccupancyRelation",
    "OccupancyStatus",
    "Organization",
    "Party",
    "Project",
    "Unit",
]


class OccupancyStatus(str, enum.Enum):
    SELF_OCCUPIED = "SELF_OCCUPIED"
    RENTED = "RENTED"
    VACANT = "VACANT"
    UNDER_RENOVATION = "UNDER_RENOVATION"


class OccupancyRelation(str, enum.Enum):
    OWNER = "OWNER"
    TENANT = "TENANT"


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = created_at_column()


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    locale: Mapped[Locale] = mapped_column(
        StrEnumColumn(Locale, "project_locale"), default=Locale.ZH_CN, server_default=Locale.ZH_CN.value
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = created_at_column()


class Building(Base):
    __tablename__ = "building"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = created_at_column()


class Unit(Base):
    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("building_id", "number"),
        CheckConstraint("floor_area > 0", name="floor_area_positive"),
        Index("ix_unit_project_id_id", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    floor: Mapped[int]
    floor_area: Mapped[Decimal] = mapped_column(Scaled(2))
    kind: Mapped[UnitKind] = mapped_column(StrEnumColumn(UnitKind, "unit_kind"))
    occupancy_status: Mapped[OccupancyStatus] = mapped_column(
        StrEnumColumn(OccupancyStatus, "occupancy_status"), default=OccupancyStatus.VACANT
    )
    created_at: Mapped[dt.datetime] = created_at_column()

    building: Mapped[Building] = relationship(lazy="raise")


class Party(Base):
    """A person or company; phone and national ID are stored encrypted with a blind index for lookups."""

    __tablename__ = "party"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    party_type: Mapped[PartyType] = mapped_column(StrEnumColumn(PartyType, "party_type"), default=PartyType.PERSON)
    email: Mapped[str | None] = mapped_column(String(254))
    phone_encrypted: Mapped[str | None] = mapped_column(String(512))
    phone_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    national_id_encrypted: Mapped[str | None] = mapped_column(String(512))
    national_id_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = created_at_column()


class Occupancy(Base):
    __tablename__ = "occupancy"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        Index("ix_occupancy_party_id_unit_id", "party_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"))
    relation: Mapped[OccupancyRelation] = mapped_column(StrEnumColumn(OccupancyRelation, "occupancy_relation"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = created_at_column()
