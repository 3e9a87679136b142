"""Who may read and change what of notifications.

Everyone who is logged in has an inbox, preferences and WeChat consents of their own, kept under their
addressee (their party when the login has one, otherwise the login itself); nobody reads anyone
else's, staff included: someone else's notification answers NOT_FOUND. A project's templates are its
administrators' to write and preview.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from db.models import Message
from kernel.principal import Principal, Role
from notifications.outbox import addressee_key

__all__ = [
    "TEMPLATE_ADMINS_ONLY",
    "addressee_of",
    "edits_templates",
    "may_edit_templates",
    "may_read_message",
    "own_messages",
]

TEMPLATE_ADMINS_ONLY = "Requires one of the roles ADMIN in this project."


def addressee_of(principal: Principal) -> str:
    """The key of the caller's inbox, preferences and consents."""
    return addressee_key(party_id=principal.party_id, user_id=principal.user_id)


def may_read_message(principal: Principal, *, addressee: str, in_inbox: bool) -> bool:
    """A message is its addressee's to read, once it was delivered to their in-app inbox."""
    return in_inbox and addressee == addressee_of(principal)


def own_messages(principal: Principal) -> ColumnElement[bool]:
    """`may_read_message` in SQL."""
    return (Message.addressee == addressee_of(principal)) & Message.inbox_seq.is_not(None)


def edits_templates(principal: Principal) -> bool:
    """May call the template operations at all; the project is checked by the use case."""
    return principal.holds_any((Role.ADMIN,))


def may_edit_templates(principal: Principal, project_id: int) -> bool:
    return principal.has_role(project_id, Role.ADMIN)
