"""Service configuration from `COURTYARD_*` environment variables and an optional `.env` file."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

__all__ = ["DEFAULT_SECRET_KEY", "Settings", "SettingsError"]

DEFAULT_SECRET_KEY = "courtyard-development-secret-change-me"
MIB = 1024 * 1024
MIN_GATEWAY_KEY_LENGTH = 32
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///courtyard.db"
    broadcast_url: str = "memory://"
    secret_key: str = DEFAULT_SECRET_KEY
    media_dir: Path = Path("media")
    env: str = "development"
    token_ttl: dt.timedelta = dt.timedelta(hours=12)
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    # GraphQL documents with their variables; a batch of payments is a few hundred kilobytes.
    max_body_bytes: int = 1 * MIB
    # One multipart request: six 10 MiB photos or one 50 MiB video, and the form around them.
    max_upload_bytes: int = 64 * MIB
    # Only a database host that never answers waits this long: a stopped server refuses at once and is
    # reported unavailable immediately. Under a burst of new connections a healthy PostgreSQL on a busy
    # machine took over a second to accept (benchmarks/fanout.py), so a sub-second value failed requests.
    # A request waits as long for one of the pool's connections to come back.
    database_connect_timeout: dt.timedelta = dt.timedelta(seconds=5)
    # The PostgreSQL connections a server process opens, and keeps open between requests; a request that
    # finds them all in use waits for one (`api.app`). SQLAlchemy's default of 5 had a page under 32
    # concurrent requests open a new connection (TCP, the SSL offer, a PostgreSQL backend) again and again.
    database_pool_size: int = 20
    # The sandbox gateway accepts any notification signed with its key: in production it would let
    # whoever holds that key mark bills paid. None: on in development, off in production.
    sandbox_payments: bool | None = None
    sandbox_payment_key: str | None = None
    # How soon an open websocket notices that its token was revoked (logout, password change, reset):
    # one indexed read per subscription per interval at most.
    token_recheck_interval: dt.timedelta = dt.timedelta(seconds=15)
    # Behind a reverse proxy every request comes from the proxy's address; only when the proxy is yours
    # (and overwrites the header) may the login throttle believe X-Forwarded-For.
    trust_forwarded_for: bool = False
    # Notifications. E-mail goes out only when an SMTP server is named; SMS and WeChat through the sandbox
    # gateways in development (None: on in development, off in production).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: bool = False
    smtp_starttls: bool | None = None
    smtp_sender: str = "Courtyard <noreply@courtyard.invalid>"
    sandbox_messaging: bool | None = None
    sms_sign_name: str = "物业服务中心"
    # Seconds between the outbox relay's passes when it found nothing to send.
    outbox_interval: float = 1.0
    # Voice reports: a Vosk model directory turns on offline speech recognition; without one, development
    # runs the sandbox recogniser and production keeps every recording for a dispatcher to hear.
    speech_model: Path | None = None

    def __post_init__(self) -> None:
        if self.env not in ("development", "production"):
            raise SettingsError(f"COURTYARD_ENV must be development or production, not {self.env!r}")
        if self.is_production and self.secret_key == DEFAULT_SECRET_KEY:
            raise SettingsError("refusing to start in production with the default COURTYARD_SECRET_KEY")
        if len(self.secret_key) < 16:
            raise SettingsError("COURTYARD_SECRET_KEY must be at least 16 characters")
        for name, limit in (("MAX_BODY_BYTES", self.max_body_bytes), ("MAX_UPLOAD_BYTES", self.max_upload_bytes)):
            if limit < 1:
                raise SettingsError(f"COURTYARD_{name} must be a positive number of bytes")
        if self.database_connect_timeout <= dt.timedelta(0):
            raise SettingsError("COURTYARD_DATABASE_CONNECT_TIMEOUT must be a positive number of seconds")
        if self.database_pool_size < 1:
            raise SettingsError("COURTYARD_DATABASE_POOL_SIZE must be a positive whole number")
        if self.token_recheck_interval <= dt.timedelta(0):
            raise SettingsError("COURTYARD_TOKEN_RECHECK_SECONDS must be a positive number of seconds")
        self._check_payment_gateways()
        if not 1 <= self.smtp_port <= 65535:
            raise SettingsError("COURTYARD_SMTP_PORT must be a port number (1-65535)")
        if self.outbox_interval <= 0:
            raise SettingsError("COURTYARD_OUTBOX_INTERVAL must be a positive number of seconds")
        if self.speech_model is not None and not self.speech_model.is_dir():
            raise SettingsError(f"COURTYARD_SPEECH_MODEL must be a Vosk model directory; {self.speech_model} is not a directory")

    def _check_payment_gateways(self) -> None:
        key = self.sandbox_payment_key
        if key is not None and len(key) < MIN_GATEWAY_KEY_LENGTH:
            raise SettingsError(f"COURTYARD_SANDBOX_PAYMENT_KEY must be at least {MIN_GATEWAY_KEY_LENGTH} characters")
        if self.is_production and self.sandbox_payments_enabled:
            if key is None:
                raise SettingsError(
                    "COURTYARD_SANDBOX_PAYMENTS is on in production but COURTYARD_SANDBOX_PAYMENT_KEY is not set: "
                    "the sandbox gateway needs a signing key of its own there"
                )
            if key == self.secret_key:
                raise SettingsError("COURTYARD_SANDBOX_PAYMENT_KEY must differ from COURTYARD_SECRET_KEY")

    @property
    def sandbox_payments_enabled(self) -> bool:
        return self.sandbox_payments if self.sandbox_payments is not None else not self.is_production

    @property
    def sandbox_signing_key(self) -> str | None:
        """The sandbox gateway's key when it is on; development without a key of its own derives one from
        the secret key, so `make run` and the tests pay end to end with no setup."""
        if not self.sandbox_payments_enabled:
            return None
        return self.sandbox_payment_key or self.secret_key

    @property
    def sandbox_messaging_enabled(self) -> bool:
        """The sandbox SMS and WeChat gateways: they deliver nothing to anyone, so production runs them only
        when told to (a staging deployment)."""
        return self.sandbox_messaging if self.sandbox_messaging is not None else not self.is_production

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")) -> Settings:
        """Environment variables win over `.env`; unset values keep their defaults."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            return values.get(f"COURTYARD_{name}")

        kwargs: dict[str, object] = {}
        if (url := get("DATABASE_URL")) is not None:
            kwargs["database_url"] = url
        if (url := get("BROADCAST_URL")) is not None:
            kwargs["broadcast_url"] = url
        if (secret := get("SECRET_KEY")) is not None:
            kwargs["secret_key"] = secret
        if (media := get("MEDIA_DIR")) is not None:
            kwargs["media_dir"] = Path(media)
        if (env := get("ENV")) is not None:
            kwargs["env"] = env
        if (ttl := get("TOKEN_TTL_MINUTES")) is not None:
            try:
                kwargs["token_ttl"] = dt.timedelta(minutes=int(ttl))
            except ValueError as error:
                raise SettingsError("COURTYARD_TOKEN_TTL_MINUTES must be a whole number") from error
        if (origins := get("ALLOWED_ORIGINS")) is not None:
            # Browsers send `Origin` without a trailing slash; a copied address often has one.
            kwargs["allowed_origins"] = tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip())
        for name in ("MAX_BODY_BYTES", "MAX_UPLOAD_BYTES"):
            if (size := get(name)) is not None:
                try:
                    kwargs[name.lower()] = int(size)
                except ValueError as error:
                    raise SettingsError(f"COURTYARD_{name} must be a whole number of bytes") from error
        if (timeout := get("DATABASE_CONNECT_TIMEOUT")) is not None:
            try:
                kwargs["database_connect_timeout"] = dt.timedelta(seconds=float(timeout))
            except (ValueError, OverflowError) as error:
                raise SettingsError("COURTYARD_DATABASE_CONNECT_TIMEOUT must be a number of seconds") from error
        if (pool_size := get("DATABASE_POOL_SIZE")) is not None:
            try:
                kwargs["database_pool_size"] = int(pool_size)
            except ValueError as error:
                raise SettingsError("COURTYARD_DATABASE_POOL_SIZE must be a positive whole number") from error
        if (recheck := get("TOKEN_RECHECK_SECONDS")) is not None:
            try:
                kwargs["token_recheck_interval"] = dt.timedelta(seconds=float(recheck))
            except (ValueError, OverflowError) as error:
                raise SettingsError("COURTYARD_TOKEN_RECHECK_SECONDS must be a number of seconds") from error
        if (trust := get("TRUST_FORWARDED_FOR")) is not None:
            kwargs["trust_forwarded_for"] = _flag("TRUST_FORWARDED_FOR", trust)
        if (sandbox := get("SANDBOX_PAYMENTS")) is not None:
            kwargs["sandbox_payments"] = _flag("SANDBOX_PAYMENTS", sandbox)
        if (key := get("SANDBOX_PAYMENT_KEY")) is not None:
            kwargs["sandbox_payment_key"] = key
        kwargs.update(_notification_settings(get))
        if model := get("SPEECH_MODEL"):
            kwargs["speech_model"] = Path(model)
        return cls(**kwargs)  # type: ignore[arg-type]


