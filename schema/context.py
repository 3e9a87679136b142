"""The typed per-connection context every resolver receives.

Strawberry builds the context once per HTTP request but once per *websocket connection*, so nothing
request-scoped lives here directly: dataloaders are created per operation (see `schema.extensions`) and
resolvers open short database sessions of their own.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from billing.providers import PaymentProvider
from billing.receipts import ReceiptSigner
from db.personal_data import PersonalDataCipher
from dispatch.attachments import MediaStore
from dispatch.events import Publisher
from dispatch.live import LiveFeed
from kernel.principal import Principal
from register.accounts import load_principal
from schema.loaders import Loaders

__all__ = ["Context", "Info", "Services"]

_operation_loaders: contextvars.ContextVar[Loaders | None] = contextvars.ContextVar("operation_loaders", default=None)


@dataclass
class Services:
    """The process-wide resources use cases need besides the database, built once in the app's lifespan."""

    receipt_signer: ReceiptSigner
    payment_providers: Mapping[str, PaymentProvider]
    media_store: MediaStore
    publisher: Publisher | None = None
    live_feed: LiveFeed | None = None


@dataclass
class Context:
    session_factory: async_sessionmaker[AsyncSession]
    cipher: PersonalDataCipher
    issue_token: Callable[[int, dt.datetime], str]
    verify_token: Callable[[str], tuple[int, dt.datetime] | None]
    clock: Callable[[], dt.datetime]
    production: bool
    services: Services
    connection_params: dict[str, Any] | None = None
    token_user_id: int | None = None
    token_expires_at: dt.datetime | None = None
    _principal: Principal | None = None
    _principal_loaded: bool = False

    def now(self) -> dt.datetime:
        return self.clock()

    def authenticate_with(self, token: str | None) -> None:
        """Remember whose token came with the request or `connection_init`; checked on use."""
        verified = self.verify_token(token) if token else None
        self.token_user_id, self.token_expires_at = verified if verified else (None, None)
        self._principal, self._principal_loaded = None, False

    def has_live_token(self) -> bool:
        return self.token_user_id is not None and (
            self.token_expires_at is None or self.token_expires_at > self.now()
        )

    async def principal(self) -> Principal | None:
        if not self.has_live_token():
            return None
        if not self._principal_loaded:
            async with self.session_factory() as session:
                self._principal = await load_principal(session, self.token_user_id, today=self.now().date())
            self._principal_loaded = True
        return self._principal

    @property
    def loaders(self) -> Loaders:
        loaders = _operation_loaders.get()
        if loaders is None:
            loaders = Loaders(self.session_factory)
            _operation_loaders.set(loaders)
        return loaders

    def start_operation(self) -> None:
        """Fresh loaders for the operation running in this task (each operation runs in its own task,
        so nothing needs resetting afterwards)."""
        _operation_loaders.set(Loaders(self.session_factory))

    @staticmethod
    def release_operation_loaders() -> None:
        """Drop this task's loaders (and their caches) early; a later use builds a fresh set."""
        _operation_loaders.set(None)


Info = StrawberryInfo[Context, None]
