"""The fee kinds an invoice line is taxed by (pure): each fee rule's code, and two of invoicing's own."""

from __future__ import annotations

__all__ = ["LATE_FEE", "PREPAYMENT", "RESERVED_FEE_KINDS"]

LATE_FEE = "LATE_FEE"
"""Late fees (滞纳金) a payment settled: a charge beside the price (价外费用), taxed as configured."""

PREPAYMENT = "PREPAYMENT"
"""What a payment left as the unit's credit when it was invoiced (预收款)."""

RESERVED_FEE_KINDS = frozenset({LATE_FEE, PREPAYMENT})
