"""Process-wide resources the app creates in its lifespan and every request shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.auth import TokenCodec
from api.settings import Settings
from db.personal_data import PersonalDataCipher
from schema.context import Context

__all__ = ["AppState", "utc_now"]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cipher: PersonalDataCipher
    tokens: TokenCodec
    clock: Callable[[], dt.datetime] = utc_now
    services: dict[str, Any] = field(default_factory=dict)

    def new_context(self) -> Context:
        def verify(token: str) -> tuple[int, dt.datetime] | None:
            claims = self.tokens.verify(token)
            return (claims.user_id, claims.expires_at) if claims else None

        return Context(
            session_factory=self.session_factory,
            cipher=self.cipher,
            issue_token=lambda user_id, now: self.tokens.issue(user_id, now=now),
            verify_token=verify,
            clock=self.clock,
            production=self.settings.is_production,
            services=self.services,
        )
