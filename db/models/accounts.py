"""Logins and the roles they hold per project."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, StrEnumColumn, UtcDateTime, created_at_column
from kernel.principal import Role

__all__ = ["LoginThrottle", "RevokedToken", "Role", "RoleGrant", "User"]


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="SET NULL"), index=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technician.id", ondelete="SET NULL"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Changing or resetting the password sets this: every token issued before it is refused at once.
    tokens_valid_after: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # An administrator's one-time reset: only a digest is kept, the code itself is shown once.
    password_reset_digest: Mapped[str | None] = mapped_column(String(64))
    password_reset_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[dt.datetime] = created_at_column()


class RoleGrant(Base):
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "project_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(StrEnumColumn(Role, "role"))


class LoginThrottle(Base):
    """Failed logins per key (a client address, an e-mail, or an e-mail's known address), shared by every
    server instance through the database."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


class RevokedToken(Base):
    """A token logged out before its expiry; the row can go once the token would have expired anyway."""

    __tablename__ = "revoked_token"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
