"""Plain data of the billing engine: rules, units, usages, discounts and the bill lines it drafts."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from kernel.vocabulary import BillLineKind, FeeRuleKind, PartyType, UnitKind

__all__ = [
    "ApportionBasis",
    "Apportionment",
    "BillLineDraft",
    "BillingPeriod",
    "DiscountRule",
    "Explanation",
    "FeeRule",
    "LateFeeBreakdown",
    "LateFeePolicy",
    "LateFeeStretch",
    "MeterUsage",
    "Phrase",
    "ReadingTally",
    "RuleScope",
    "Tier",
    "TierCharge",
    "TierPeriod",
    "UnitSnapshot",
    "Waiver",
]

_ZERO = Decimal(0)


class ApportionBasis(StrEnum):
    AREA = "AREA"
    EQUAL = "EQUAL"
    USAGE = "USAGE"


class TierPeriod(StrEnum):
    """What a tier's bounds count: usage within each month, or usage since 1 January."""

    MONTH = "MONTH"
    YEAR_TO_DATE = "YEAR_TO_DATE"


@dataclass(frozen=True, slots=True)
class Tier:
    """Usage in (starts_at, up_to] is priced at unit_price; the last tier has no upper bound."""

    starts_at: Decimal
    up_to: Decimal | None
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class RuleScope:
    """Which units a rule charges; every filter left empty admits all, and set filters must all match."""

    unit_kinds: frozenset[UnitKind] = frozenset()
    building_ids: frozenset[int] = frozenset()
    unit_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class FeeRule:
    """One version of a fee rule; only the parameters of its kind are set.

    - PER_AREA: rate_per_square_metre (per month).
    - FIXED: amount_per_cycle.
    - METERED_TIERED: meter_type, tiers, tier_period.
    - APPORTIONED: apportion_total (per cycle), apportion_basis, and meter_type for USAGE.
    """

    id: int
    code: str
    name: str
    kind: FeeRuleKind
    effective_from: date
    effective_to: date | None = None
    scope: RuleScope = RuleScope()
    rate_per_square_metre: Decimal | None = None
    amount_per_cycle: Decimal | None = None
    meter_type: str | None = None
    tiers: tuple[Tier, ...] = ()
    tier_period: TierPeriod | None = None
    apportion_total: Decimal | None = None
    apportion_basis: ApportionBasis | None = None


_PERIOD_PATTERN = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """A billing cycle of whole calendar months, starting on the first day of its first month."""

    start: date
    months: int = 1

    def __post_init__(self) -> None:
        if self.start.day != 1:
            raise ValueError(f"a billing period starts on the first of a month, not {self.start}")
        if self.months < 1:
            raise ValueError(f"a billing period spans at least one month, not {self.months}")

    @classmethod
    def parse(cls, text: str, months: int = 1) -> BillingPeriod:
        """Build the period that starts in month `text` ("2026-11") and spans `months` months."""
        matched = _PERIOD_PATTERN.fullmatch(text.strip())
        if matched is None:
            raise ValueError(f"expected a period like 2026-11, got {text!r}")
        year, month = int(matched.group(1)), int(matched.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"no month {month} in {text!r}")
        return cls(start=date(year, month, 1), months=months)

    @property
    def end(self) -> date:
        """The last day of the period, inclusive."""
        month_index = self.start.month - 1 + self.months - 1
        year, month = self.start.year + month_index // 12, month_index % 12 + 1
        return date(year, month, calendar.monthrange(year, month)[1])

    @property
    def label(self) -> str:
        """The first month as "YYYY-MM", the form bill runs are keyed by."""
        return f"{self.start.year:04d}-{self.start.month:02d}"

    @classmethod
    def starting_in_month_of(cls, day: date, months: int = 1) -> BillingPeriod:
        """The period of `months` months that starts on the first of `day`'s month."""
        return cls(start=day.replace(day=1), months=months)

    def following(self) -> BillingPeriod:
        """The period of the same length that starts the day after this one ends."""
        return BillingPeriod(start=self.end + timedelta(days=1), months=self.months)

    def __str__(self) -> str:
        end = self.end
        return self.label if self.months == 1 else f"{self.label} to {end.year:04d}-{end.month:02d}"


