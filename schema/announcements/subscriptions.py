"""An announcement's counters, live over the websocket, for its project's staff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import strawberry
from graphql import GraphQLError

from announcements.live import CountersFeed
from announcements.policy import ANNOUNCEMENT_STAFF_ONLY, follows_announcements
from announcements.reading import get_announcement_to_follow
from kernel.errors import NotFound
from schema.announcements.types import AnnouncementCountersType
from schema.context import Context, Info
from schema.errors import forbidden, unauthenticated
from schema.ids import decode_id
from schema.live import TokenWatch, token_expired

__all__ = ["AnnouncementSubscriptions"]


def _not_found(error: NotFound) -> GraphQLError:
    return GraphQLError(str(error), extensions={"code": "NOT_FOUND"})


@strawberry.type
class AnnouncementSubscriptions:
    @strawberry.subscription(
        description="Staff of its project: an announcement's counters as they are now, then again each time they change "
        "(a first read, publishing, a recall). Reading twice changes nothing and sends nothing."
    )
    async def announcement_counters(
        self,
        info: Info,
        announcement_id: Annotated[strawberry.ID, strawberry.argument(description="The announcement to watch.")],
    ) -> AsyncIterator[AnnouncementCountersType]:
        principal = await info.context.principal()
        if principal is None:
            raise unauthenticated()
        if not follows_announcements(principal):
            raise forbidden(ANNOUNCEMENT_STAFF_ONLY)
        try:
            pk = decode_id(announcement_id, "Announcement", field="announcementId")
            await get_announcement_to_follow(info.context.session_factory, principal, announcement_id=pk)
        except NotFound as error:
            raise _not_found(error) from None
        feed = info.context.services.announcement_feed
        if feed is None:
            raise GraphQLError("Live counters are not available.", extensions={"code": "INTERNAL_SERVER_ERROR"})
        return _counters(info.context, feed, pk)


async def _counters(context: Context, feed: CountersFeed, announcement_id: int) -> AsyncIterator[AnnouncementCountersType]:
    stop = asyncio.Event()
    async with TokenWatch(context, stop.set):
        async for counters in feed.follow(announcement_id, stop=stop):
            if not context.has_live_token():
                break
            yield AnnouncementCountersType.from_counters(counters)
    if not context.has_live_token():
        raise token_expired()
