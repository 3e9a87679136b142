"""Settings come from COURTYARD_* variables, then `.env`, then defaults; production is strict."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from api.settings import DEFAULT_SECRET_KEY, Settings, SettingsError
from api.state import speech_recogniser
from dispatch.speech import SandboxRecogniser, VoskRecogniser


def test_defaults_are_the_embedded_setup(tmp_path: Path) -> None:
    settings = Settings.from_env({}, env_file=tmp_path / "absent.env")
    assert settings.database_url == "sqlite+aiosqlite:///courtyard.db"
    assert settings.broadcast_url == "memory://"
    assert not settings.is_production


def test_environment_overrides_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("COURTYARD_DATABASE_URL=sqlite+aiosqlite:///from-file.db\nCOURTYARD_TOKEN_TTL_MINUTES=30\n")
    settings = Settings.from_env({"COURTYARD_DATABASE_URL": "postgresql://x/y"}, env_file=env_file)
    assert settings.database_url == "postgresql://x/y"
    assert settings.token_ttl == dt.timedelta(minutes=30)


def test_production_refuses_the_default_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="default COURTYARD_SECRET_KEY"):
        Settings.from_env({"COURTYARD_ENV": "production"}, env_file=None)
    strict = Settings.from_env({"COURTYARD_ENV": "production", "COURTYARD_SECRET_KEY": "a-real-secret-of-some-length"}, env_file=None)
    assert strict.is_production and strict.secret_key != DEFAULT_SECRET_KEY


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"COURTYARD_ENV": "staging"}, "development or production"),
        ({"COURTYARD_SECRET_KEY": "short"}, "at least 16"),
        ({"COURTYARD_TOKEN_TTL_MINUTES": "soon"}, "whole number"),
        ({"COURTYARD_MAX_BODY_BYTES": "1MB"}, "whole number of bytes"),
        ({"COURTYARD_MAX_UPLOAD_BYTES": "0"}, "positive number of bytes"),
        ({"COURTYARD_DATABASE_CONNECT_TIMEOUT": "soon"}, "number of seconds"),
        ({"COURTYARD_DATABASE_CONNECT_TIMEOUT": "-1"}, "positive number of seconds"),
        ({"COURTYARD_DATABASE_POOL_SIZE": "many"}, "positive whole number"),
        ({"COURTYARD_DATABASE_POOL_SIZE": "0"}, "positive whole number"),
    ],
)
def test_bad_values_are_refused_with_a_reason(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ, env_file=None)


def test_edge_limits_and_origins_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "COURTYARD_MAX_BODY_BYTES": "65536",
            "COURTYARD_MAX_UPLOAD_BYTES": "1048576",
            "COURTYARD_DATABASE_CONNECT_TIMEOUT": "0.25",
            "COURTYARD_DATABASE_POOL_SIZE": "32",
            "COURTYARD_ALLOWED_ORIGINS": "http://localhost:5173/, https://app.example.com",
        },
        env_file=None,
    )
    assert (settings.max_body_bytes, settings.max_upload_bytes) == (65536, 1048576)
    assert settings.database_connect_timeout == dt.timedelta(milliseconds=250)
    assert settings.database_pool_size == 32
    assert settings.allowed_origins == ("http://localhost:5173", "https://app.example.com")


PRODUCTION = {"COURTYARD_ENV": "production", "COURTYARD_SECRET_KEY": "a-real-secret-of-some-length"}
SANDBOX_KEY = "sandbox-gateway-key-of-its-own-0123456789"


def test_the_sandbox_gateway_is_on_in_development_with_a_key_from_the_secret() -> None:
    settings = Settings.from_env({}, env_file=None)
    assert settings.sandbox_payments_enabled and settings.sandbox_signing_key == settings.secret_key


def test_production_runs_no_sandbox_gateway_unless_enabled() -> None:
    settings = Settings.from_env(PRODUCTION, env_file=None)
    assert not settings.sandbox_payments_enabled and settings.sandbox_signing_key is None


def test_an_enabled_production_sandbox_signs_with_its_own_key() -> None:
    settings = Settings.from_env(
        {**PRODUCTION, "COURTYARD_SANDBOX_PAYMENTS": "1", "COURTYARD_SANDBOX_PAYMENT_KEY": SANDBOX_KEY}, env_file=None
    )
    assert settings.sandbox_signing_key == SANDBOX_KEY


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({**PRODUCTION, "COURTYARD_SANDBOX_PAYMENTS": "1"}, "COURTYARD_SANDBOX_PAYMENT_KEY is not set"),
        (
            {**PRODUCTION, "COURTYARD_SANDBOX_PAYMENTS": "yes", "COURTYARD_SANDBOX_PAYMENT_KEY": "x" * 40, "COURTYARD_SECRET_KEY": "x" * 40},
            "must differ",
        ),
        ({"COURTYARD_SANDBOX_PAYMENT_KEY": "short"}, "at least 32"),
        ({"COURTYARD_SANDBOX_PAYMENTS": "maybe"}, "must be 1 or 0"),
    ],
)
def test_a_gateway_without_usable_credentials_refuses_to_start(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ, env_file=None)


def test_speech_recognition_is_the_sandbox_in_development_none_in_production_and_vosk_with_a_model(
    tmp_path: Path,
) -> None:
    assert isinstance(speech_recogniser(Settings.from_env({}, env_file=None)), SandboxRecogniser)
    production = {"COURTYARD_ENV": "production", "COURTYARD_SECRET_KEY": "a-real-secret-of-some-length"}
    assert speech_recogniser(Settings.from_env(production, env_file=None)) is None
    model = tmp_path / "vosk-model-cn"
    (model / "am").mkdir(parents=True)
    recogniser = speech_recogniser(Settings.from_env({**production, "COURTYARD_SPEECH_MODEL": str(model)}, env_file=None))
    assert isinstance(recogniser, VoskRecogniser) and recogniser.model_path == model


def test_a_speech_model_that_is_not_a_model_directory_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="COURTYARD_SPEECH_MODEL must be a Vosk model directory"):
        Settings.from_env({"COURTYARD_SPEECH_MODEL": str(tmp_path / "missing")}, env_file=None)
    with pytest.raises(SettingsError, match="neither am/ nor conf/"):
        speech_recogniser(Settings.from_env({"COURTYARD_SPEECH_MODEL": str(tmp_path)}, env_file=None))
