"""The dunning ladder: which level of a project's policy each account is due for on a given day.

A policy is an ordered list of levels, gentlest first. Each level has a trigger (days relative to the due
date, and optionally a least amount and a least number of bills), the message it sends (a kind of the
outbox, rendered with the project's template for it, on the level's channels or the kind's own), and an
escalation (a follow-up for the finance desk to phone).

An account is one party's bills on one unit. What it is chased for on `today` is its *due set*: its
overdue bills when it has any; otherwise the bills that fall due next. Disputed bills are never in it,
and an account on a payment plan is held whole. Days are counted from the oldest due date of the set.

A level is met when the set is at least its days from the due date (a reminder before or on the due
date, days ≤ 0, only until the bill is overdue), and holds at least its amount and bills. The account
is due for the highest met level above the highest level every bill of the set has already heard:
so a set of bills never hears a level twice, never hears a gentler level after a firmer one, and a new
bill joining the set (one that has not heard the ladder yet) lets it start again from the firmest level
met. Decisions come out with long-overdue and large amounts first: days overdue × amount, then amount.

Pure: standard library, the kernel and the notification kinds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from kernel.errors import BadInput
from kernel.vocabulary import DunningEscalation as Escalation
from kernel.vocabulary import NotificationChannel
from notifications.kinds import MessageKind

__all__ = [
    "DEFAULT_POLICY",
    "MAX_LEVELS",
    "NOTICE_KINDS",
    "REMINDER_KINDS",
    "AccountFacts",
    "BillFacts",
    "Decision",
    "Escalation",
    "Hold",
    "HoldReason",
    "Level",
    "Outcome",
    "Policy",
    "Trigger",
    "decide",
    "due_set",
    "heard_levels",
    "notice_key",
    "validate_policy",
]

MAX_LEVELS = 12
REMINDER_KINDS = frozenset({MessageKind.BILL_REMINDER})
"""Kinds that remind before or on the due date; they say the bill *will* fall due."""
NOTICE_KINDS = frozenset({MessageKind.OVERDUE_NOTICE, MessageKind.FINAL_NOTICE})
"""Kinds that tell an overdue account the days overdue and the late fee as of today."""
_CODE = re.compile(r"[A-Za-z0-9+\-_.]{1,16}")
_EARLIEST_REMINDER = -60
_LATEST_LEVEL = 730
_FEN = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Trigger:
    days_from_due: int
    """Days after the oldest due date of the set (negative: before it)."""
    min_amount: Decimal | None = None
    min_bills: int | None = None


@dataclass(frozen=True, slots=True)
class Level:
    code: str
    """What the level is known by: its notices' keys and the history name it (e.g. "T+3")."""
    trigger: Trigger
    kind: MessageKind | None = None
    """The message the owner is sent (its template is the project's for this kind); None sends none."""
    channels: tuple[NotificationChannel, ...] = ()
    """The channels to try, in order; empty: the kind's own order."""
    escalation: Escalation = Escalation.NONE

    @property
    def is_reminder(self) -> bool:
        """Before or on the due date: out of date once the bills are overdue."""
        return self.trigger.days_from_due <= 0


@dataclass(frozen=True, slots=True)
class Policy:
    levels: tuple[Level, ...]
    """Gentlest first: a later level is firmer."""


DEFAULT_POLICY = Policy(
    (
        Level("T-7", Trigger(-7), MessageKind.BILL_REMINDER),
        Level("T0", Trigger(0), MessageKind.BILL_REMINDER),
        Level("T+3", Trigger(3), MessageKind.OVERDUE_NOTICE),
        Level("T+15", Trigger(15), MessageKind.FINAL_NOTICE, (NotificationChannel.SMS, NotificationChannel.IN_APP)),
        Level("T+30", Trigger(30, min_amount=Decimal("100.00")), None, (), Escalation.PHONE_FOLLOW_UP),
    )
)
"""Seven days before, on the due date, three days after with the late fee, a firmer notice by SMS after
a fortnight, and a phone call from the finance desk after a month when ¥100 or more is owed."""


@dataclass(frozen=True, slots=True)
class BillFacts:
    bill_id: int
    due_date: dt.date
    amount_due: Decimal
    """What the bill still asks for (`billing.balance.amount_due`), more than zero."""
    disputed: bool = False


