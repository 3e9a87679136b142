"""Your in-app inbox, live over the websocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import strawberry
from graphql import GraphQLError

from notifications.inbox import inbox_entries
from notifications.policy import addressee_of
from schema.context import Info
from schema.errors import unauthenticated
from schema.live import TokenWatch, token_expired
from schema.notifications.types import NotificationType

__all__ = ["NotificationSubscriptions"]


@strawberry.type
class NotificationSubscriptions:
    @strawberry.subscription(
        description="Your notifications as they reach your inbox. Pass the last seq you saw as afterSeq to first receive "
        "every one delivered since, in order, then the new ones: no gap, no duplicate."
    )
    async def my_notifications(
        self,
        info: Info,
        after_seq: Annotated[
            int | None,
            strawberry.argument(description="Replay your notifications after this inbox number first; omit it for new ones only."),
        ] = None,
    ) -> AsyncIterator[NotificationType]:
        principal = await info.context.principal()
        if principal is None:
            raise unauthenticated()
        feed = info.context.services.inbox_feed
        if feed is None:
            raise GraphQLError("Live notifications are not available.", extensions={"code": "INTERNAL_SERVER_ERROR"})
        context, sessions = info.context, info.context.session_factory
        stop = asyncio.Event()
        async with TokenWatch(context, stop.set):
            async for message in feed.follow(addressee_of(principal), after_seq=after_seq, stop=stop):
                if not context.has_live_token():
                    break
                async with sessions() as session:
                    (entry,) = await inbox_entries(session, [message])
                yield NotificationType.from_entry(entry)
        if not context.has_live_token():
            raise token_expired()
