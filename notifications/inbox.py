"""A person's own notifications: the in-app inbox a page at a time, marking one read, what they chose
(channels, muted kinds, quiet hours) and the WeChat subscriptions they accepted."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DeliveryAttempt, Message, NotificationPreference, NotificationTemplate, Project, WechatConsent
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, NotFound
from kernel.principal import Principal
from kernel.vocabulary import DeliveryStatus, Locale, NotificationChannel
from notifications.default_templates import default_template
from notifications.kinds import KINDS, MessageKind
from notifications.pacing import QuietHours
from notifications.policy import addressee_of, may_read_message, own_messages
from notifications.relay import quiet_hours_of
from notifications.rendering import TemplateFailed, TemplateText, render

__all__ = [
    "InboxEntry",
    "InboxPage",
    "get_own_notifications",
    "inbox_entries",
    "Preferences",
    "get_my_preferences",
    "list_my_notifications",
    "mark_notification_read",
    "record_wechat_consent",
    "update_my_preferences",
]

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_OPEN_ID = re.compile(r"[A-Za-z0-9_-]{6,64}")


@dataclass(frozen=True)
class InboxEntry:
    """An in-app message with its text as it was delivered (the template version of its delivery)."""

    message: Message
    title: str
    body: str

    @property
    def id(self) -> int:
        return self.message.id


@dataclass(frozen=True)
class InboxPage:
    """Up to `limit` + 1 entries, newest first (the extra one only says another page follows)."""

    entries: Sequence[InboxEntry]
    unread: int
    total: int


@dataclass(frozen=True)
class Preferences:
    channels: frozenset[NotificationChannel]
    muted_kinds: frozenset[MessageKind]
    quiet_hours: QuietHours
    custom_quiet_hours: bool


async def list_my_notifications(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    limit: int,
    before_seq: int | None,
    unread_only: bool,
) -> InboxPage:
    """The caller's in-app notifications, newest first, starting below inbox number `before_seq`."""
    conditions = [own_messages(principal)]
    unread = [*conditions, Message.read_at.is_(None)]
    if unread_only:
        conditions = unread
    page = list(conditions)
    if before_seq is not None:
        page.append(Message.inbox_seq < before_seq)
    async with session_factory() as session:
        rows = (await session.scalars(select(Message).where(*page).order_by(Message.inbox_seq.desc()).limit(limit + 1))).all()
        unread_count = await session.scalar(select(func.count()).select_from(Message).where(*unread))
        total = await session.scalar(select(func.count()).select_from(Message).where(own_messages(principal)))
        entries = await inbox_entries(session, rows)
    return InboxPage(entries, int(unread_count or 0), int(total or 0))


async def get_own_notifications(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, ids: Sequence[int]
) -> dict[int, InboxEntry]:
    """Those of `ids` that are the caller's in-app notifications, by id (someone else's are left out)."""
    if not ids:
        return {}
    async with session_factory() as session:
        rows = (await session.scalars(select(Message).where(Message.id.in_(sorted(set(ids))), own_messages(principal)))).all()
        return {entry.id: entry for entry in await inbox_entries(session, rows)}


async def inbox_entries(session: AsyncSession, messages: Sequence[Message]) -> list[InboxEntry]:
    """The messages with their text, rendered with the template version each was delivered with."""
    ids = [message.id for message in messages]
    versions = dict(
        (
            await session.execute(
                select(DeliveryAttempt.message_id, DeliveryAttempt.template_version).where(
                    DeliveryAttempt.message_id.in_(ids),
                    DeliveryAttempt.channel == NotificationChannel.IN_APP,
                    DeliveryAttempt.status == DeliveryStatus.DELIVERED,
                )
            )
        ).all()
    ) if ids else {}
    projects = dict(
        (await session.execute(select(Project.id, Project.name).where(Project.id.in_({m.project_id for m in messages})))).all()
    ) if ids else {}
    entries = []
    for message in messages:
        text = await _delivered_template(session, message, versions.get(message.id, 0))
        try:
            rendered = render(text, {**message.payload, "project": projects.get(message.project_id, "")}, message.locale)
            title, body = rendered.subject or "", rendered.body
        except TemplateFailed:
            # It rendered when it was delivered; a kind whose texts changed since still shows its facts.
            title, body = message.kind, ""
        entries.append(InboxEntry(message, title, body))
    return entries


async def _delivered_template(session: AsyncSession, message: Message, version: int) -> TemplateText:
    kind = MessageKind(message.kind) if message.kind in MessageKind.__members__ else None
    if version:
        stored = await session.scalar(
            select(NotificationTemplate).where(
                NotificationTemplate.project_id == message.project_id,
                NotificationTemplate.kind == message.kind,
                NotificationTemplate.channel == NotificationChannel.IN_APP,
                NotificationTemplate.locale == message.locale,
                NotificationTemplate.version == version,
            )
        )
        if stored is not None:
            return TemplateText(body=stored.body, subject=stored.subject, version=stored.version)
    if kind is None:
        return TemplateText(body=message.kind)
    return default_template(kind, Locale(message.locale))


