"""The typed per-connection context every resolver receives.

Strawberry builds the context once per HTTP request but once per *websocket connection*, so nothing
request-scoped lives here directly: dataloaders are created per operation (see `schema.extensions`) and
resolvers open short database sessions of their own.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from announcements.live import CountersFeed
from billing.providers import PaymentProvider
from billing.receipts import ReceiptSigner
from db.driver import connection_for_reads
from db.personal_data import PersonalDataCipher
from dispatch.attachments import MediaStore
from dispatch.speech import SpeechRecogniser
from dispatch.events import Publisher
from dispatch.live import LiveFeed
from kernel.principal import Principal
from kernel.tokens import TokenClaims
from notifications.live import InboxFeed
from register.accounts import load_principal, token_is_current
from schema.loaders import Loaders
from schema.token_watch import RevocationWatch

__all__ = ["Context", "Info", "Services"]

R = TypeVar("R")

log = logging.getLogger("courtyard.auth")

_operation_loaders: contextvars.ContextVar[Loaders | None] = contextvars.ContextVar("operation_loaders", default=None)
# The clock as this operation's token checks last read it (None: not read yet in this operation).
_operation_clock: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("operation_clock", default=None)


@dataclass
class Services:
    """The process-wide resources use cases need besides the database, built once in the app's lifespan."""

    receipt_signer: ReceiptSigner
    payment_providers: Mapping[str, PaymentProvider]
    media_store: MediaStore
    publisher: Publisher | None = None
    live_feed: LiveFeed | None = None
    inbox_feed: InboxFeed | None = None
    announcement_feed: CountersFeed | None = None
    # None: voice reports are kept and wait in TRIAGE for a dispatcher to listen to them.
    speech: SpeechRecogniser | None = None


@dataclass
class Context:
    session_factory: async_sessionmaker[AsyncSession]
    cipher: PersonalDataCipher
    issue_token: Callable[[int, dt.datetime], str]
    verify_token: Callable[[str], TokenClaims | None]
    clock: Callable[[], dt.datetime]
    production: bool
    services: Services
    revocations: RevocationWatch | None = None
    client_address: str = "unknown"
    connection_params: dict[str, Any] | None = None
    token: TokenClaims | None = None
    _token_revoked: bool = False
    _principal: Principal | None = None
    _principal_loaded: bool = False

    def now(self) -> dt.datetime:
        return self.clock()

    @property
    def token_user_id(self) -> int | None:
        return self.token.user_id if self.token is not None else None

    @property
    def token_expires_at(self) -> dt.datetime | None:
        return self.token.expires_at if self.token is not None else None

    def authenticate_with(self, token: str | None) -> None:
        """Remember whose token came with the request or `connection_init`; checked on use."""
        self.token = self.verify_token(token) if token else None
        self._token_revoked = False
        self._principal, self._principal_loaded = None, False

    def has_live_token(self) -> bool:
        """A genuine token that has not expired, nor been found revoked by the last check (this
        context's, or the process's watch of the tokens that hold subscriptions open). Reads the clock
        every time: a websocket's context lives for hours, and its subscriptions ask before each event."""
        moment = self.now()
        _operation_clock.set(moment)
        return self._live_at(moment)

    def _live_at(self, moment: dt.datetime) -> bool:
        if self.token is None or self._token_revoked or self.token.expires_at <= moment:
            return False
        return self.revocations is None or not self.revocations.is_revoked(self.token)

    async def principal(self) -> Principal | None:
        """The caller's permissions, read once per context together with whether the token still counts
        (the same statement: a request costs no extra read for revocation)."""
        if not self.has_live_token():
            return None
        assert self.token is not None
        if not self._principal_loaded:
            async with connection_for_reads(self.session_factory) as connection:
                self._principal = await load_principal(
                    connection, self.token.user_id, today=self.now().date(), token=self.token
                )
            self._principal_loaded = True
            self._token_revoked = self._principal is None
        return self._principal

    def with_principal(self, answer: Callable[[Principal | None], R]) -> R | Awaitable[R]:
        """`answer` for the caller: at once when the principal is already read (every list and node
        resolver reads it before its fields run), else an awaitable that reads it first. Lets a field
        that depends on who asks answer without a coroutine of its own (see `schema.batching.answer`)."""
        # A page asks once per row and field: its expiry is compared with the clock as this operation
        # last read it (a subscription's check before each event reads it again), while revocation,
        # which the watch may find at any moment, is asked every time.
        moment = _operation_clock.get()
        live = self.has_live_token() if moment is None else self._live_at(moment)
        if self._principal_loaded or not live:
            return answer(self._principal if live else None)
        return self._answer_after_reading(answer)

    async def _answer_after_reading(self, answer: Callable[[Principal | None], R]) -> R:
        return answer(await self.principal())

    async def token_still_counts(self) -> bool:
        """Whether the token is live, reading its revocation (logout, password change or reset) now: what a
        websocket asks once when it connects; its subscriptions are then watched by `revocations`."""
        if not self.has_live_token():
            return False
        assert self.token is not None
        try:
            async with self.session_factory() as session:
                current = await token_is_current(session, self.token)
        except (DBAPIError, OSError) as error:
            # A database that is down says nothing about the token: keep serving, check again next time.
            log.warning("token recheck failed: %s: %s", error.__class__.__name__, error)
            return True
        self._token_revoked = not current
        return current

    @property
    def loaders(self) -> Loaders:
        loaders = _operation_loaders.get()
        if loaders is None:
            loaders = Loaders(self.session_factory)
            _operation_loaders.set(loaders)
        return loaders

    def start_operation(self) -> None:
        """Fresh loaders and no clock reading yet for the operation running in this task (each operation
        runs in its own task, so nothing needs resetting afterwards)."""
        _operation_loaders.set(Loaders(self.session_factory))
        _operation_clock.set(None)

    @staticmethod
    def release_operation_loaders() -> None:
        """Drop this task's loaders (and their caches) early; a later use builds a fresh set."""
        _operation_loaders.set(None)


Info = StrawberryInfo[Context, None]
