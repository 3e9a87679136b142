"""Technicians: the people repair tickets are dispatched to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, StrEnumColumn, created_at_column
from kernel.vocabulary import AbsenceReason

__all__ = ["Technician", "TechnicianDayOff", "TechnicianShift"]


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


class TechnicianShift(Base):
    """A technician's working hours on a weekday (every week) or on one date (which overrides the weekday),
    in minutes of the day in the project's time zone, with the breaks taken inside them. A shift that
    crosses midnight counts on past minute 1440 of the day it starts (22:00–06:00 is 1320–1800).

    ``breaks`` holds ``{"earliest": minute, "latest": minute, "minutes": n}``: a break of ``n`` minutes
    that starts between ``earliest`` and ``latest`` (lunch starting between 11:30 and 13:30).
    """

    __tablename__ = "technician_shift"
    __table_args__ = (
        CheckConstraint("(weekday IS NULL) <> (on_date IS NULL)", name="weekday_or_date"),
        CheckConstraint("weekday IS NULL OR (weekday BETWEEN 1 AND 7)", name="weekday_range"),
        CheckConstraint(
            "starts_minute >= 0 AND starts_minute < 1440 AND ends_minute > starts_minute"
            " AND ends_minute <= starts_minute + 1440",
            name="hours",
        ),
        UniqueConstraint("technician_id", "weekday"),
        UniqueConstraint("technician_id", "on_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technician.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int | None]  # ISO: 1 Monday … 7 Sunday
    on_date: Mapped[dt.date | None] = mapped_column(Date)
    starts_minute: Mapped[int]
    ends_minute: Mapped[int]
    breaks: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class TechnicianDayOff(Base):
    """A date a technician does not work (leave, sick), whatever their week or that date's hours say: the
    shift that would start that date is not planned and nothing is assigned to them that day."""

    __tablename__ = "technician_day_off"
    __table_args__ = (UniqueConstraint("technician_id", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technician.id", ondelete="CASCADE"), index=True)
    on_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[AbsenceReason] = mapped_column(StrEnumColumn(AbsenceReason, "absence_reason"))
    note: Mapped[str | None] = mapped_column(String(200))
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()
