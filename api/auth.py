"""Signed, expiring bearer tokens (JWT, HS256) and reading them from HTTP headers or websocket params."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import jwt

__all__ = ["TokenClaims", "TokenCodec", "bearer_token"]

_ALGORITHM = "HS256"
_AUDIENCE = "courtyard"
_VERIFIED_TOKENS_KEPT = 16_384


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    expires_at: dt.datetime


class TokenCodec:
    def __init__(self, secret_key: str, ttl: dt.timedelta) -> None:
        # A 32-byte key of its own, so a leaked token key does not also unlock the personal-data cipher.
        self._key = hmac.new(secret_key.encode(), b"courtyard/bearer-tokens", hashlib.sha256).digest()
        self._ttl = ttl
        # Every request and websocket carries a token; most were seen a moment ago. A token's claims
        # never change, so checking its signature once is enough (it cost ~0.4 ms of every request).
        self._verified = functools.lru_cache(maxsize=_VERIFIED_TOKENS_KEPT)(self._decode)

    def issue(self, user_id: int, *, now: dt.datetime) -> str:
        claims = {"sub": str(user_id), "iat": now, "exp": now + self._ttl, "aud": _AUDIENCE}
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def verify(self, token: str) -> TokenClaims | None:
        """The claims of a genuine token, or None.

        Expiry is left to the caller, who compares `expires_at` with the service's clock (tests move that
        clock; the library would compare with the wall clock).
        """
        return self._verified(token)

    def _decode(self, token: str) -> TokenClaims | None:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                audience=_AUDIENCE,
                options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
            )
            return TokenClaims(
                user_id=int(claims["sub"]),
                expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
            )
        except (jwt.InvalidTokenError, KeyError, ValueError):
            return None


def bearer_token(headers: Mapping[str, object]) -> str | None:
    """The token of an `Authorization: Bearer …` header (any key case), or None."""
    for key, value in headers.items():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None
