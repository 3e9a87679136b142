"""Signed, expiring bearer tokens (JWT, HS256) and reading them from HTTP headers or websocket params."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping

import jwt

from kernel.tokens import TokenClaims, issue_instant

__all__ = ["TokenClaims", "TokenCodec", "bearer_token", "client_address"]

_ALGORITHM = "HS256"
_AUDIENCE = "courtyard"
_VERIFIED_TOKENS_KEPT = 16_384


class TokenCodec:
    def __init__(self, secret_key: str, ttl: dt.timedelta) -> None:
        # A 32-byte key of its own, so a leaked token key does not also unlock the personal-data cipher.
        self._key = hmac.new(secret_key.encode(), b"courtyard/bearer-tokens", hashlib.sha256).digest()
        self._ttl = ttl
        # Every request and websocket carries a token; most were seen a moment ago. A token's claims
        # never change, so checking its signature once is enough (it cost ~0.4 ms of every request).
        self._verified = functools.lru_cache(maxsize=_VERIFIED_TOKENS_KEPT)(self._decode)

    def issue(self, user_id: int, *, now: dt.datetime) -> str:
        issued = issue_instant(now).timestamp()
        claims = {
            "sub": str(user_id),
            "iat": issued,  # milliseconds (NumericDate may be fractional): see `issue_instant`
            "exp": math.floor(issued + self._ttl.total_seconds()),
            "aud": _AUDIENCE,
            "jti": secrets.token_hex(16),
        }
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def verify(self, token: str) -> TokenClaims | None:
        """The claims of a genuine token that lives no longer than the configured lifetime, or None.

        A correctly signed token whose `exp` lies further after its `iat` than the lifetime (say a hundred
        years) is refused: no token this service issued looks like that. Expiry is left to the caller, who
        compares `expires_at` with the service's clock (tests move that clock; the library would compare
        with the wall clock), and revocation to `register.accounts`, which reads the database.
        """
        return self._verified(token)

    def _decode(self, token: str) -> TokenClaims | None:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                audience=_AUDIENCE,
                options={"require": ["exp", "iat", "sub", "jti"], "verify_exp": False, "verify_iat": False},
            )
            issued_at = float(claims["iat"])
            expires_at = float(claims["exp"])
            token_id = claims["jti"]
            if not isinstance(token_id, str) or not 0 < expires_at - issued_at <= self._ttl.total_seconds():
                return None
            return TokenClaims(
                user_id=int(claims["sub"]),
                issued_at=dt.datetime.fromtimestamp(issued_at, dt.UTC),
                expires_at=dt.datetime.fromtimestamp(expires_at, dt.UTC),
                token_id=token_id,
            )
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError, OverflowError):
            return None


def bearer_token(headers: Mapping[str, object]) -> str | None:
    """The token of an `Authorization: Bearer …` header (any key case), or None."""
    for key, value in headers.items():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def client_address(headers: Mapping[str, str], peer: str | None, *, trust_forwarded_for: bool) -> str:
    """The address a request comes from, for the login throttle.

    `X-Forwarded-For` is anyone's to write, so by default only the connection's peer counts. Behind a
    proxy of your own (COURTYARD_TRUST_FORWARDED_FOR=1) the right-most entry is the one that proxy added;
    the entries left of it are the client's own claims.
    """
    if trust_forwarded_for:
        forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return peer or "unknown"
