"""Technicians: the people repair tickets are dispatched to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, created_at_column

__all__ = ["Technician"]


class Technician(Base):
    __tablename__ = "technician"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("home_latitude BETWEEN -90 AND 90", name="home_latitude_range"),
        CheckConstraint("home_longitude BETWEEN -180 AND 180", name="home_longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone_encrypted: Mapped[str | None] = mapped_column(String(512))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    home_latitude: Mapped[float]
    home_longitude: Mapped[float]
    current_latitude: Mapped[float | None]
    current_longitude: Mapped[float | None]
    on_shift: Mapped[bool] = mapped_column(default=True)
    capacity: Mapped[int] = mapped_column(default=3)
    created_at: Mapped[dt.datetime] = created_at_column()
