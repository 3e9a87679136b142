"""Inputs of the announcement operations."""

from __future__ import annotations

import strawberry

from announcements.schedule import DEFAULT_REMINDER_AFTER_HOURS, DEFAULT_REMINDER_LIMIT
from schema.scalars import RoleEnum

__all__ = ["AnnouncementAudienceInput", "AnnouncementRemindersInput", "CreateAnnouncementInput", "UpdateAnnouncementInput"]


@strawberry.input(description="Who an announcement is for, resolved into its recipients when it is published.")
class AnnouncementAudienceInput:
    addressed_roles: list[RoleEnum] = strawberry.field(  # type: ignore[valid-type]
        name="roles",
        default_factory=lambda: [RoleEnum.OWNER],
        description="OWNER: the residents (owners and tenants living there on the day it is published); ADMIN, FINANCE, "
        "DISPATCHER, TECHNICIAN: the project's logins granted that role.",
    )
    building_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Only residents of these buildings (with OWNER); none: the whole project."
    )
    unit_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Only residents of these units (besides the buildings'; with OWNER)."
    )


@strawberry.input(description="Reminders to read, sent to those who have not read it yet.")
class AnnouncementRemindersInput:
    after_hours: int = strawberry.field(
        default=DEFAULT_REMINDER_AFTER_HOURS, description="A round every this many hours after publishing (1 to 720)."
    )
    limit: int = strawberry.field(default=DEFAULT_REMINDER_LIMIT, description="At most this many rounds (0 to 5; 0: none).")


@strawberry.input(description="A new announcement, saved as a draft.")
class CreateAnnouncementInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    title: str = strawberry.field(description="The title, at most 100 characters.")
    body: str = strawberry.field(description="The text, at most 5,000 characters; its first line travels in the messages.")
    audience: AnnouncementAudienceInput = strawberry.field(description="Who it is for.")
    reminders: AnnouncementRemindersInput | None = strawberry.field(
        default=None, description="Reminders to read; omitted: a round a day, at most two."
    )


@strawberry.input(description="Changes to a draft; what you leave out stays as it is.")
class UpdateAnnouncementInput:
    id: strawberry.ID = strawberry.field(description="The draft.")
    title: str | None = strawberry.field(default=None, description="A new title.")
    body: str | None = strawberry.field(default=None, description="A new text.")
    audience: AnnouncementAudienceInput | None = strawberry.field(default=None, description="A new audience, as a whole.")
    reminders: AnnouncementRemindersInput | None = strawberry.field(default=None, description="New reminders, as a whole.")
