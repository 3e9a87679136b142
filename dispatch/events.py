"""Live ticket events: channel names, the compact notice published after commit, and the publisher port.

A notice only says *that* a ticket changed (project, ticket, seq, event type); subscribers load what
they may see from the database, so a message never carries more than its reader may read and stays
far below the 8,000-byte Postgres NOTIFY limit. Services depend on the `Publisher` protocol, never on
`api.eventbus`, so the dispatch layer does not import the running service.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "EventNotice",
    "Publisher",
    "board_channel",
    "notice_channels",
    "publish_notice",
    "technician_channel",
    "ticket_channel",
]


def ticket_channel(ticket_id: int) -> str:
    """Channel of everything that happens to one ticket (its owner and staff follow it)."""
    return f"ticket:{ticket_id}"


def board_channel(project_id: int) -> str:
    """Channel of every ticket event in one project (the dispatcher board)."""
    return f"board:{project_id}"


def technician_channel(technician_id: int) -> str:
    """Channel of the events that concern one technician's assignments."""
    return f"technician:{technician_id}"


@dataclass(frozen=True, slots=True)
class EventNotice:
    """Ticket `ticket_id` of project `project_id` gained event number `seq` (counted per project) of kind `type`."""

    project_id: int
    ticket_id: int
    seq: int
    type: str

    def encode(self) -> str:
        """Compact JSON with the wire keys `project`, `ticket`, `seq`, `type`."""
        return json.dumps(
            {"project": self.project_id, "ticket": self.ticket_id, "seq": self.seq, "type": self.type},
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def decode(cls, message: str) -> EventNotice:
        """Parse `encode()` output; raise ValueError for anything else."""
        try:
            data = json.loads(message)
        except json.JSONDecodeError as error:
            raise ValueError(f"event notice is not JSON: {message[:80]!r}") from error
        if not isinstance(data, dict) or set(data) != {"project", "ticket", "seq", "type"}:
            raise ValueError(f"event notice must have exactly project, ticket, seq and type: {message[:80]!r}")
        project, ticket, seq, kind = data["project"], data["ticket"], data["seq"], data["type"]
        # bool is an int subclass: refuse it so `true` never passes for an id
        if not all(type(value) is int for value in (project, ticket, seq)):
            raise ValueError(f"event notice project, ticket and seq must be integers: {message[:80]!r}")
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"event notice type must be a non-empty string: {message[:80]!r}")
        return cls(project_id=project, ticket_id=ticket, seq=seq, type=kind)


class Publisher(Protocol):
    """Where services send notices after their transaction commits (the event bus in production)."""

    async def publish(self, channel: str, message: str) -> bool:
        """Send `message` on `channel`; False when the broadcast backend is down (never raises for that)."""
        ...


def notice_channels(notice: EventNotice, technician_ids: Iterable[int] = ()) -> tuple[str, ...]:
    """The channels a notice goes to: its ticket, its project's board and each concerned technician."""
    technicians = tuple(technician_channel(i) for i in dict.fromkeys(technician_ids))
    return (ticket_channel(notice.ticket_id), board_channel(notice.project_id), *technicians)


async def publish_notice(publisher: Publisher, notice: EventNotice, *, technician_ids: Iterable[int] = ()) -> bool:
    """Publish one notice on all its channels; True only if every channel took it.

    `technician_ids` are the technicians the event concerns: the assignee, and on a reassignment also
    the technician it was taken from. Call this only after the transaction that wrote the event commits.
    """
    message = notice.encode()
    published = [await publisher.publish(channel, message) for channel in notice_channels(notice, technician_ids)]
    return all(published)
