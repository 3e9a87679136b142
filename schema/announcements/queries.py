"""The announcements of a project for its staff, and the announcements published to you."""

from __future__ import annotations

from typing import Annotated

import strawberry

from announcements import reading
from announcements.policy import ANNOUNCEMENT_STAFF_ONLY, follows_announcements
from kernel.errors import NotFound
from schema.announcements.types import AnnouncementConnection, AnnouncementStatusEnum, AnnouncementType, MyAnnouncementConnection
from schema.context import Info
from schema.ids import decode_id
from schema.pagination import after_id, edges_and_page_info, empty_connection, page_size
from schema.permissions import IsAuthenticated, allowed_if, require_principal

__all__ = ["AnnouncementQueries"]


@strawberry.type
class AnnouncementQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated, allowed_if(follows_announcements, ANNOUNCEMENT_STAFF_ONLY)],
        description="Staff (ADMIN, FINANCE, DISPATCHER): a project's announcements, newest first, drafts included, with "
        "their counters; empty for a project you are not staff of. `node(id)` gives one with its recipients.",
    )
    async def announcements(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        status: Annotated[
            AnnouncementStatusEnum | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only those in this status."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size (at most 100).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The cursor of the last item of the previous page.")] = None,
    ) -> AnnouncementConnection:
        principal = await require_principal(info)
        size, before = page_size(first), after_id(after)
        try:
            project = decode_id(project_id, "Project", field="projectId")
        except NotFound:
            return empty_connection(AnnouncementConnection)
        views, total = await reading.list_announcements(
            info.context.session_factory, principal, project_id=project, status=status, limit=size, before_id=before
        )
        edges, page_info = edges_and_page_info(views, size, AnnouncementType.from_view)

        async def count() -> int:
            return total

        return AnnouncementConnection(edges=edges, page_info=page_info, count=count)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The announcements published to you, newest first, while they are published (a recalled one is "
        "hidden again); nobody else's.",
    )
    async def my_announcements(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size (at most 100).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The cursor of the last item of the previous page.")] = None,
        unread_only: Annotated[bool, strawberry.argument(description="Only those you have not read.")] = False,
    ) -> MyAnnouncementConnection:
        principal = await require_principal(info)
        size, before = page_size(first), after_id(after)
        views, total, unread = await reading.list_my_announcements(
            info.context.session_factory, principal, limit=size, before_id=before, unread_only=unread_only
        )
        edges, page_info = edges_and_page_info(views, size, AnnouncementType.from_view)

        async def count() -> int:
            return total

        return MyAnnouncementConnection(edges=edges, page_info=page_info, count=count, unread_count=unread)
