"""Your notifications and choices; a project's templates for its administrators."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from kernel.errors import BadInput, DomainError, NotFound
from kernel.vocabulary import Locale
from notifications import inbox, templates
from notifications.kinds import MessageKind
from notifications.policy import TEMPLATE_ADMINS_ONLY, edits_templates
from schema.context import Info
from schema.errors import BadUserInputError, error_result
from schema.ids import decode_id
from schema.notifications.inputs import NotificationTemplateInput
from schema.notifications.types import (
    NotificationChannelEnum,
    NotificationConnection,
    NotificationKindEnum,
    NotificationPreferencesType,
    NotificationTemplateType,
    NotificationType,
    TemplatePreviewType,
)
from schema.pagination import after_id, edges_and_page_info, page_size
from schema.permissions import IsAuthenticated, allowed_if, require_principal
from schema.scalars import LocaleEnum

__all__ = ["NotificationQueries", "PreviewNotificationTemplateResult", "draft_of"]

TEMPLATE_ADMINS = [IsAuthenticated, allowed_if(edits_templates, TEMPLATE_ADMINS_ONLY)]

PreviewNotificationTemplateResult = Annotated[
    TemplatePreviewType | BadUserInputError,
    strawberry.union(
        "PreviewNotificationTemplateResult",
        description="What `previewNotificationTemplate` answers: the TemplatePreview, or BadUserInputError when the "
        "template does not compile or render (field names the part: template.body, template.subject, "
        "template.providerParams.<name>) or the payload is not an object.",
    ),
]


def draft_of(template: NotificationTemplateInput) -> templates.Draft:
    params = template.provider_params
    if params is not None and not (isinstance(params, dict) and all(isinstance(v, str) for v in params.values())):
        raise BadInput("Give the parameters as an object of name → template text.", field="providerParams")
    return templates.Draft(
        kind=MessageKind(template.kind.value),
        channel=template.channel,
        locale=Locale(template.locale.value),
        body=template.body,
        subject=template.subject,
        provider_template=template.provider_template,
        provider_params=params,
    )


@strawberry.type
class NotificationQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your in-app notifications, newest first (only your own; everyone has an inbox).",
    )
    async def my_notifications(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size (at most 100).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The cursor of the last item of the previous page.")] = None,
        unread_only: Annotated[bool, strawberry.argument(description="Only those you have not read.")] = False,
    ) -> NotificationConnection:
        principal = await require_principal(info)
        size, before = page_size(first), after_id(after)
        page = await inbox.list_my_notifications(
            info.context.session_factory, principal, limit=size, before_seq=before, unread_only=unread_only
        )
        edges, page_info = edges_and_page_info(
            [_BySeq(entry) for entry in page.entries], size, lambda paged: NotificationType.from_entry(paged.entry)
        )
        total = page.unread if unread_only else page.total

        async def count() -> int:
            return total

        return NotificationConnection(edges=edges, page_info=page_info, count=count, unread_count=page.unread)

    @strawberry.field(permission_classes=[IsAuthenticated], description="How you want to be reached.")
    async def my_notification_preferences(self, info: Info) -> NotificationPreferencesType:
        principal = await require_principal(info)
        return NotificationPreferencesType.from_preferences(await inbox.get_my_preferences(info.context.session_factory, principal))

    @strawberry.field(
        permission_classes=TEMPLATE_ADMINS,
        description="ADMIN: Every saved version of the project's notification templates (the built-in texts apply where "
        "none is saved).",
    )
    async def notification_templates(
        self, info: Info, project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")]
    ) -> list[NotificationTemplateType]:
        principal = await require_principal(info)
        try:
            rows = await templates.list_templates(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except DomainError:
            return []
        return [NotificationTemplateType.from_row(row) for row in rows]

    @strawberry.field(
        permission_classes=TEMPLATE_ADMINS,
        description="ADMIN: How a message would read: a draft template, or else what the kind uses now on the channel in the "
        "locale, rendered with `payload` or the kind's sample values; null for a project you do not administer.",
    )
    async def preview_notification_template(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        kind: Annotated[NotificationKindEnum, strawberry.argument(description="The kind of message.")],  # type: ignore[valid-type]
        channel: Annotated[NotificationChannelEnum, strawberry.argument(description="The channel.")],  # type: ignore[valid-type]
        locale: Annotated[LocaleEnum, strawberry.argument(description="The language.")],  # type: ignore[valid-type]
        template: Annotated[
            NotificationTemplateInput | None,
            strawberry.argument(description="A draft to preview; its projectId, kind, channel and locale are ignored here."),
        ] = None,
        payload: Annotated[JSON | None, strawberry.argument(description="Values for the template (an object).")] = None,
    ) -> PreviewNotificationTemplateResult | None:
        principal = await require_principal(info)
        try:
            if payload is not None and not isinstance(payload, dict):
                raise BadInput("Give the payload as an object.", field="payload")
            values: dict[str, Any] | None = payload
            draft = None
            if template is not None:
                draft = draft_of(template)
            preview = await templates.preview_template(
                info.context.session_factory,
                principal,
                project_id=decode_id(project_id, "Project", field="projectId"),
                kind=MessageKind(kind.value),
                channel=channel,
                locale=Locale(locale.value),
                draft=draft,
                payload=values,
            )
        except NotFound:
            return None
        except DomainError as error:
            return error_result(error)  # type: ignore[return-value]
        return TemplatePreviewType.from_preview(preview)


class _BySeq:
    """A notification paged by its inbox number (the cursor), newest first."""

    def __init__(self, entry: inbox.InboxEntry) -> None:
        self.entry = entry
        self.id = entry.message.inbox_seq

