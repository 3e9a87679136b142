"""The notification outbox: messages written in the transaction that caused them, every attempt at
sending one, the templates they are rendered with, and what each person chose.

A message is addressed to an *addressee*: `party:<id>` for a person or company of the register (owners,
tenants), `user:<id>` for a login without a party (staff, technicians). Their in-app inbox, their
preferences and their WeChat consents are kept under that key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, StrEnumColumn, UtcDateTime, created_at_column
from kernel.vocabulary import DeliveryStatus, Locale, MessageStatus, NotificationChannel

__all__ = [
    "DeliveryAttempt",
    "InboxCounter",
    "Message",
    "NotificationPreference",
    "NotificationTemplate",
    "WechatConsent",
]

ADDRESSEE_LENGTH = 32


class Message(Base):
    """One message of the outbox. Written by `notifications.outbox.enqueue` inside its sender's unit of
    work, so it exists exactly when what caused it committed; the relay claims it (a lease), sends it and
    records the outcome."""

    __tablename__ = "message"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("party_id IS NOT NULL OR user_id IS NOT NULL", name="has_recipient"),
        # The relay's claim: due messages in the order they fall due.
        Index("ix_message_status_next_attempt_at", "status", "next_attempt_at"),
        # Frequency caps count what an addressee was sent of a kind lately.
        Index("ix_message_addressee_kind_sent_at", "addressee", "kind", "sent_at"),
        # The in-app inbox, in the order it was delivered (one number per addressee, see InboxCounter).
        UniqueConstraint("addressee", "inbox_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    addressee: Mapped[str] = mapped_column(String(ADDRESSEE_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locale: Mapped[Locale] = mapped_column(StrEnumColumn(Locale, "message_locale"))
    # The sender's choice of channels, in order (a dunning level names its own); null: the kind's order.
    channels: Mapped[list[str] | None] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[MessageStatus] = mapped_column(StrEnumColumn(MessageStatus, "message_status"))
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    # A relay's claim: until the lease expires no other relay takes the message; one that stopped
    # mid-send loses it to the next relay, which resends with the same idempotency key.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    channel: Mapped[NotificationChannel | None] = mapped_column(StrEnumColumn(NotificationChannel, "message_channel"))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    inbox_seq: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = created_at_column()
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class DeliveryAttempt(Base):
    """One try through one channel: what was rendered (template version, hash of the text) and what the
    provider answered. Written SENDING before the provider is called, finished after."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    channel: Mapped[NotificationChannel] = mapped_column(StrEnumColumn(NotificationChannel, "attempt_channel"))
    # 0: the built-in template of `notifications.default_templates`; otherwise the project's version.
    template_version: Mapped[int]
    rendered_hash: Mapped[str | None] = mapped_column(String(64))
    provider_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(StrEnumColumn(DeliveryStatus, "attempt_status"))
    error: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class NotificationTemplate(Base):
    """A project's text for one kind of message on one channel in one locale. Saving makes a new version;
    messages record the version they were rendered with."""

    __tablename__ = "notification_template"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", "channel", "locale", "version"),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    channel: Mapped[NotificationChannel] = mapped_column(StrEnumColumn(NotificationChannel, "template_channel"))
    locale: Mapped[Locale] = mapped_column(StrEnumColumn(Locale, "template_locale"))
    version: Mapped[int]
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # SMS: the provider's approved template code; WeChat: the subscription template's id.
    provider_template: Mapped[str | None] = mapped_column(String(64))
    # The provider template's parameters: name → template text rendered with the message's payload.
    provider_params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class NotificationPreference(Base):
    """What one addressee chose: the channels that may reach them, the kinds they muted, their quiet hours
    (minutes after local midnight; both null: the default 22:00–08:00)."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        CheckConstraint("quiet_start IS NULL OR (quiet_start >= 0 AND quiet_start < 1440)", name="quiet_start_range"),
        CheckConstraint("quiet_end IS NULL OR (quiet_end >= 0 AND quiet_end < 1440)", name="quiet_end_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    addressee: Mapped[str] = mapped_column(String(ADDRESSEE_LENGTH), unique=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    muted_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    quiet_start: Mapped[int | None]
    quiet_end: Mapped[int | None]
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class InboxCounter(Base):
    """The last in-app inbox number of an addressee. Delivering in-app increments it in the delivering
    transaction, whose row lock lasts until commit: inbox numbers commit in order, so a subscriber that
    read up to N has missed nothing below N."""

    __tablename__ = "notification_inbox"

    addressee: Mapped[str] = mapped_column(String(ADDRESSEE_LENGTH), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)


class WechatConsent(Base):
    """WeChat subscription messages: each time a person accepts a template in the mini-program, one
    message of that kind may be sent to their open ID. `remaining` counts what is left."""

    __tablename__ = "wechat_consent"
    __table_args__ = (
        UniqueConstraint("addressee", "kind"),
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    addressee: Mapped[str] = mapped_column(String(ADDRESSEE_LENGTH))
    kind: Mapped[str] = mapped_column(String(48))
    open_id: Mapped[str] = mapped_column(String(64))
    remaining: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
