"""GraphQL types of notifications."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from db.models import NotificationTemplate, WechatConsent
from kernel.vocabulary import MessageStatus, NotificationChannel
from notifications.inbox import InboxEntry, Preferences, get_own_notifications
from notifications.kinds import MessageKind
from notifications.templates import Preview
from schema.context import Info
from schema.described_enum import described_enum
from schema.ids import database_id
from schema.pagination import CountedConnection
from schema.permissions import require_principal
from schema.scalars import LocaleEnum

__all__ = [
    "MessageStatusEnum",
    "NotificationChannelEnum",
    "NotificationConnection",
    "NotificationKindEnum",
    "NotificationPreferencesType",
    "NotificationTemplateType",
    "NotificationType",
    "TemplatePreviewType",
    "WechatConsentType",
    "WechatConsentsType",
]

NotificationKindEnum = described_enum(
    MessageKind,
    name="NotificationKind",
    description="What a message is about; each kind has its channels in order, its pacing and its texts.",
    values={
        "SECURITY_ALERT": "Your password changed or was reset, or a new login: never held back, cannot be muted.",
        "PAYMENT_CONFIRMATION": "A payment was booked, with its receipt number: never held back, cannot be muted.",
        "BILL_REMINDER": "A bill falls due soon or today (催缴提醒).",
        "OVERDUE_NOTICE": "A bill is overdue: days overdue and the late fee as of today (欠费通知).",
        "FINAL_NOTICE": "A bill is long overdue, in firmer words: days overdue and the late fee as of today (催缴通知).",
        "DUNNING_FOLLOW_UP": "To finance staff: an overdue account to phone (催缴回访).",
        "ANNOUNCEMENT": "A community announcement (公告).",
        "ANNOUNCEMENT_REMINDER": "A reminder to read an announcement you have not read.",
        "TICKET_ASSIGNED": "A repair ticket was assigned to you (technicians); sent at any hour.",
        "INVOICE_ISSUED": "An e-invoice (or a red-letter one) was issued to you, with its download links (电子发票).",
    },
)

MessageStatusEnum = described_enum(
    MessageStatus,
    name="MessageStatus",
    description="Where a message of the outbox stands.",
    values={
        "QUEUED": "Waiting for the relay (or for its next try after every channel failed).",
        "SENT": "A provider took it.",
        "DELIVERED": "It reached the person: in the inbox, or a provider's receipt said so.",
        "FAILED": "No channel could take it.",
        "THROTTLED": "Held back by quiet hours or a frequency cap; it goes out later, never dropped.",
        "DISABLED_BY_USER": "The person turned off every channel it could use, or muted its kind.",
        "CANCELLED": "Its sender withdrew it before it went out (e.g. a payment made the reminder moot).",
    },
)

NotificationChannelEnum = described_enum(
    NotificationChannel,
    name="NotificationChannel",
    description="How a message reaches you.",
    values={
        "IN_APP": "Your inbox in the app (myNotifications), live over the websocket.",
        "EMAIL": "E-mail to the address on record.",
        "SMS": "A text message to the phone number on record.",
        "WECHAT": "A WeChat subscription message (one per subscription you accepted in the mini-program).",
    },
)


@strawberry.type(name="Notification", description="A message delivered to your in-app inbox.")
class NotificationType(relay.Node):
    id: relay.NodeID[int] = strawberry.field(description="The notification's global ID.")
    kind: NotificationKindEnum = strawberry.field(description="What it is about.")  # type: ignore[valid-type]
    seq: int = strawberry.field(
        description="Its number in your inbox, counting up in the order delivered; pass the last you saw as afterSeq to "
        "the myNotifications subscription."
    )
    title: str = strawberry.field(description="The title, in your project's language.")
    body: str = strawberry.field(description="The text, in your project's language.")
    payload: JSON = strawberry.field(description="The facts it was made from (amounts as strings, dates as ISO 8601).")
    read: bool = strawberry.field(description="Whether you marked it read.")
    read_at: dt.datetime | None = strawberry.field(description="When you first marked it read (UTC).")
    delivered_at: dt.datetime = strawberry.field(description="When it reached your inbox (UTC).")

    @classmethod
    def from_entry(cls, entry: InboxEntry) -> NotificationType:
        message = entry.message
        assert message.inbox_seq is not None and message.delivered_at is not None
        return cls(
            id=message.id,
            kind=MessageKind(message.kind),
            seq=message.inbox_seq,
            title=entry.title,
            body=entry.body,
            payload=message.payload,
            read=message.read_at is not None,
            read_at=message.read_at,
            delivered_at=message.delivered_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[NotificationType | None]:
        principal = await require_principal(info)
        ids = [database_id(node_id) for node_id in node_ids]
        found = await get_own_notifications(info.context.session_factory, principal, ids=[i for i in ids if i is not None])
        return [cls.from_entry(found[i]) if i is not None and i in found else None for i in ids]


@strawberry.type(description="A page of your notifications, newest first.")
class NotificationConnection(CountedConnection[NotificationType]):
    unread_count: int = strawberry.field(description="How many of all your notifications you have not read.")


@strawberry.type(name="NotificationPreferences", description="How you want to be reached.")
class NotificationPreferencesType:
    channels: list[NotificationChannelEnum] = strawberry.field(  # type: ignore[valid-type]
        description="The channels that may reach you; security and payment confirmations use the others too when none "
        "of these reaches you."
    )
    muted_kinds: list[NotificationKindEnum] = strawberry.field(description="Kinds you do not want at all.")  # type: ignore[valid-type]
    quiet_hours_start: str = strawberry.field(description="Start of your quiet hours, HH:MM in your project's time zone.")
    quiet_hours_end: str = strawberry.field(description="End of your quiet hours (HH:MM); may be past midnight.")
    custom_quiet_hours: bool = strawberry.field(description="False while the default 22:00–08:00 applies.")

    @classmethod
    def from_preferences(cls, preferences: Preferences) -> NotificationPreferencesType:
        quiet = preferences.quiet_hours
        return cls(
            channels=sorted(preferences.channels, key=list(NotificationChannel).index),
            muted_kinds=sorted(preferences.muted_kinds, key=list(MessageKind).index),
            quiet_hours_start=quiet.start.strftime("%H:%M"),
            quiet_hours_end=quiet.end.strftime("%H:%M"),
            custom_quiet_hours=preferences.custom_quiet_hours,
        )


@strawberry.type(name="WechatConsent", description="WeChat subscription messages you allowed and have left.")
class WechatConsentType:
    kind: NotificationKindEnum = strawberry.field(description="The kind of message.")  # type: ignore[valid-type]
    remaining: int = strawberry.field(description="How many more messages of this kind may reach you on WeChat.")

    @classmethod
    def from_row(cls, row: WechatConsent) -> WechatConsentType:
        return cls(kind=MessageKind(row.kind), remaining=row.remaining)


@strawberry.type(name="WechatConsents", description="Your WeChat subscriptions after recording new ones.")
class WechatConsentsType:
    consents: list[WechatConsentType] = strawberry.field(description="Each kind you recorded, with what is left of it.")


@strawberry.type(name="NotificationTemplate", description="One saved version of a project's text for a kind, channel and locale.")
class NotificationTemplateType:
    kind: NotificationKindEnum = strawberry.field(description="The kind of message.")  # type: ignore[valid-type]
    channel: NotificationChannelEnum = strawberry.field(description="The channel it is for.")  # type: ignore[valid-type]
    locale: LocaleEnum = strawberry.field(description="The language.")  # type: ignore[valid-type]
    version: int = strawberry.field(description="Counts up from 1; messages record the version they were sent with.")
    subject: str | None = strawberry.field(description="E-mail subject and in-app title (Jinja2 template text).")
    body: str = strawberry.field(description="The text (Jinja2 template text; `| yuan` for money, `| day` for dates).")
    provider_template: str | None = strawberry.field(
        description="SMS: the provider's approved template code; WeChat: the subscription template's ID."
    )
    provider_params: JSON = strawberry.field(description="The provider template's parameters: name → template text.")
    created_at: dt.datetime = strawberry.field(description="When this version was saved (UTC).")

    @classmethod
    def from_row(cls, row: NotificationTemplate) -> NotificationTemplateType:
        return cls(
            kind=MessageKind(row.kind),
            channel=row.channel,
            locale=row.locale,
            version=row.version,
            subject=row.subject,
            body=row.body,
            provider_template=row.provider_template,
            provider_params=dict(row.provider_params or {}),
            created_at=row.created_at,
        )


@strawberry.type(name="TemplatePreview", description="A template rendered with a payload, as a message would read.")
class TemplatePreviewType:
    version: int = strawberry.field(description="The version rendered: 0 for a draft or the built-in text.")
    subject: str | None = strawberry.field(description="The subject or title.")
    body: str = strawberry.field(description="The text.")
    provider_template: str | None = strawberry.field(description="The provider template code or ID, if any.")
    provider_params: JSON = strawberry.field(description="The provider template's parameters as rendered.")
    digest: str = strawberry.field(description="SHA-256 of the rendered text, as delivery attempts record it.")
    payload: JSON = strawberry.field(description="The payload it was rendered with (the kind's sample unless given).")

    @classmethod
    def from_preview(cls, preview: Preview) -> TemplatePreviewType:
        rendered = preview.rendered
        payload: dict[str, Any] = dict(preview.payload)
        return cls(
            version=rendered.version,
            subject=rendered.subject,
            body=rendered.body,
            provider_template=rendered.provider_template,
            provider_params=dict(rendered.provider_params),
            digest=rendered.digest,
            payload=payload,
        )
