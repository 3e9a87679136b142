"""Process-wide resources the app creates in its lifespan and every request shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.auth import TokenCodec
from api.settings import Settings, SettingsError
from announcements.live import CountersFeed
from billing.providers import provider_registry
from billing.receipts import ReceiptSigner
from db.personal_data import PersonalDataCipher
from dispatch.attachments import MediaStore
from dispatch.events import Publisher
from dispatch.speech import SandboxRecogniser, SpeechRecogniser, VoskRecogniser
from dispatch.live import LiveFeed
from kernel.vocabulary import NotificationChannel
from notifications.channels import ChannelSender
from notifications.live import InboxFeed
from notifications.sms import SmsGateway
from schema.context import Context, Services
from schema.token_watch import RevocationWatch

__all__ = ["AppState", "build_services", "utc_now"]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def speech_recogniser(settings: Settings) -> SpeechRecogniser | None:
    """Vosk when a model is configured; otherwise the sandbox in development and none in production."""
    if settings.speech_model is not None:
        try:
            return VoskRecogniser(settings.speech_model)
        except ValueError as error:
            raise SettingsError(f"COURTYARD_SPEECH_MODEL: {error}") from None
    return None if settings.is_production else SandboxRecogniser()


def build_services(
    settings: Settings,
    *,
    publisher: Publisher | None = None,
    live_feed: LiveFeed | None = None,
    inbox_feed: InboxFeed | None = None,
    announcement_feed: CountersFeed | None = None,
) -> Services:
    """The process's receipt key, payment gateways and media store, from its settings."""
    return Services(
        receipt_signer=ReceiptSigner.from_cipher(PersonalDataCipher(settings.secret_key)),
        payment_providers=provider_registry(sandbox_key=settings.sandbox_signing_key),
        media_store=MediaStore(settings.media_dir, settings.secret_key),
        speech=speech_recogniser(settings),
        publisher=publisher,
        live_feed=live_feed,
        inbox_feed=inbox_feed,
        announcement_feed=announcement_feed,
    )


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cipher: PersonalDataCipher
    tokens: TokenCodec
    services: Services
    clock: Callable[[], dt.datetime] = utc_now
    notification_channels: Mapping[NotificationChannel, ChannelSender] = field(default_factory=dict)
    sms_gateways: Mapping[str, SmsGateway] = field(default_factory=dict)
    revocations: RevocationWatch = field(init=False)

    def __post_init__(self) -> None:
        # One per process, shared by every connection: see schema.token_watch.
        self.revocations = RevocationWatch(self.session_factory, self.settings.token_recheck_interval.total_seconds())

    def new_context(self, *, client_address: str = "unknown") -> Context:
        return Context(
            session_factory=self.session_factory,
            cipher=self.cipher,
            issue_token=lambda user_id, now: self.tokens.issue(user_id, now=now),
            verify_token=self.tokens.verify,
            clock=self.clock,
            production=self.settings.is_production,
            services=self.services,
            client_address=client_address,
            revocations=self.revocations,
        )
