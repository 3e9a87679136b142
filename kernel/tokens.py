"""What a verified bearer token says: whose it is, when it was issued and expires, and its own id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["TokenClaims", "issue_instant"]


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    issued_at: dt.datetime
    expires_at: dt.datetime
    token_id: str
    """Names this one token, so logging out can revoke it alone."""


def issue_instant(now: dt.datetime) -> dt.datetime:
    """`now` to the millisecond, as a token's `iat` carries it. A password change records the same
    instant, so the token it hands out counts and every one issued a millisecond or more earlier does not."""
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
