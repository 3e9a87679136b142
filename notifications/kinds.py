"""The kinds of message Courtyard sends, and the rules each kind brings: which channels to try in which
order, whether quiet hours and frequency caps may hold it back, whether its addressee may mute it, and
which payload fields its templates need.

A domain that sends a new kind adds it here (with its built-in texts in `default_templates`); nothing is
stored per kind, so no migration is needed. Pure: standard library and the kernel only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from kernel.vocabulary import NotificationChannel

__all__ = ["KINDS", "FrequencyCap", "KindRules", "MessageKind", "rules_of"]

IN_APP, EMAIL, SMS, WECHAT = (
    NotificationChannel.IN_APP,
    NotificationChannel.EMAIL,
    NotificationChannel.SMS,
    NotificationChannel.WECHAT,
)


class MessageKind(StrEnum):
    SECURITY_ALERT = "SECURITY_ALERT"
    """A password changed or reset, a new login: never held back, never muted."""
    PAYMENT_CONFIRMATION = "PAYMENT_CONFIRMATION"
    """A payment was booked (with its receipt number): never held back, never muted."""
    BILL_REMINDER = "BILL_REMINDER"
    """Dunning before and on the due date."""
    OVERDUE_NOTICE = "OVERDUE_NOTICE"
    """Dunning after the due date: days overdue and the late fee as of today."""
    FINAL_NOTICE = "FINAL_NOTICE"
    """Dunning long after the due date, in firmer words (催缴函): days overdue and the late fee as of today."""
    DUNNING_FOLLOW_UP = "DUNNING_FOLLOW_UP"
    """To a FINANCE user: an overdue account dunning could not settle, to phone."""
    ANNOUNCEMENT = "ANNOUNCEMENT"
    """A community announcement (公告) published to its audience."""
    ANNOUNCEMENT_REMINDER = "ANNOUNCEMENT_REMINDER"
    """A reminder to read an announcement not yet read."""
    TICKET_ASSIGNED = "TICKET_ASSIGNED"
    """A technician was given a repair ticket: sent at once, at any hour."""
    INVOICE_ISSUED = "INVOICE_ISSUED"
    """An invoice (blue or red-letter) was issued to the buyer: its number, total and download links."""


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """At most `limit` messages of one kind to one addressee within any `window`."""

    limit: int
    window: dt.timedelta

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= dt.timedelta(0):
            raise ValueError("a frequency cap allows at least one message in a positive window")


@dataclass(frozen=True, slots=True)
class KindRules:
    channels: tuple[NotificationChannel, ...]
    """Tried in this order until one succeeds (after the addressee's choices and reach)."""
    urgent: bool = False
    """Never held back by quiet hours or caps, never muted (security and payment confirmations)."""
    cap: FrequencyCap | None = None
    required: frozenset[str] = frozenset()
    """Payload fields every template of the kind may rely on; `enqueue` refuses a payload without them."""


_DAY = dt.timedelta(days=1)

KINDS: Mapping[MessageKind, KindRules] = MappingProxyType(
    {
        MessageKind.SECURITY_ALERT: KindRules((SMS, EMAIL, IN_APP), urgent=True, required=frozenset({"event"})),
        MessageKind.PAYMENT_CONFIRMATION: KindRules(
            (IN_APP, WECHAT, SMS, EMAIL), urgent=True, required=frozenset({"amount", "receipt_number"})
        ),
        MessageKind.BILL_REMINDER: KindRules(
            (WECHAT, SMS, EMAIL, IN_APP), cap=FrequencyCap(1, _DAY), required=frozenset({"amount_due", "due_date"})
        ),
        MessageKind.OVERDUE_NOTICE: KindRules(
            (SMS, WECHAT, EMAIL, IN_APP),
            cap=FrequencyCap(1, _DAY),
            required=frozenset({"amount_due", "due_date", "days_overdue", "late_fee"}),
        ),
        MessageKind.FINAL_NOTICE: KindRules(
            (SMS, WECHAT, EMAIL, IN_APP),
            cap=FrequencyCap(1, _DAY),
            required=frozenset({"amount_due", "due_date", "days_overdue", "late_fee"}),
        ),
        # Work for the finance desk, read at the desk: no cap, so a morning's list arrives at once.
        MessageKind.DUNNING_FOLLOW_UP: KindRules(
            (IN_APP, EMAIL), required=frozenset({"unit", "owner", "amount_due", "days_overdue"})
        ),
        MessageKind.ANNOUNCEMENT: KindRules((IN_APP, WECHAT, EMAIL), cap=FrequencyCap(5, _DAY), required=frozenset({"title"})),
        MessageKind.ANNOUNCEMENT_REMINDER: KindRules(
            (IN_APP, WECHAT, SMS), cap=FrequencyCap(1, _DAY), required=frozenset({"title"})
        ),
        # A technician on a night shift needs a new assignment at once, so quiet hours do not hold it.
        MessageKind.TICKET_ASSIGNED: KindRules((IN_APP, SMS), urgent=True, required=frozenset({"ticket"})),
        # The document itself is what the buyer wants: e-mail carries both links, an SMS the PDF's, the
        # inbox what is left. Never capped, so a month's batch reaches a merchant whole.
        MessageKind.INVOICE_ISSUED: KindRules((EMAIL, SMS, IN_APP), required=frozenset({"number", "amount"})),
    }
)


def rules_of(kind: str) -> KindRules | None:
    """The rules of a stored kind name; None for a name this code does not know."""
    try:
        return KINDS[MessageKind(kind)]
    except ValueError:
        return None
