"""Invoice providers: the tax platform's issuing service, and the sandbox that stands in for it."""

from __future__ import annotations

__all__ = ["PROVIDER_NAMES", "SANDBOX"]

SANDBOX = "SANDBOX"
PROVIDER_NAMES = frozenset({SANDBOX})
