"""Bearer tokens: genuine ones verify (once per token), altered or foreign ones do not."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from api.auth import TokenCodec

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def test_a_genuine_token_answers_its_user_and_expiry_even_after_it_expired() -> None:
    codec = TokenCodec("secret", dt.timedelta(hours=1))
    claims = codec.verify(codec.issue(7, now=NOW - dt.timedelta(days=2)))
    assert claims is not None
    assert (claims.user_id, claims.expires_at) == (7, NOW - dt.timedelta(days=2) + dt.timedelta(hours=1))


def test_an_altered_token_or_one_signed_with_another_key_is_refused() -> None:
    codec = TokenCodec("secret", dt.timedelta(hours=1))
    token = codec.issue(7, now=NOW)
    header, payload, signature = token.split(".")
    assert codec.verify(f"{header}.{payload}.{signature[:-2]}AA") is None
    assert codec.verify(TokenCodec("other secret", dt.timedelta(hours=1)).issue(7, now=NOW)) is None
    assert codec.verify("not a token") is None


def test_a_token_seen_before_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = TokenCodec("secret", dt.timedelta(hours=1))
    first, second = codec.issue(7, now=NOW), codec.issue(8, now=NOW)
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: object, **kwargs: object) -> object:
        decoded.append(token)
        return real_decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting_decode)
    users = [claims.user_id for token in (first, second, first, first) if (claims := codec.verify(token))]
    assert users == [7, 8, 7, 7]
    assert decoded == [first, second]


def _signed(codec: TokenCodec, **claims: object) -> str:
    return jwt.encode({"sub": "7", "aud": "courtyard", "jti": "a" * 32, **claims}, codec._key, algorithm="HS256")


def test_a_correctly_signed_token_living_longer_than_the_lifetime_is_refused() -> None:
    codec = TokenCodec("secret", dt.timedelta(hours=12))
    hundred_years = _signed(codec, iat=NOW.timestamp(), exp=(NOW + dt.timedelta(days=36_525)).timestamp())
    just_right = _signed(codec, iat=NOW.timestamp(), exp=(NOW + dt.timedelta(hours=12)).timestamp())
    assert codec.verify(hundred_years) is None
    assert codec.verify(just_right) is not None


def test_a_token_without_issue_time_or_id_is_refused() -> None:
    codec = TokenCodec("secret", dt.timedelta(hours=12))
    exp = (NOW + dt.timedelta(hours=1)).timestamp()
    no_iat = jwt.encode({"sub": "7", "aud": "courtyard", "jti": "x", "exp": exp}, codec._key, algorithm="HS256")
    no_jti = jwt.encode({"sub": "7", "aud": "courtyard", "iat": NOW.timestamp(), "exp": exp}, codec._key, algorithm="HS256")
    assert codec.verify(no_iat) is None and codec.verify(no_jti) is None


def test_every_token_has_its_own_id() -> None:
    codec = TokenCodec("secret", dt.timedelta(hours=1))
    first, second = codec.verify(codec.issue(7, now=NOW)), codec.verify(codec.issue(7, now=NOW))
    assert first is not None and second is not None and first.token_id != second.token_id