@dataclass(frozen=True, slots=True)
class AccountFacts:
    unit_id: int
    party_id: int
    bills: tuple[BillFacts, ...]
    """Its unpaid bills."""
    on_payment_plan: bool = False
    heard: Mapping[int, frozenset[str]] = field(default_factory=dict)
    """Per bill, the codes of the levels it was already sent (withdrawn messages not counted)."""


@dataclass(frozen=True, slots=True)
class Decision:
    unit_id: int
    party_id: int
    level: Level
    position: int
    """The level's place in the policy, from 0."""
    bill_ids: tuple[int, ...]
    amount_due: Decimal
    oldest_due: dt.date
    days_from_due: int

    @property
    def days_overdue(self) -> int:
        return max(self.days_from_due, 0)

    @property
    def priority(self) -> Decimal:
        """Days overdue × amount: who to chase first."""
        return self.days_overdue * self.amount_due


class HoldReason(StrEnum):
    PAYMENT_PLAN = "PAYMENT_PLAN"
    DISPUTED = "DISPUTED"


@dataclass(frozen=True, slots=True)
class Hold:
    unit_id: int
    party_id: int
    reason: HoldReason


@dataclass(frozen=True, slots=True)
class Outcome:
    decisions: tuple[Decision, ...]
    """Long-overdue and large amounts first."""
    held: tuple[Hold, ...]


# --- deciding -------------------------------------------------------------------------------------


def due_set(bills: Iterable[BillFacts], today: dt.date) -> tuple[BillFacts, ...]:
    """What an account is chased for on `today`: its overdue undisputed bills, or else those that fall due
    next; in bill order."""
    chased = [bill for bill in bills if not bill.disputed and bill.amount_due > 0]
    overdue = [bill for bill in chased if bill.due_date < today]
    if overdue:
        return tuple(sorted(overdue, key=lambda bill: bill.bill_id))
    if not chased:
        return ()
    nearest = min(bill.due_date for bill in chased)
    return tuple(sorted((bill for bill in chased if bill.due_date == nearest), key=lambda bill: bill.bill_id))


def _met(level: Level, days: int, amount: Decimal, bills: int) -> bool:
    trigger = level.trigger
    if days < trigger.days_from_due or (level.is_reminder and days > 0):
        return False
    if trigger.min_amount is not None and amount < trigger.min_amount:
        return False
    return trigger.min_bills is None or bills >= trigger.min_bills


def _decide_one(policy: Policy, account: AccountFacts, today: dt.date) -> Decision | Hold | None:
    chased = due_set(account.bills, today)
    if account.on_payment_plan:
        return Hold(account.unit_id, account.party_id, HoldReason.PAYMENT_PLAN) if account.bills else None
    if not chased:
        if any(bill.disputed for bill in account.bills):
            return Hold(account.unit_id, account.party_id, HoldReason.DISPUTED)
        return None
    oldest = min(bill.due_date for bill in chased)
    days = (today - oldest).days
    amount = sum((bill.amount_due for bill in chased), Decimal(0))
    heard_by_all = frozenset.intersection(*(account.heard.get(bill.bill_id, frozenset()) for bill in chased))
    reached = max((position for position, level in enumerate(policy.levels) if level.code in heard_by_all), default=-1)
    for position in range(len(policy.levels) - 1, reached, -1):
        level = policy.levels[position]
        if _met(level, days, amount, len(chased)):
            return Decision(
                unit_id=account.unit_id,
                party_id=account.party_id,
                level=level,
                position=position,
                bill_ids=tuple(bill.bill_id for bill in chased),
                amount_due=amount,
                oldest_due=oldest,
                days_from_due=days,
            )
    return None


def _first_to_chase(decision: Decision) -> tuple[Decimal, Decimal, int, int]:
    return (-decision.priority, -decision.amount_due, decision.unit_id, decision.party_id)


