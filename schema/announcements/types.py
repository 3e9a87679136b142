"""GraphQL types of announcements. One `Announcement` type for everyone who may see one: its recipients see
the text and their own read state; its project's staff also see the audience, the counters, the
reminders and who has read it (those fields answer null for anyone else)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated

import strawberry
from strawberry import relay

from announcements.audience import Audience
from announcements.live import Counters, counters_of
from announcements.reading import AnnouncementView, RecipientEntry, get_visible_announcements, list_recipients
from db.models import Announcement
from kernel.vocabulary import AnnouncementStatus
from schema.context import Info
from schema.described_enum import described_enum
from schema.ids import database_id, encode_id
from schema.pagination import CountedConnection, after_id, edges_and_page_info, page_size
from schema.permissions import require_principal
from schema.scalars import RoleEnum

__all__ = [
    "AnnouncementAudienceType",
    "AnnouncementConnection",
    "AnnouncementCountersType",
    "AnnouncementRecipientConnection",
    "AnnouncementRecipientType",
    "AnnouncementRemindersType",
    "AnnouncementStatusEnum",
    "AnnouncementType",
    "MyAnnouncementConnection",
]

AnnouncementStatusEnum = described_enum(
    AnnouncementStatus,
    name="AnnouncementStatus",
    description="Where an announcement stands.",
    values={
        "DRAFT": "Being written: seen by the project's staff only, changed by its admins.",
        "PUBLISHED": "Sent to its recipients (the audience as it was when published); they see it and mark it read.",
        "RECALLED": "Withdrawn: hidden from its recipients again, its messages not yet sent cancelled, its record kept.",
    },
)


@strawberry.type(name="AnnouncementAudience", description="Who an announcement is for.")
class AnnouncementAudienceType:
    roles: list[RoleEnum] = strawberry.field(  # type: ignore[valid-type]
        description="OWNER: the residents (owners and tenants living there on the day it is published); the other roles: "
        "the project's logins granted them."
    )
    whole_project: bool = strawberry.field(description="True when no building or unit narrows the residents.")
    building_ids: list[strawberry.ID] = strawberry.field(description="Residents of these buildings.")
    unit_ids: list[strawberry.ID] = strawberry.field(description="Residents of these units (besides the buildings').")

    @classmethod
    def from_stored(cls, stored: Audience) -> AnnouncementAudienceType:
        return cls(
            roles=list(stored.addressed_roles),
            whole_project=stored.whole_project,
            building_ids=[encode_id("Building", pk) for pk in sorted(stored.building_ids)],
            unit_ids=[encode_id("Unit", pk) for pk in sorted(stored.unit_ids)],
        )


@strawberry.type(name="AnnouncementCounters", description="How many an announcement reached and how many have read it.")
class AnnouncementCountersType:
    announcement_id: strawberry.ID = strawberry.field(description="The announcement.")
    status: AnnouncementStatusEnum = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    recipients: int = strawberry.field(description="Everyone it was published to (0 for a draft).")
    read: int = strawberry.field(description="How many of them have read it (each person once).")
    unread: int = strawberry.field(description="How many have not.")

    @classmethod
    def from_counters(cls, counters: Counters) -> AnnouncementCountersType:
        return cls(
            announcement_id=encode_id("Announcement", counters.announcement_id),
            status=counters.status,
            recipients=counters.recipients,
            read=counters.read,
            unread=counters.unread,
        )


@strawberry.type(name="AnnouncementReminders", description="Reminders to read, sent to those who have not.")
class AnnouncementRemindersType:
    after_hours: int = strawberry.field(description="A round every this many hours after publishing.")
    limit: int = strawberry.field(description="At most this many rounds.")
    sent: int = strawberry.field(description="Rounds sent (or passed while the worker was away) so far.")
    next_at: dt.datetime | None = strawberry.field(description="When the next round falls due (UTC); null when none will.")


@strawberry.type(name="AnnouncementRecipient", description="One person an announcement was published to.")
class AnnouncementRecipientType:
    id: strawberry.ID = strawberry.field(description="The recipient row (a cursor position, not a node).")
    name: str = strawberry.field(description="Their name as the register has it now (a household: the party's name).")
    resident: bool = strawberry.field(description="True for a household (owners, tenants); false for a staff login.")
    read_at: dt.datetime | None = strawberry.field(description="When they first read it (UTC); null while unread.")

    @classmethod
    def from_entry(cls, entry: RecipientEntry) -> AnnouncementRecipientType:
        return cls(
            id=strawberry.ID(str(entry.id)), name=entry.name, resident=entry.addressee.startswith("party:"), read_at=entry.read_at
        )


@strawberry.type(description="A page of an announcement's recipients, in the order they were resolved.")
class AnnouncementRecipientConnection(CountedConnection[AnnouncementRecipientType]):
    pass


@strawberry.type(
    name="Announcement",
    description="A community announcement (公告). Its recipients see it while it is published; its project's staff see "
    "it always, with its audience, counters, reminders and recipients.",
)
class AnnouncementType(relay.Node):
    id: relay.NodeID[int] = strawberry.field(description="The announcement's global ID.")
    project_id: strawberry.ID = strawberry.field(description="The project it belongs to.")
    title: str = strawberry.field(description="The title (zh-CN first).")
    body: str = strawberry.field(description="The text.")
    status: AnnouncementStatusEnum = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    published_at: dt.datetime | None = strawberry.field(description="When it was published (UTC).")
    read: bool = strawberry.field(description="Whether you have read it (false when it was not published to you).")
    read_at: dt.datetime | None = strawberry.field(description="When you first read it (UTC).")
    audience: AnnouncementAudienceType | None = strawberry.field(description="Staff of its project: who it is for.")
    counters: AnnouncementCountersType | None = strawberry.field(
        description="Staff of its project: recipients, read, unread (live: the announcementCounters subscription)."
    )
    reminders: AnnouncementRemindersType | None = strawberry.field(description="Staff of its project: reminders to read.")
    created_at: dt.datetime | None = strawberry.field(description="Staff of its project: when it was drafted (UTC).")
    recalled_at: dt.datetime | None = strawberry.field(description="Staff of its project: when it was recalled (UTC).")
    recall_reason: str | None = strawberry.field(description="Staff of its project: why it was recalled.")
    row: strawberry.Private[Announcement]
    staff: strawberry.Private[bool]

    @classmethod
    def from_view(cls, view: AnnouncementView) -> AnnouncementType:
        row, staff = view.announcement, view.staff
        return cls(
            id=row.id,
            project_id=encode_id("Project", row.project_id),
            title=row.title,
            body=row.body,
            status=row.status,
            published_at=row.published_at,
            read=view.read_at is not None,
            read_at=view.read_at,
            audience=AnnouncementAudienceType.from_stored(Audience.from_stored(row.audience)) if staff else None,
            counters=AnnouncementCountersType.from_counters(counters_of(row)) if staff else None,
            reminders=AnnouncementRemindersType(
                after_hours=row.reminder_after_hours, limit=row.reminder_limit, sent=row.reminders_sent, next_at=row.next_reminder_at
            )
            if staff
            else None,
            created_at=row.created_at if staff else None,
            recalled_at=row.recalled_at if staff else None,
            recall_reason=row.recall_reason if staff else None,
            row=row,
            staff=staff,
        )

    @strawberry.field(
        description="Staff of its project: the people it was published to, with their read state; null for anyone else."
    )
    async def recipients(
        self,
        info: Info,
        read: Annotated[
            bool | None, strawberry.argument(description="false: who has not read it; true: who has; omit for everyone.")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size (at most 100).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The cursor of the last item of the previous page.")] = None,
    ) -> AnnouncementRecipientConnection | None:
        if not self.staff:
            return None
        principal = await require_principal(info)
        size = page_size(first)
        entries, total = await list_recipients(
            info.context.session_factory, principal, announcement=self.row, read=read, limit=size, after_id=after_id(after)
        )
        edges, page_info = edges_and_page_info(entries, size, AnnouncementRecipientType.from_entry)

        async def count() -> int:
            return total

        return AnnouncementRecipientConnection(edges=edges, page_info=page_info, count=count)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AnnouncementType | None]:
        principal = await require_principal(info)
        ids = [database_id(node_id) for node_id in node_ids]
        found = await get_visible_announcements(info.context.session_factory, principal, ids=[i for i in ids if i is not None])
        return [cls.from_view(found[i]) if i is not None and i in found else None for i in ids]


@strawberry.type(description="A page of a project's announcements, newest first.")
class AnnouncementConnection(CountedConnection[AnnouncementType]):
    pass


@strawberry.type(description="A page of the announcements published to you, newest first.")
class MyAnnouncementConnection(CountedConnection[AnnouncementType]):
    unread_count: int = strawberry.field(description="How many of all those published to you you have not read.")