@dataclass(frozen=True, slots=True)
class UnitSnapshot:
    """What the engine needs to know about a unit; party_type is None when nobody is billed as owner."""

    unit_id: int
    building_id: int
    kind: UnitKind
    floor_area: Decimal
    vacant: bool = False
    party_type: PartyType | None = None


@dataclass(frozen=True, slots=True)
class MeterUsage:
    """A unit's consumption on one meter type in the period, and earlier in the same calendar year."""

    unit_id: int
    meter_type: str
    usage: Decimal
    usage_earlier_in_year: Decimal = _ZERO


@dataclass(frozen=True, slots=True)
class ReadingTally:
    """A group of one unit's readings on one meter type, read before the period being billed ends.

    `billed` says whether an earlier bill charged them, `this_year` whether they were read in the
    period's calendar year (only billed ones need to say); `usage` is the sum of their usages.
    """

    unit_id: int
    meter_type: str
    billed: bool
    this_year: bool
    usage: Decimal
    readings: int


@dataclass(frozen=True, slots=True)
class DiscountRule:
    """A percentage off the charges of the named rule codes, for units meeting every set condition.

    `vacant_only` limits it to vacant units, `party_type` to units billed to that kind of party.
    """

    id: int
    name: str
    percent: Decimal
    rule_codes: frozenset[str]
    vacant_only: bool = False
    party_type: PartyType | None = None
    effective_from: date | None = None
    effective_to: date | None = None


@dataclass(frozen=True, slots=True)
class Waiver:
    """A one-off reduction of one unit's charge under a rule code; `amount` None waives it in full."""

    id: int
    unit_id: int
    rule_code: str
    amount: Decimal | None
    reason: str
    approved_by: int


@dataclass(frozen=True, slots=True)
class LateFeePolicy:
    """Simple daily interest on an overdue principal, after a grace period, optionally capped.

    One version of a project's policy, in force from `effective_from` until the next version starts; a
    policy standing alone is in force on every day.
    """

    daily_rate: Decimal
    grace_days: int = 0
    cap_ratio: Decimal | None = None
    effective_from: date = date.min


@dataclass(frozen=True, slots=True)
class LateFeeStretch:
    """Consecutive overdue days charged under one policy version: principal × daily_rate × days."""

    first_day: date
    last_day: date
    days: int
    daily_rate: Decimal
    grace_days: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LateFeeBreakdown:
    """A late fee and how it was reached: its stretches (amounts unrounded), the cap that held it back if
    any, and the fee rounded to the fen."""

    principal: Decimal
    due_date: date
    as_of: date
    stretches: tuple[LateFeeStretch, ...]
    cap_ratio: Decimal | None
    cap: Decimal | None
    capped: bool
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TierCharge:
    """The part of a metered charge that falls into one tier (numbered from 1)."""

    tier_number: int
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Apportionment:
    """How one apportioned rule's total for the period is shared among the units in its scope."""

    rule_id: int
    basis: ApportionBasis
    total: Decimal
    total_weight: Decimal
    unit_count: int
    shares: Mapping[int, Decimal] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Phrase:
    """One part of how an amount was computed: what it says (`key`) and its figures, already written as
    numbers ("88.50", "0.5283", "240") in the language-neutral form. The edge renders it to a language
    (`billing.texts`): the engine never writes prose."""

    key: str
    figures: tuple[tuple[str, str], ...] = ()

    def __getitem__(self, name: str) -> str:
        for figure, value in self.figures:
            if figure == name:
                return value
        raise KeyError(name)


Explanation = tuple[Phrase, ...]


def phrase(key: str, **figures: object) -> Phrase:
    """A phrase with its figures as text (Decimals and ints as written)."""
    return Phrase(key, tuple((name, str(value)) for name, value in figures.items()))


@dataclass(frozen=True, slots=True)
class BillLineDraft:
    """One bill line as computed; `amount` is authoritative, quantity and unit price explain it.

    `unit_price` is None when no single price produced the amount (several tiers, a share of a total).
    A line is a value: it belongs to the bill whose list holds it, and units with the same inputs to a
    rule may share one line.
    """

    rule_id: int
    rule_code: str
    kind: BillLineKind
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    explanation: Explanation
    discount_id: int | None = None
    waiver_id: int | None = None
