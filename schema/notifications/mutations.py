"""Marking your notifications read, choosing how you are reached, recording WeChat subscriptions, and
saving a project's templates."""

from __future__ import annotations

from typing import Annotated

import strawberry

from notifications import inbox, templates
from notifications.kinds import MessageKind
from schema.context import Info
from schema.errors import result_union
from schema.ids import decode_id
from schema.notifications.inputs import (
    NotificationTemplateInput,
    RecordWechatConsentInput,
    UpdateNotificationPreferencesInput,
)
from schema.notifications.queries import TEMPLATE_ADMINS, draft_of
from schema.notifications.types import (
    NotificationPreferencesType,
    NotificationTemplateType,
    NotificationType,
    WechatConsentsType,
    WechatConsentType,
)
from schema.permissions import IsAuthenticated
from schema.use_cases import run_for_caller

__all__ = ["NotificationMutations"]

MarkNotificationReadResult = result_union(NotificationType, "MarkNotificationReadResult")
UpdateMyNotificationPreferencesResult = result_union(NotificationPreferencesType, "UpdateMyNotificationPreferencesResult")
RecordWechatConsentResult = result_union(WechatConsentsType, "RecordWechatConsentResult")
SaveNotificationTemplateResult = result_union(NotificationTemplateType, "SaveNotificationTemplateResult")


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Mark one of your notifications read; again changes nothing. Someone else's answers NOT_FOUND.",
    )
    async def mark_notification_read(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The notification.")]
    ) -> MarkNotificationReadResult:  # type: ignore[valid-type]
        sessions, now = info.context.session_factory, info.context.now()
        return await run_for_caller(
            info,
            lambda principal: inbox.mark_notification_read(
                sessions, principal, message_id=decode_id(id, "Notification", field="id"), now=now
            ),
            NotificationType.from_entry,
        )

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Change how you want to be reached.")
    async def update_my_notification_preferences(
        self, info: Info, input: Annotated[UpdateNotificationPreferencesInput, strawberry.argument(description="What to change.")]
    ) -> UpdateMyNotificationPreferencesResult:  # type: ignore[valid-type]
        sessions, now = info.context.session_factory, info.context.now()
        return await run_for_caller(
            info,
            lambda principal: inbox.update_my_preferences(
                sessions,
                principal,
                now=now,
                channels=input.channels,
                muted_kinds=[kind.value for kind in input.muted_kinds] if input.muted_kinds is not None else None,
                quiet_start=input.quiet_hours_start,
                quiet_end=input.quiet_hours_end,
                default_quiet_hours=input.default_quiet_hours,
            ),
            NotificationPreferencesType.from_preferences,
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Record WeChat subscriptions you accepted in the mini-program: each buys one message of its kind.",
    )
    async def record_wechat_consent(
        self, info: Info, input: Annotated[RecordWechatConsentInput, strawberry.argument(description="What you accepted.")]
    ) -> RecordWechatConsentResult:  # type: ignore[valid-type]
        sessions, now = info.context.session_factory, info.context.now()
        return await run_for_caller(
            info,
            lambda principal: inbox.record_wechat_consent(
                sessions, principal, now=now, open_id=input.open_id, kinds=[MessageKind(k.value) for k in input.kinds]
            ),
            lambda rows: WechatConsentsType(consents=[WechatConsentType.from_row(row) for row in rows]),
        )

    @strawberry.mutation(
        permission_classes=TEMPLATE_ADMINS,
        description="ADMIN: Save a template as the next version of its kind, channel and locale in the project, once it "
        "renders with the kind's sample values. Messages from now on use it.",
    )
    async def save_notification_template(
        self, info: Info, input: Annotated[NotificationTemplateInput, strawberry.argument(description="The template.")]
    ) -> SaveNotificationTemplateResult:  # type: ignore[valid-type]
        sessions, now = info.context.session_factory, info.context.now()
        return await run_for_caller(
            info,
            lambda principal: templates.save_template(
                sessions,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                draft=draft_of(input),
                now=now,
            ),
            NotificationTemplateType.from_row,
        )
