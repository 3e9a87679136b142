"""Community announcements (公告): the text and audience an administrator writes, and, once published,
the snapshot of recipients with each one's read receipt.

Recipients are addressed as the notifications outbox addresses them (`party:<id>` for residents and any
login of a party, `user:<id>` for a login without one): that is the person a receipt stands for, so
every login of a household shares one receipt.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, StrEnumColumn, UtcDateTime, created_at_column
from db.models.notifications import ADDRESSEE_LENGTH
from kernel.vocabulary import AnnouncementStatus

__all__ = ["Announcement", "AnnouncementRecipient"]


class Announcement(Base):
    """One announcement. `recipient_count` is fixed when it is published; `read_count` grows by one with
    each first read, in the reading transaction (the row lock orders the counts as they commit)."""

    __tablename__ = "announcement"
    __table_args__ = (
        CheckConstraint("read_count >= 0 AND read_count <= recipient_count", name="read_within_recipients"),
        CheckConstraint("reminders_sent >= 0 AND reminders_sent <= reminder_limit", name="reminders_within_limit"),
        CheckConstraint("reminder_after_hours > 0", name="reminder_after_positive"),
        # The staff list, newest first, per project.
        Index("ix_announcement_project_id_id", "project_id", "id"),
        # The reminder job: published announcements whose next round has fallen due.
        Index("ix_announcement_status_next_reminder_at", "status", "next_reminder_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[AnnouncementStatus] = mapped_column(StrEnumColumn(AnnouncementStatus, "announcement_status"))
    # `announcements.audience.Audience.stored()`: roles, and for residents the buildings and units.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    reminder_after_hours: Mapped[int]
    reminder_limit: Mapped[int]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    next_reminder_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    recipient_count: Mapped[int] = mapped_column(default=0)
    read_count: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    published_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    recalled_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    recalled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    recall_reason: Mapped[str | None] = mapped_column(String(200))


class AnnouncementRecipient(Base):
    """One person an announcement was published to, and when they first read it (by which login)."""

    __tablename__ = "announcement_recipient"
    __table_args__ = (
        UniqueConstraint("announcement_id", "addressee"),
        # A person's announcements, newest first.
        Index("ix_announcement_recipient_addressee_announcement_id", "addressee", "announcement_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="RESTRICT"))
    addressee: Mapped[str] = mapped_column(String(ADDRESSEE_LENGTH))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    read_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