def _notification_settings(get: Callable[[str], str | None]) -> dict[str, object]:
    kwargs: dict[str, object] = {}
    for name in ("SMTP_HOST", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_SENDER", "SMS_SIGN_NAME"):
        if (value := get(name)) is not None:
            kwargs[name.lower()] = value
    if (port := get("SMTP_PORT")) is not None:
        try:
            kwargs["smtp_port"] = int(port)
        except ValueError as error:
            raise SettingsError("COURTYARD_SMTP_PORT must be a port number (1-65535)") from error
    if (tls := get("SMTP_TLS")) is not None:
        kwargs["smtp_tls"] = _flag("SMTP_TLS", tls)
    if (starttls := get("SMTP_STARTTLS")) is not None:
        kwargs["smtp_starttls"] = _flag("SMTP_STARTTLS", starttls)
    if (sandbox := get("SANDBOX_MESSAGING")) is not None:
        kwargs["sandbox_messaging"] = _flag("SANDBOX_MESSAGING", sandbox)
    if (interval := get("OUTBOX_INTERVAL")) is not None:
        try:
            kwargs["outbox_interval"] = float(interval)
        except ValueError as error:
            raise SettingsError("COURTYARD_OUTBOX_INTERVAL must be a positive number of seconds") from error
    return kwargs


def _flag(name: str, value: str) -> bool:
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise SettingsError(f"COURTYARD_{name} must be 1 or 0 (true/false, yes/no, on/off), not {value!r}")