def decide(policy: Policy, accounts: Iterable[AccountFacts], today: dt.date) -> Outcome:
    """The level each account is due for on `today` (accounts due for none are left out), and the
    accounts held back; the same facts give the same outcome in the same order, whatever their order."""
    decisions: list[Decision] = []
    held: list[Hold] = []
    for account in accounts:
        outcome = _decide_one(policy, account, today)
        if isinstance(outcome, Decision):
            decisions.append(outcome)
        elif isinstance(outcome, Hold):
            held.append(outcome)
    decisions.sort(key=_first_to_chase)
    held.sort(key=lambda hold: (hold.unit_id, hold.party_id))
    return Outcome(tuple(decisions), tuple(held))


def notice_key(decision: Decision) -> str:
    """The idempotency key of a decision's notice: the account, the level, the bills and what they owe.
    The same decision made again (a re-run, a second worker) names the same notice; once a payment or an
    adjustment changed what the bills owe, the account may be told again, with the new amount."""
    bills = ".".join(str(bill_id) for bill_id in decision.bill_ids)
    if len(bills) > 64:
        bills = "h" + hashlib.sha256(bills.encode()).hexdigest()[:24]
    fen = int(decision.amount_due.scaleb(2))
    return f"dunning:u{decision.unit_id}:p{decision.party_id}:{decision.level.code}:{bills}:{fen}"


# --- checking a policy before it is kept ----------------------------------------------------------


def validate_policy(policy: Policy) -> None:
    """Raise BadInput naming the first unusable field (`levels[i].…`)."""
    if not 1 <= len(policy.levels) <= MAX_LEVELS:
        raise BadInput(f"A dunning policy has 1 to {MAX_LEVELS} levels.", field="levels")
    seen: set[str] = set()
    for index, level in enumerate(policy.levels):
        _validate_level(level, f"levels[{index}]")
        if level.code in seen:
            raise BadInput(f"Two levels are called {level.code!r}.", field=f"levels[{index}].code")
        seen.add(level.code)


def _validate_level(level: Level, at: str) -> None:
    trigger = level.trigger
    if not _CODE.fullmatch(level.code):
        raise BadInput("A level's code is 1 to 16 letters, digits or + - _ . (e.g. T+3).", field=f"{at}.code")
    if not _EARLIEST_REMINDER <= trigger.days_from_due <= _LATEST_LEVEL:
        raise BadInput(
            f"Days from the due date run from {_EARLIEST_REMINDER} to {_LATEST_LEVEL}.", field=f"{at}.daysFromDue"
        )
    if level.kind is None and level.escalation is Escalation.NONE:
        raise BadInput("A level sends a message, escalates, or both.", field=f"{at}.kind")
    if level.kind is not None and level.kind not in REMINDER_KINDS | NOTICE_KINDS:
        raise BadInput(f"{level.kind} is not a dunning message.", field=f"{at}.kind")
    if level.kind in REMINDER_KINDS and not level.is_reminder:
        raise BadInput("A reminder says the bill will fall due: at most 0 days from the due date.", field=f"{at}.kind")
    if level.kind in NOTICE_KINDS and level.is_reminder:
        raise BadInput("An overdue notice is for overdue bills: at least 1 day after the due date.", field=f"{at}.kind")
    if level.escalation is not Escalation.NONE and level.is_reminder:
        raise BadInput("The finance desk follows up overdue accounts only.", field=f"{at}.escalation")
    if level.channels and level.kind is None:
        raise BadInput("Channels are for the level's message; this level sends none.", field=f"{at}.channels")
    if len(set(level.channels)) != len(level.channels):
        raise BadInput("A channel is named twice.", field=f"{at}.channels")
    if trigger.min_amount is not None and (
        trigger.min_amount <= 0 or trigger.min_amount != trigger.min_amount.quantize(_FEN)
    ):
        raise BadInput("A least amount is positive, in whole fen.", field=f"{at}.minAmount")
    if trigger.min_bills is not None and trigger.min_bills < 1:
        raise BadInput("A least number of bills is at least 1.", field=f"{at}.minBills")


def heard_levels(notices: Sequence[tuple[int, str]]) -> dict[int, frozenset[str]]:
    """Per bill, the level codes it heard, from (bill id, level code) pairs."""
    heard: dict[int, set[str]] = {}
    for bill_id, code in notices:
        heard.setdefault(bill_id, set()).add(code)
    return {bill_id: frozenset(codes) for bill_id, codes in heard.items()}
