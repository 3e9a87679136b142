"""Writing, publishing and recalling a project's announcements (its admins), and marking one read (its
recipients)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from announcements import drafting, publishing, reading
from announcements.policy import ANNOUNCEMENT_WRITERS_ONLY, writes_announcements
from announcements.reading import AnnouncementView
from db.models import Announcement
from kernel.principal import Principal, Role
from schema.announcements.inputs import AnnouncementAudienceInput, CreateAnnouncementInput, UpdateAnnouncementInput
from schema.announcements.types import AnnouncementType
from schema.context import Info
from schema.errors import result_union
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, allowed_if
from schema.use_cases import run_for_caller

__all__ = ["AnnouncementMutations"]

WRITERS = [IsAuthenticated, allowed_if(writes_announcements, ANNOUNCEMENT_WRITERS_ONLY)]

CreateAnnouncementResult = result_union(AnnouncementType, "CreateAnnouncementResult")
UpdateAnnouncementResult = result_union(AnnouncementType, "UpdateAnnouncementResult")
PublishAnnouncementResult = result_union(AnnouncementType, "PublishAnnouncementResult")
RecallAnnouncementResult = result_union(AnnouncementType, "RecallAnnouncementResult")
MarkAnnouncementReadResult = result_union(AnnouncementType, "MarkAnnouncementReadResult")


def _written(row: Announcement) -> AnnouncementType:
    """An announcement as its writer sees it: staff of its project (the use case checked that)."""
    return AnnouncementType.from_view(AnnouncementView(row, staff=True))


def _audience(audience: AnnouncementAudienceInput) -> tuple[list[Role], list[int], list[int]]:
    return (
        list(audience.addressed_roles),
        [decode_id(i, "Building", field="audience.buildingIds") for i in audience.building_ids],
        [decode_id(i, "Unit", field="audience.unitIds") for i in audience.unit_ids],
    )


@strawberry.type
class AnnouncementMutations:
    @strawberry.mutation(
        permission_classes=WRITERS,
        description="ADMIN: Draft an announcement in your project; nobody but its staff sees it until it is published.",
    )
    async def create_announcement(
        self, info: Info, input: Annotated[CreateAnnouncementInput, strawberry.argument(description="The announcement.")]
    ) -> CreateAnnouncementResult:  # type: ignore[valid-type]
        sessions, now = info.context.session_factory, info.context.now()

        async def create(principal: Principal) -> Announcement:
            roles, buildings, units = _audience(input.audience)
            reminders = {} if input.reminders is None else {
                "reminder_after_hours": input.reminders.after_hours, "reminder_limit": input.reminders.limit
            }
            return await drafting.create_announcement(
                sessions,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                title=input.title,
                body=input.body,
                roles=roles,
                building_ids=buildings,
                unit_ids=units,
                now=now,
                **reminders,
            )

        return await run_for_caller(info, create, _written)

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="ADMIN: Change a draft; a published or recalled announcement answers CONFLICT.",
    )
    async def update_announcement(
        self, info: Info, input: Annotated[UpdateAnnouncementInput, strawberry.argument(description="What to change.")]
    ) -> UpdateAnnouncementResult:  # type: ignore[valid-type]
        sessions, now = info.context.session_factory, info.context.now()

        async def update(principal: Principal) -> Announcement:
            roles, buildings, units = _audience(input.audience) if input.audience is not None else (None, None, None)
            return await drafting.update_announcement(
                sessions,
                principal,
                announcement_id=decode_id(input.id, "Announcement", field="id"),
                now=now,
                title=input.title,
                body=input.body,
                roles=roles,
                building_ids=buildings,
                unit_ids=units,
                reminder_after_hours=input.reminders.after_hours if input.reminders is not None else None,
                reminder_limit=input.reminders.limit if input.reminders is not None else None,
            )

        return await run_for_caller(info, update, _written)

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="ADMIN: Publish a draft to everyone its audience takes in today: each gets it in the app (and on the "
        "channels they chose) and reminders while they have not read it. An audience with no one in it answers "
        "BAD_USER_INPUT on `audience`.",
    )
    async def publish_announcement(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The draft.")]
    ) -> PublishAnnouncementResult:  # type: ignore[valid-type]
        sessions, now, publisher = info.context.session_factory, info.context.now(), info.context.services.publisher
        return await run_for_caller(
            info,
            lambda principal: publishing.publish_announcement(
                sessions, principal, announcement_id=decode_id(id, "Announcement", field="id"), now=now, publisher=publisher
            ),
            _written,
        )

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="ADMIN: Recall a published announcement: hidden from its recipients, its messages and reminders not "
        "yet sent cancelled; who received and read it is kept.",
    )
    async def recall_announcement(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The announcement.")],
        reason: Annotated[str | None, strawberry.argument(description="Why, for the record (at most 200 characters).")] = None,
    ) -> RecallAnnouncementResult:  # type: ignore[valid-type]
        sessions, now, publisher = info.context.session_factory, info.context.now(), info.context.services.publisher
        return await run_for_caller(
            info,
            lambda principal: publishing.recall_announcement(
                sessions,
                principal,
                announcement_id=decode_id(id, "Announcement", field="id"),
                reason=reason,
                now=now,
                publisher=publisher,
            ),
            _written,
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Mark an announcement published to you read (its in-app messages too); again changes nothing. One "
        "not published to you answers NOT_FOUND.",
    )
    async def mark_announcement_read(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The announcement.")]
    ) -> MarkAnnouncementReadResult:  # type: ignore[valid-type]
        sessions, now, publisher = info.context.session_factory, info.context.now(), info.context.services.publisher
        return await run_for_caller(
            info,
            lambda principal: reading.mark_announcement_read(
                sessions, principal, announcement_id=decode_id(id, "Announcement", field="id"), now=now, publisher=publisher
            ),
            AnnouncementType.from_view,
        )
