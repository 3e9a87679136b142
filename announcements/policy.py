"""Who may write, publish, recall, follow and read announcements.

- A project's announcements are written, published and recalled by whoever manages its register
  (`register.policy`: its ADMINs).
- Its staff (ADMIN, FINANCE, DISPATCHER) see every announcement of the project with its counters, who
  has read it and who has not, and follow the counters live.
- A person sees the announcements published to them (their addressee is among the recipients) while
  they are published: a recalled one is hidden again. Nobody else's, and no draft.
Someone else's or another project's announcement answers NOT_FOUND.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from db.conditions import among
from db.models import Announcement, AnnouncementRecipient
from kernel.principal import STAFF_ROLES, Principal
from kernel.vocabulary import AnnouncementStatus
from notifications.policy import addressee_of
from register.policy import REGISTER_ADMINS_ONLY, administers_register, may_administer_project

__all__ = [
    "ANNOUNCEMENT_STAFF_ONLY",
    "ANNOUNCEMENT_WRITERS_ONLY",
    "addressed_to",
    "follows_announcements",
    "may_follow_announcements",
    "may_receive",
    "may_write_announcements",
    "visible_to_staff",
    "writes_announcements",
]

ANNOUNCEMENT_WRITERS_ONLY = REGISTER_ADMINS_ONLY
ANNOUNCEMENT_STAFF_ONLY = "Requires one of the roles ADMIN, FINANCE, DISPATCHER in this project."


def writes_announcements(principal: Principal) -> bool:
    """May call the writing operations at all (create, update, publish, recall); the project is checked
    by the use case."""
    return administers_register(principal)


def may_write_announcements(principal: Principal, project_id: int) -> bool:
    return may_administer_project(principal, project_id)


def follows_announcements(principal: Principal) -> bool:
    """May call the staff view (the list, the recipients, the live counters) at all."""
    return principal.holds_any(STAFF_ROLES)


def may_follow_announcements(principal: Principal, project_id: int) -> bool:
    return principal.is_staff_of(project_id)


def visible_to_staff(principal: Principal) -> ColumnElement[bool]:
    """`may_follow_announcements` in SQL."""
    return among(Announcement.project_id, principal.staff_project_ids)


def may_receive(principal: Principal, *, status: AnnouncementStatus, recipient: str | None) -> bool:
    """A published announcement is its recipients' to see and mark read; `recipient` is the addressee of
    the caller's recipient row, None when they have none."""
    return status is AnnouncementStatus.PUBLISHED and recipient == addressee_of(principal)


def addressed_to(principal: Principal) -> ColumnElement[bool]:
    """`may_receive` in SQL, over `Announcement` joined to its `AnnouncementRecipient` rows."""
    return (AnnouncementRecipient.addressee == addressee_of(principal)) & (
        Announcement.status == AnnouncementStatus.PUBLISHED
    )