async def mark_notification_read(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, message_id: int, now: dt.datetime
) -> InboxEntry:
    """Mark one of the caller's notifications read; marking it again changes nothing (the first time counts)."""
    async with unit_of_work(session_factory) as work:
        message = await work.session.get(Message, message_id)
        if message is None or not may_read_message(
            principal, addressee=message.addressee, in_inbox=message.inbox_seq is not None
        ):
            raise NotFound(f"No notification {message_id}.", field="id")
        if message.read_at is None:
            message.read_at = now
        (entry,) = await inbox_entries(work.session, [message])
        return entry


async def get_my_preferences(session_factory: async_sessionmaker[AsyncSession], principal: Principal) -> Preferences:
    async with session_factory() as session:
        row = await _preference(session, addressee_of(principal))
    return _preferences(row)


async def update_my_preferences(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    channels: Sequence[NotificationChannel] | None,
    muted_kinds: Sequence[str] | None,
    quiet_start: str | None,
    quiet_end: str | None,
    default_quiet_hours: bool,
) -> Preferences:
    """Change what the caller chose; what is left out stays as it was. Quiet hours are given as "HH:MM"
    both or neither; `default_quiet_hours` goes back to 22:00–08:00."""
    kinds: list[str] | None = None
    if muted_kinds is not None:
        kinds = sorted(set(muted_kinds))
        for kind in kinds:
            known = next((k for k in KINDS if k.value == kind), None)
            if known is None:
                raise BadInput(f"No kind of message {kind!r}.", field="mutedKinds")
            if KINDS[known].urgent:
                raise BadInput(f"{kind} messages cannot be muted: they are about your account or your money.", field="mutedKinds")
    if (quiet_start is None) != (quiet_end is None):
        raise BadInput("Give quiet hours as both a start and an end.", field="quietHoursStart" if quiet_start is None else "quietHoursEnd")
    if default_quiet_hours and quiet_start is not None:
        raise BadInput("Either set quiet hours or go back to the default, not both.", field="defaultQuietHours")
    minutes = (_minutes(quiet_start, "quietHoursStart"), _minutes(quiet_end, "quietHoursEnd")) if quiet_start is not None else None
    async with unit_of_work(session_factory) as work:
        addressee = addressee_of(principal)
        row = await _preference(work.session, addressee)
        if row is None:
            row = NotificationPreference(addressee=addressee, channels=[c.value for c in NotificationChannel], muted_kinds=[])
            work.session.add(row)
        if channels is not None:
            row.channels = [c.value for c in NotificationChannel if c in set(channels)]
        if kinds is not None:
            row.muted_kinds = kinds
        if minutes is not None:
            row.quiet_start, row.quiet_end = minutes
        elif default_quiet_hours:
            row.quiet_start = row.quiet_end = None
        row.updated_at = now
        await work.session.flush()
        return _preferences(row)


async def record_wechat_consent(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    open_id: str,
    kinds: Sequence[str],
) -> list[WechatConsent]:
    """The caller accepted these kinds' templates once each in the mini-program: one more message of each
    may reach `open_id`."""
    if _OPEN_ID.fullmatch(open_id) is None:
        raise BadInput("A WeChat open ID is 6 to 64 letters, digits, - or _.", field="openId")
    if not kinds:
        raise BadInput("Name at least one kind of message.", field="kinds")
    for kind in kinds:
        if kind not in {k.value for k in KINDS}:
            raise BadInput(f"No kind of message {kind!r}.", field="kinds")
    async with unit_of_work(session_factory) as work:
        addressee = addressee_of(principal)
        consents = []
        for kind in sorted(set(kinds)):
            row = await work.session.scalar(
                select(WechatConsent).where(WechatConsent.addressee == addressee, WechatConsent.kind == kind)
            )
            if row is None:
                row = WechatConsent(addressee=addressee, kind=kind, open_id=open_id, remaining=0)
                work.session.add(row)
            row.open_id = open_id
            row.remaining = (row.remaining or 0) + 1
            row.updated_at = now
            consents.append(row)
        await work.session.flush()
        return consents


async def _preference(session: AsyncSession, addressee: str) -> NotificationPreference | None:
    return await session.scalar(select(NotificationPreference).where(NotificationPreference.addressee == addressee))


def _preferences(row: NotificationPreference | None) -> Preferences:
    if row is None:
        return Preferences(frozenset(NotificationChannel), frozenset(), quiet_hours_of(None), False)
    return Preferences(
        channels=frozenset(NotificationChannel(c) for c in row.channels if c in NotificationChannel.__members__),
        muted_kinds=frozenset(MessageKind(k) for k in row.muted_kinds if k in MessageKind.__members__),
        quiet_hours=quiet_hours_of(row),
        custom_quiet_hours=row.quiet_start is not None,
    )


def _minutes(clock: str | None, field: str) -> int:
    match = _CLOCK.fullmatch(clock or "")
    if match is None:
        raise BadInput("Give a time as HH:MM, 00:00 to 23:59.", field=field)
    return int(match.group(1)) * 60 + int(match.group(2))
