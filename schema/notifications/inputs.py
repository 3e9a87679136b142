"""Inputs of the notification operations."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from schema.notifications.types import NotificationChannelEnum, NotificationKindEnum
from schema.scalars import LocaleEnum

__all__ = ["NotificationTemplateInput", "RecordWechatConsentInput", "UpdateNotificationPreferencesInput"]


@strawberry.input(description="What to change of how you are reached; what you leave out stays as it is.")
class UpdateNotificationPreferencesInput:
    channels: list[NotificationChannelEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The channels that may reach you (all of them, or none, or some)."
    )
    muted_kinds: list[NotificationKindEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Kinds you do not want; security and payment confirmations cannot be muted."
    )
    quiet_hours_start: str | None = strawberry.field(default=None, description="HH:MM; give the end too.")
    quiet_hours_end: str | None = strawberry.field(default=None, description="HH:MM; may be earlier than the start (past midnight).")
    default_quiet_hours: bool = strawberry.field(default=False, description="True: back to the default 22:00–08:00.")


@strawberry.input(description="Subscriptions you just accepted in the mini-program (wx.requestSubscribeMessage).")
class RecordWechatConsentInput:
    open_id: str = strawberry.field(description="Your open ID in the mini-program.")
    kinds: list[NotificationKindEnum] = strawberry.field(  # type: ignore[valid-type]
        description="The kinds whose templates you accepted: one more message of each may reach you on WeChat."
    )


@strawberry.input(description="A template's text for one kind, channel and locale (Jinja2, in a sandbox).")
class NotificationTemplateInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    kind: NotificationKindEnum = strawberry.field(description="The kind of message.")  # type: ignore[valid-type]
    channel: NotificationChannelEnum = strawberry.field(description="The channel.")  # type: ignore[valid-type]
    locale: LocaleEnum = strawberry.field(description="The language.")  # type: ignore[valid-type]
    body: str = strawberry.field(description="The text; `{{ amount_due | yuan }}`, `{{ due_date | day }}`, `{{ project }}`.")
    subject: str | None = strawberry.field(default=None, description="E-mail subject and in-app title.")
    provider_template: str | None = strawberry.field(
        default=None, description="SMS: the approved template code; WeChat: the subscription template's ID."
    )
    provider_params: JSON | None = strawberry.field(
        default=None, description="The provider template's parameters: an object of name → template text."
    )
