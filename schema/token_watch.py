"""Revocation of the tokens that hold live subscriptions open, read for all of them at once.

A subscription outlives the request that checked its token: a logout, a password change or a reset must
still end it. Each subscription re-reading its own token on a timer cost one statement per subscription
per interval — with 5,000 owners following their tickets, 333 reads a second, a third of the server's
CPU and its connection pool while nothing happened (benchmarks/fanout.py). One watch per process reads
every held token's standing in two statements per interval instead, and stops the subscriptions whose
token no longer counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.tokens import TokenClaims
from register.accounts import current_token_ids

__all__ = ["RevocationWatch"]

log = logging.getLogger("courtyard.auth")


class RevocationWatch:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], interval_seconds: float) -> None:
        self._session_factory = session_factory
        self._interval = interval_seconds
        self._holders: dict[str, tuple[TokenClaims, set[Callable[[], None]]]] = {}
        self._revoked: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def hold(self, token: TokenClaims, stop: Callable[[], None]) -> Callable[[], None]:
        """Watch `token` for a subscription; `stop` ends it when the token is revoked. Returns the release."""
        if token.token_id in self._revoked:
            stop()
            return lambda: None
        _, stops = self._holders.setdefault(token.token_id, (token, set()))
        stops.add(stop)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch())

        def release() -> None:
            held = self._holders.get(token.token_id)
            if held is not None:
                held[1].discard(stop)
                if not held[1]:
                    del self._holders[token.token_id]

        return release

    def is_revoked(self, token: TokenClaims) -> bool:
        """Whether the last reading found `token` revoked."""
        return token.token_id in self._revoked

    async def check_now(self) -> None:
        """Read the standing of every held token and stop the subscriptions of those that no longer count."""
        held = {token_id: token for token_id, (token, _) in self._holders.items()}
        if not held:
            return
        try:
            async with self._session_factory() as session:
                current = await current_token_ids(session, list(held.values()))
        except (DBAPIError, OSError) as error:
            # A database that is down says nothing about the tokens: keep serving, read again next time.
            log.warning("token recheck failed: %s: %s", error.__class__.__name__, error)
            return
        for token_id in held.keys() - current:
            self._revoked.add(token_id)
            _, stops = self._holders.pop(token_id, (None, set()))
            for stop in list(stops):
                stop()

    async def _watch(self) -> None:
        while self._holders:
            await asyncio.sleep(self._interval)
            await self.check_now()
