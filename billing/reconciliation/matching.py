"""The matching core: statement lines against Courtyard's payments and refunds, every pairing explained.

Pure and deterministic: plain frozen dataclasses in, a `Reconciliation` out, the same whatever order the
inputs come in. Every payment, refund and line lands in exactly one place: a `Match`, a
`ReconciliationException`, or `pending` (a payment or refund whose channel may still report it, a
payout that may still arrive).

Steps, in order (each match says which step made it and why, as structured parts rendered at the edge):

1. Exact keys, by hash lookup: our order number (out_trade_no), the provider's transaction id, the bank's
   reference and the EndToEndId; refunds by their refund numbers, else by their order and amount. A key
   that finds a payment with another amount is an AMOUNT_MISMATCH (with the difference and whether the
   channel's fee explains it); a second line for an already matched payment is a DUPLICATE_CHARGE, as
   is a second payment of the same charge (`charge_key`) for the same amount.
2. Payouts and settlements: an Alipay withdrawal (提现) line matches the bank credit of its amount
   (the most specific evidence, so first); then a bank credit equal to the net of one channel account's
   day (Σ 订单金额 − coupons − refunds − fees), or of a run of consecutive days (weekend batches),
   arriving within the channel's payout lag, settles those days as one group (N:1); the fee is reported
   as `channel_fee`, never as a mismatch.
3. The project's rules, as data, tried in sequence on the bank credits still open: a text pattern in the
   memo or counterparty name naming a unit or party, an amount tolerance, a date window, and payer-name
   similarity in characters or pinyin. A rule matches only when exactly one payment is best; a tie is
   left for a person, with the candidates as suggestions.
4. Whatever is left becomes an exception (or stays pending inside its settlement window).

Lookups are hash joins (amounts as integer fen keyed by day), never a scan of all payments per line.

A caller may pair lines with payments before the call, where they are many (the database joins them by
order number): it leaves those lines and payments out and passes each channel day's share of them as
`PairedLines`, which count in that day's settlement exactly as the lines would. That is sound only for
pairs whose outcome no other input can change (see `billing.reconciliation.key_join`); such a pair's match
carries `exact_key_explanation`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from operator import attrgetter
from zoneinfo import ZoneInfo

from billing.reconciliation.names import name_similarity
from billing.reconciliation.statement import Channel, LineKind, SourceKind, StatementLine, round_fen

__all__ = [
    "ChannelTerms",
    "ExceptionKind",
    "Explanation",
    "Match",
    "MatchRule",
    "MatchStep",
    "PairedLines",
    "Reconciliation",
    "ReconciliationException",
    "unit_code",
    "RecordedPayment",
    "RecordedRefund",
    "Settlement",
    "exact_key_explanation",
    "reconcile",
]

ZERO = Decimal("0")
_RULE_SCAN_LIMIT = 64
"""Open candidates a rule looks at per line and day; more equally good ones could not be told apart."""


# ---------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class RecordedRefund:
    """A refund Courtyard made of a payment; `amount` is positive."""

    id: int
    amount: Decimal
    refunded_at: dt.datetime
    refund_no: str | None = None
    provider_refund_id: str | None = None


@dataclass(frozen=True, slots=True)
class RecordedPayment:
    """A payment as Courtyard recorded it.

    `charge_key` names what was paid (e.g. the bill ids of a payment intent): two payments with the same
    key and amount are the same charge made twice.
    """

    id: int
    channel: Channel
    amount: Decimal
    paid_at: dt.datetime
    unit_id: int | None = None
    party_id: int | None = None
    order_no: str | None = None
    provider_transaction_id: str | None = None
    payer_name: str | None = None
    charge_key: str | None = None
    refunds: tuple[RecordedRefund, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelTerms:
    """How one payment channel reports and settles.

    `sources` are the statements that carry the channel's own lines (WeChat bills for WECHAT, bank
    statements for BANK_TRANSFER). A payment or refund with no line `report_days` after it is
    UNRECEIVED / REFUND_UNMATCHED. The channel pays a day's net into `payout_account` (any bank account
    when None) between `payout_min_days` and `payout_max_days` later. `fee_rate` lets an amount
    difference be recognised as the channel's fee.
    """

    channel: Channel
    sources: tuple[SourceKind, ...]
    report_days: int = 2
    payout_min_days: int = 1
    payout_max_days: int = 7
    payout_account: str | None = None
    fee_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PairedLines:
    """Payment lines of one channel account's day that were paired with their payments before `reconcile`:
    they are not matched again, and they count in the day's settlement as if they had been passed.

    `gross` is their Σ amount, `coupons` their Σ (amount − settled amount), `fees` their Σ fee as the
    channel wrote it (WeChat: five decimals; the day's total is rounded once, as for lines passed).
    """

    source: SourceKind
    account: str
    day: dt.date
    count: int
    gross: Decimal
    coupons: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class MatchRule:
    """One project rule; every condition given must hold. Rules are tried in their list order.

    `pattern` is a regular expression searched in the line's memo and counterparty name; it points at
    `unit_id` / `party_id`, or, through a named group `unit`, at the unit whose code it captured (looked
    up in `reconcile(unit_codes=…)`, whose keys and the captured text are compared as `unit_code` writes
    them). Without a pattern, candidates are found by amount and date.
    Day offsets count calendar days in the project's zone from the payment to the line. `position` is the
    rule's place in the project's stored list, which explanations name; without it, its place in `rules`.
    """

    name: str
    pattern: str | None = None
    unit_id: int | None = None
    party_id: int | None = None
    amount_tolerance: Decimal = ZERO
    days_before: int = 0
    days_after: int = 3
    min_name_similarity: float | None = None
    channels: tuple[Channel, ...] = (Channel.BANK_TRANSFER,)
    position: int | None = None


# --------------------------------------------------------------------------------------------- outputs


class MatchStep(StrEnum):
    EXACT_KEY = "EXACT_KEY"
    SETTLEMENT = "SETTLEMENT"
    PAYOUT = "PAYOUT"
    RULE = "RULE"
    CHANNEL_FEE = "CHANNEL_FEE"


class ExceptionKind(StrEnum):
    UNRECEIVED = "UNRECEIVED"
    CHANNEL_ONLY = "CHANNEL_ONLY"
    DUPLICATE_CHARGE = "DUPLICATE_CHARGE"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    BANK_UNMATCHED = "BANK_UNMATCHED"
    REFUND_UNMATCHED = "REFUND_UNMATCHED"


@dataclass(frozen=True, slots=True)
class Explanation:
    """One reason, as a code and its facts (plain values: text, numbers, `Decimal`, dates); the edge
    renders it in the project's language."""

    code: str
    facts: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, code: str, **facts: object) -> Explanation:
        return cls(code, tuple((name, value) for name, value in facts.items() if value is not None))

    def fact(self, name: str) -> object:
        return next((value for key, value in self.facts if key == name), None)


@dataclass(frozen=True, slots=True)
class Settlement:
    """One channel account's net for a run of days, and the lines it is made of: those passed to
    `reconcile` by key, and `paired_lines` more that were paired before the call (`PairedLines`)."""

    source: SourceKind
    account: str
    first_day: dt.date
    last_day: dt.date
    line_keys: tuple[str, ...]
    gross: Decimal
    coupons: Decimal
    refunds: Decimal
    fees: Decimal
    paired_lines: int = 0

    @property
    def net(self) -> Decimal:
        return self.gross - self.coupons + self.refunds - self.fees

    @property
    def line_count(self) -> int:
        return len(self.line_keys) + self.paired_lines


@dataclass(frozen=True, slots=True)
class Match:
    """Lines, payments and refunds that belong together; it owns what it lists."""

    step: MatchStep
    line_keys: tuple[str, ...]
    payment_ids: tuple[int, ...] = ()
    refund_ids: tuple[int, ...] = ()
    explanation: tuple[Explanation, ...] = ()
    rule: str | None = None
    settlement: Settlement | None = None
    channel_fee: Decimal = ZERO
    amount_difference: Decimal = ZERO
    related_payment_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ReconciliationException:
    """Something a person must resolve; it owns the lines, payments and refunds it lists and points at
    the related ones (owned elsewhere) for context."""

    kind: ExceptionKind
    line_keys: tuple[str, ...] = ()
    payment_ids: tuple[int, ...] = ()
    refund_ids: tuple[int, ...] = ()
    explanation: tuple[Explanation, ...] = ()
    difference: Decimal | None = None
    fee_explains: bool | None = None
    related_line_keys: tuple[str, ...] = ()
    related_payment_ids: tuple[int, ...] = ()
    suggested_payment_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Reconciliation:
    matches: tuple[Match, ...]
    exceptions: tuple[ReconciliationException, ...]
    pending_payment_ids: tuple[int, ...]
    pending_refund_ids: tuple[int, ...]
    pending_line_keys: tuple[str, ...]
    settlements: tuple[Settlement, ...] = field(default=())
    """Every channel account's days, settled or not (the settled ones are also on their match)."""

    def by_kind(self, kind: ExceptionKind) -> tuple[ReconciliationException, ...]:
        return tuple(exception for exception in self.exceptions if exception.kind is kind)


# ------------------------------------------------------------------------------------------------- core


def _fen(amount: Decimal) -> int:
    return int(amount.scaleb(2).to_integral_value(rounding=ROUND_HALF_UP))


class _State:
    """The mutable bookkeeping of one run; nothing of it escapes `reconcile`."""

    def __init__(
        self,
        lines: Sequence[StatementLine],
        payments: Sequence[RecordedPayment],
        paired: Sequence[PairedLines],
        terms: Sequence[ChannelTerms],
        zone: ZoneInfo,
    ) -> None:
        self.zone = zone
        self.paired = paired
        self.lines = sorted(lines, key=attrgetter("booked_at", "line_key"))
        self.payments = sorted(payments, key=attrgetter("paid_at", "id"))
        keys = {line.line_key for line in self.lines}
        if len(keys) != len(self.lines):
            twice = next(key for key, count in Counter(line.line_key for line in self.lines).items() if count > 1)
            raise ValueError(f"line key {twice} appears twice; store each line once")
        self.payment_by_id: dict[int, RecordedPayment] = {}
        self.refund_by_id: dict[int, RecordedRefund] = {}
        self.payment_of_refund: dict[int, RecordedPayment] = {}
        for payment in self.payments:
            if payment.id in self.payment_by_id:
                raise ValueError(f"payment {payment.id} appears twice")
            self.payment_by_id[payment.id] = payment
            for refund in payment.refunds:
                if refund.id in self.refund_by_id:
                    raise ValueError(f"refund {refund.id} appears twice")
                self.refund_by_id[refund.id] = refund
                self.payment_of_refund[refund.id] = payment
        self.terms_by_channel = {t.channel: t for t in terms}
        self.terms_by_source: dict[SourceKind, ChannelTerms] = {}
        for t in terms:
            for source in t.sources:
                if source is not SourceKind.BANK:
                    self.terms_by_source.setdefault(source, t)
        missing = {p.channel for p in self.payments} - set(self.terms_by_channel)
        if missing:
            raise ValueError(f"no channel terms for {', '.join(sorted(missing))}")
        self.matches: list[Match] = []
        self.exceptions: list[ReconciliationException] = []
        self.used_lines: set[str] = set()
        self.used_payments: set[int] = set()
        self.used_refunds: set[int] = set()
        self.line_of_payment: dict[int, str] = {}

    def day(self, moment: dt.datetime) -> dt.date:
        # Parsers write times in the project's zone already; converting a million of them costs seconds.
        return moment.date() if moment.tzinfo is self.zone else moment.astimezone(self.zone).date()


def reconcile(
    *,
    lines: Sequence[StatementLine],
    payments: Sequence[RecordedPayment],
    paired: Sequence[PairedLines] = (),
    terms: Sequence[ChannelTerms],
    rules: Sequence[MatchRule] = (),
    unit_codes: Mapping[str, int] | None = None,
    as_of: dt.datetime,
    zone: ZoneInfo,
) -> Reconciliation:
    """Match statement lines with payments and refunds; see the module's docstring for the steps and for
    `paired`."""
    state = _State(lines, payments, paired, terms, zone)
    _match_exact_keys(state)
    _flag_duplicate_charges(state)
    _match_payouts(state)
    settlements = _match_settlements(state)
    for position, rule in enumerate(rules, start=1):
        _match_rule(state, rule, rule.position or position, unit_codes or {})
    pending = _close(state, as_of)
    return Reconciliation(
        matches=tuple(sorted(state.matches, key=_match_order)),
        exceptions=tuple(sorted(state.exceptions, key=_exception_order)),
        pending_payment_ids=tuple(sorted(pending[0])),
        pending_refund_ids=tuple(sorted(pending[1])),
        pending_line_keys=tuple(sorted(pending[2])),
        settlements=settlements,
    )


def _match_order(match: Match) -> str:
    # Every match owns at least one line, and a line belongs to one match only.
    return match.line_keys[0]


def _exception_order(exception: ReconciliationException) -> tuple[str, ...]:
    return (exception.kind, *exception.line_keys, *map(str, exception.payment_ids), *map(str, exception.refund_ids))


# ------------------------------------------------------------------------------------- 1. exact keys

_PAYMENT_KEYS = (
    ("order_no", "order_no"),
    ("transaction_id", "provider_transaction_id"),
    ("bank_reference", "provider_transaction_id"),
    ("end_to_end_id", "order_no"),
)


# The common case, a key and its amount equal, shares one explanation per key: its value and the amount
# are on the match's own line and payment, and a million matches need not carry a million copies.
_EXACT_EXPLANATIONS = {
    line_field: (Explanation("KEY_EQUAL", (("key", line_field),)), Explanation("AMOUNT_EQUAL"))
    for line_field, _ in _PAYMENT_KEYS
}


def exact_key_explanation(key: str) -> tuple[Explanation, ...]:
    """The explanation of a line and a payment paired by the line's `key` field and an equal amount."""
    return _EXACT_EXPLANATIONS[key]


def _match_exact_keys(state: _State) -> None:
    by_order: dict[str, int] = {}
    by_transaction: dict[str, int] = {}
    refund_by_no: dict[str, int] = {}
    refund_by_provider: dict[str, int] = {}
    for payment in state.payments:
        if payment.order_no:
            by_order.setdefault(payment.order_no, payment.id)
        if payment.provider_transaction_id:
            by_transaction.setdefault(payment.provider_transaction_id, payment.id)
        for refund in payment.refunds:
            if refund.refund_no:
                refund_by_no.setdefault(refund.refund_no, refund.id)
            if refund.provider_refund_id:
                refund_by_provider.setdefault(refund.provider_refund_id, refund.id)
    index = {"order_no": by_order, "provider_transaction_id": by_transaction}

    fee, refund, payment, bank = LineKind.FEE, LineKind.REFUND, LineKind.PAYMENT, LineKind.BANK
    for line in state.lines:
        kind = line.kind
        if kind is payment or (kind is bank and line.amount > 0):
            _match_payment_line(state, line, index)
        elif kind is refund or (kind is bank and line.amount < 0):
            _match_refund_line(state, line, index, refund_by_no, refund_by_provider)
        elif kind is fee:
            _match_fee_line(state, line, index)


def _find_payment(line: StatementLine, index: Mapping[str, Mapping[str, int]]) -> tuple[int, str, str] | None:
    for line_field, payment_field in _PAYMENT_KEYS:
        value = getattr(line, line_field)
        if value:
            payment_id = index[payment_field].get(value)
            if payment_id is not None:
                return payment_id, line_field, value
    return None


def _expected_fee(state: _State, payment: RecordedPayment, line: StatementLine) -> Decimal | None:
    if line.fee:
        return round_fen(line.fee)
    terms = state.terms_by_channel[payment.channel]
    return round_fen(payment.amount * terms.fee_rate) if terms.fee_rate is not None else None


def _match_payment_line(state: _State, line: StatementLine, index: Mapping[str, Mapping[str, int]]) -> None:
    found = _find_payment(line, index)
    if found is None:
        return
    payment_id, key, value = found
    payment = state.payment_by_id[payment_id]
    if payment_id not in state.used_payments and line.amount == payment.amount:
        state.line_of_payment[payment_id] = line.line_key
        state.used_lines.add(line.line_key)
        state.used_payments.add(payment_id)
        state.matches.append(
            Match(
                step=MatchStep.EXACT_KEY,
                line_keys=(line.line_key,),
                payment_ids=(payment_id,),
                explanation=_EXACT_EXPLANATIONS[key],
            )
        )
        return
    key_part = Explanation("KEY_EQUAL", (("key", key), ("value", value)))
    if payment_id in state.used_payments:
        first = state.line_of_payment.get(payment_id)
        state.exceptions.append(
            ReconciliationException(
                kind=ExceptionKind.DUPLICATE_CHARGE,
                line_keys=(line.line_key,),
                explanation=(
                    key_part,
                    Explanation.of("ALREADY_MATCHED", payment=payment_id, line=first, amount=line.amount),
                ),
                difference=line.amount,
                related_line_keys=(first,) if first else (),
                related_payment_ids=(payment_id,),
            )
        )
        state.used_lines.add(line.line_key)
        return
    state.line_of_payment[payment_id] = line.line_key
    state.used_lines.add(line.line_key)
    state.used_payments.add(payment_id)
    difference = line.amount - payment.amount
    fee = _expected_fee(state, payment, line)
    fee_explains = fee is not None and fee != 0 and -difference == fee
    state.exceptions.append(
        ReconciliationException(
            kind=ExceptionKind.AMOUNT_MISMATCH,
            line_keys=(line.line_key,),
            payment_ids=(payment_id,),
            explanation=(
                key_part,
                Explanation.of(
                    "AMOUNT_DIFFERS",
                    line_amount=line.amount,
                    payment_amount=payment.amount,
                    difference=difference,
                    fee=fee,
                    fee_explains=fee_explains,
                ),
            ),
            difference=difference,
            fee_explains=fee_explains,
        )
    )


def _match_refund_line(
    state: _State,
    line: StatementLine,
    index: Mapping[str, Mapping[str, int]],
    refund_by_no: Mapping[str, int],
    refund_by_provider: Mapping[str, int],
) -> None:
    refund_id: int | None = None
    part: Explanation | None = None
    for line_field, lookup in (
        ("refund_no", refund_by_no),
        ("provider_refund_id", refund_by_provider),
        ("bank_reference", refund_by_provider),
        ("end_to_end_id", refund_by_no),
    ):
        value = getattr(line, line_field)
        candidate = lookup.get(value) if value else None
        if candidate is not None and candidate not in state.used_refunds:
            refund_id, part = candidate, Explanation.of("KEY_EQUAL", key=line_field, value=value)
            break
    if refund_id is None:
        found = _find_payment(line, index)
        if found is None:
            return
        payment_id, key, value = found
        open_refunds = sorted(
            (
                r
                for r in state.payment_by_id[payment_id].refunds
                if r.id not in state.used_refunds and r.amount == -line.amount
            ),
            key=lambda r: (r.refunded_at, r.id),
        )
        if not open_refunds:
            return
        refund_id = open_refunds[0].id
        part = Explanation.of("REFUND_OF_ORDER", key=key, value=value, payment=payment_id)
    refund = state.refund_by_id[refund_id]
    state.used_lines.add(line.line_key)
    state.used_refunds.add(refund_id)
    if -line.amount == refund.amount:
        state.matches.append(
            Match(
                step=MatchStep.EXACT_KEY,
                line_keys=(line.line_key,),
                refund_ids=(refund_id,),
                explanation=(part, Explanation.of("AMOUNT_EQUAL", amount=line.amount)),
                related_payment_ids=(state.payment_of_refund[refund_id].id,),
            )
        )
        return
    difference = -line.amount - refund.amount
    state.exceptions.append(
        ReconciliationException(
            kind=ExceptionKind.AMOUNT_MISMATCH,
            line_keys=(line.line_key,),
            refund_ids=(refund_id,),
            explanation=(
                part,
                Explanation.of(
                    "REFUND_AMOUNT_DIFFERS",
                    line_amount=-line.amount,
                    refund_amount=refund.amount,
                    difference=difference,
                ),
            ),
            difference=difference,
            fee_explains=False,
            related_payment_ids=(state.payment_of_refund[refund_id].id,),
        )
    )


def _match_fee_line(state: _State, line: StatementLine, index: Mapping[str, Mapping[str, int]]) -> None:
    """A fee booked as its own line (Alipay 账务明细 收费) is the channel's expense, linked to its order."""
    found = _find_payment(line, index)
    related = (found[0],) if found else ()
    state.matches.append(
        Match(
            step=MatchStep.CHANNEL_FEE,
            line_keys=(line.line_key,),
            explanation=(Explanation.of("CHANNEL_FEE", amount=-line.amount, order_no=line.order_no),),
            channel_fee=-line.amount,
            related_payment_ids=related,
        )
    )
    state.used_lines.add(line.line_key)


def _flag_duplicate_charges(state: _State) -> None:
    """A second matched payment of the same charge and amount: the owner paid twice."""
    seen: dict[tuple[str, Decimal], int] = {}
    duplicates: dict[int, int] = {}
    for payment in state.payments:
        if payment.charge_key is None or payment.id not in state.line_of_payment:
            continue
        first = seen.setdefault((payment.charge_key, payment.amount), payment.id)
        if first != payment.id:
            duplicates[payment.id] = first
    if not duplicates:
        return
    kept: list[Match] = []
    for match in state.matches:
        duplicate_of = next((duplicates[p] for p in match.payment_ids if p in duplicates), None)
        if duplicate_of is None:
            kept.append(match)
            continue
        payment_id = match.payment_ids[0]
        payment = state.payment_by_id[payment_id]
        state.exceptions.append(
            ReconciliationException(
                kind=ExceptionKind.DUPLICATE_CHARGE,
                line_keys=match.line_keys,
                payment_ids=match.payment_ids,
                explanation=(
                    *match.explanation,
                    Explanation.of(
                        "SAME_CHARGE", charge=payment.charge_key, amount=payment.amount, first_payment=duplicate_of
                    ),
                ),
                difference=payment.amount,
                related_line_keys=(state.line_of_payment[duplicate_of],),
                related_payment_ids=(duplicate_of,),
            )
        )
    state.matches = kept


# ----------------------------------------------------------------------------------- 2. settlements


@dataclass(slots=True)
class _Day:
    source: SourceKind
    account: str
    day: dt.date
    line_keys: list[str]
    gross: Decimal = ZERO
    coupons: Decimal = ZERO
    refunds: Decimal = ZERO
    exact_fees: Decimal = ZERO
    fee_lines: Decimal = ZERO
    paired_lines: int = 0
    settled: bool = False

    @property
    def fees(self) -> Decimal:
        # WeChat writes fees to 0.00001; what is withheld from a day is their sum to the fen.
        return round_fen(self.exact_fees) + self.fee_lines


def _settlement(days: Sequence[_Day]) -> Settlement:
    return Settlement(
        source=days[0].source,
        account=days[0].account,
        first_day=days[0].day,
        last_day=days[-1].day,
        line_keys=tuple(key for day in days for key in day.line_keys),
        gross=sum((d.gross for d in days), ZERO),
        coupons=sum((d.coupons for d in days), ZERO),
        refunds=sum((d.refunds for d in days), ZERO),
        fees=sum((d.fees for d in days), ZERO),
        paired_lines=sum(d.paired_lines for d in days),
    )


def _channel_days(state: _State) -> list[list[_Day]]:
    days: dict[tuple[SourceKind, str, dt.date], _Day] = {}
    for line in state.lines:
        if line.source is SourceKind.BANK or line.kind not in (LineKind.PAYMENT, LineKind.REFUND, LineKind.FEE):
            continue
        key = (line.source, line.account, state.day(line.booked_at))
        day = days.get(key)
        if day is None:
            day = days[key] = _Day(line.source, line.account, key[2], [])
        day.line_keys.append(line.line_key)
        if line.kind is LineKind.FEE:
            day.fee_lines -= line.amount
        elif line.kind is LineKind.PAYMENT:
            day.gross += line.amount
            day.coupons += line.amount - line.settled_amount
            day.exact_fees += line.fee
        else:
            day.refunds += line.amount
            day.coupons += line.amount - line.settled_amount
            day.exact_fees += line.fee
    for paired in state.paired:
        key = (paired.source, paired.account, paired.day)
        day = days.get(key)
        if day is None:
            day = days[key] = _Day(paired.source, paired.account, paired.day, [])
        day.paired_lines += paired.count
        day.gross += paired.gross
        day.coupons += paired.coupons
        day.exact_fees += paired.fees
    by_account: dict[tuple[SourceKind, str], list[_Day]] = defaultdict(list)
    for key in sorted(days):
        by_account[key[:2]].append(days[key])
    return list(by_account.values())


def _match_settlements(state: _State) -> tuple[Settlement, ...]:
    accounts = _channel_days(state)
    # net in fen → runs of consecutive channel days (as index ranges into their account's list)
    runs: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for account_index, days in enumerate(accounts):
        terms = state.terms_by_source.get(days[0].source)
        span = terms.payout_max_days if terms else 7
        nets = [day.gross - day.coupons + day.refunds - day.fees for day in days]
        for start in range(len(days)):
            total = ZERO
            for end in range(start, len(days)):
                if (days[end].day - days[start].day).days > span:
                    break
                total += nets[end]
                if total > 0:
                    runs[_fen(total)].append((end - start, account_index, start))
    for candidates in runs.values():
        candidates.sort(key=lambda run: (run[0], accounts[run[1]][run[2]].day, run[1]))

    for line in state.lines:
        if line.line_key in state.used_lines or line.source is not SourceKind.BANK or line.amount <= 0:
            continue
        arrived = state.day(line.booked_at)
        for length, account_index, start in runs.get(_fen(line.amount), ()):
            days = accounts[account_index][start : start + length + 1]
            terms = state.terms_by_source.get(days[0].source)
            if terms is None or any(day.settled for day in days):
                continue
            if terms.payout_account is not None and terms.payout_account != line.account:
                continue
            lag_first = (arrived - days[0].day).days
            lag_last = (arrived - days[-1].day).days
            if lag_last < terms.payout_min_days or lag_first > terms.payout_max_days:
                continue
            for day in days:
                day.settled = True
            settlement = _settlement(days)
            state.matches.append(
                Match(
                    step=MatchStep.SETTLEMENT,
                    line_keys=(line.line_key,),
                    explanation=(
                        Explanation.of(
                            "SETTLES_CHANNEL_DAYS",
                            source=settlement.source,
                            account=settlement.account,
                            first_day=settlement.first_day,
                            last_day=settlement.last_day,
                            lines=settlement.line_count,
                        ),
                        Explanation.of(
                            "SETTLEMENT_AMOUNT",
                            gross=settlement.gross,
                            coupons=settlement.coupons,
                            refunds=settlement.refunds,
                            fees=settlement.fees,
                            net=settlement.net,
                        ),
                        Explanation.of("ARRIVED_AFTER_DAYS", days=lag_last),
                    ),
                    settlement=settlement,
                    channel_fee=settlement.fees,
                )
            )
            state.used_lines.add(line.line_key)
            break
    return tuple(_settlement([day]) for days in accounts for day in days)


def _match_payouts(state: _State) -> None:
    """A channel's withdrawal to the bank (Alipay 提现) matches the bank credit of the same amount."""
    credits: dict[int, list[StatementLine]] = defaultdict(list)
    for line in state.lines:
        if line.source is SourceKind.BANK and line.amount > 0 and line.line_key not in state.used_lines:
            credits[_fen(line.amount)].append(line)
    for payout in state.lines:
        if payout.kind is not LineKind.PAYOUT or payout.amount >= 0:
            continue
        terms = state.terms_by_source.get(payout.source)
        sent = state.day(payout.booked_at)
        for credit in credits.get(_fen(-payout.amount), ()):
            if credit.line_key in state.used_lines:
                continue
            lag = (state.day(credit.booked_at) - sent).days
            if not 0 <= lag <= (terms.payout_max_days if terms else 7):
                continue
            if terms is not None and terms.payout_account is not None and terms.payout_account != credit.account:
                continue
            state.matches.append(
                Match(
                    step=MatchStep.PAYOUT,
                    line_keys=(payout.line_key, credit.line_key),
                    explanation=(Explanation.of("PAYOUT_ARRIVED", amount=credit.amount, sent=sent, days=lag),),
                )
            )
            state.used_lines.update((payout.line_key, credit.line_key))
            break


# ----------------------------------------------------------------------------------------- 3. rules


@dataclass(frozen=True, slots=True)
class _Candidate:
    score: tuple[Decimal, int, float]
    payment: RecordedPayment
    parts: tuple[Explanation, ...]


def _match_rule(state: _State, rule: MatchRule, position: int, unit_codes: Mapping[str, int]) -> None:
    pattern = re.compile(rule.pattern) if rule.pattern else None
    tolerance = _fen(rule.amount_tolerance)
    open_payments = [p for p in state.payments if p.id not in state.used_payments and p.channel in rule.channels]
    by_unit: dict[int, list[RecordedPayment]] = defaultdict(list)
    by_party: dict[int, list[RecordedPayment]] = defaultdict(list)
    # day → sorted (fen, payment id) and the payments in the same order, for range lookups by amount
    amounts: dict[dt.date, list[tuple[int, int]]] = defaultdict(list)
    for payment in open_payments:
        if payment.unit_id is not None:
            by_unit[payment.unit_id].append(payment)
        if payment.party_id is not None:
            by_party[payment.party_id].append(payment)
        amounts[state.day(payment.paid_at)].append((_fen(payment.amount), payment.id))
    for entries in amounts.values():
        entries.sort()

    for line in state.lines:
        if line.line_key in state.used_lines or line.kind is not LineKind.BANK or line.amount <= 0:
            continue
        target_parts: tuple[Explanation, ...] = ()
        if pattern is not None:
            found = _pattern_target(pattern, rule, line, unit_codes)
            if found is None:
                continue
            unit_id, party_id, target_parts = found
            pool: Iterable[RecordedPayment] = (
                by_unit.get(unit_id, ()) if unit_id is not None else by_party.get(party_id or 0, ())
            )
        else:
            pool = _by_amount_and_day(state, amounts, line, rule, tolerance)
        candidates = [c for c in (_candidate(state, rule, line, p) for p in pool) if c is not None]
        if not candidates:
            continue
        candidates.sort(key=lambda c: (c.score, c.payment.id))
        best = candidates[0]
        if len(candidates) > 1 and candidates[1].score == best.score:
            continue  # two equally good payments: a person decides
        state.matches.append(
            Match(
                step=MatchStep.RULE,
                line_keys=(line.line_key,),
                payment_ids=(best.payment.id,),
                explanation=(Explanation.of("RULE", rule=rule.name, position=position), *target_parts, *best.parts),
                rule=rule.name,
                amount_difference=line.amount - best.payment.amount,
            )
        )
        state.used_lines.add(line.line_key)
        state.used_payments.add(best.payment.id)


def _pattern_target(
    pattern: re.Pattern[str], rule: MatchRule, line: StatementLine, unit_codes: Mapping[str, int]
) -> tuple[int | None, int | None, tuple[Explanation, ...]] | None:
    for field_name in ("memo", "counterparty_name"):
        text = getattr(line, field_name)
        found = pattern.search(text) if text else None
        if found is None:
            continue
        code = found.groupdict().get("unit")
        unit_id = unit_codes.get(unit_code(code)) if code is not None else rule.unit_id
        if unit_id is None and rule.party_id is None:
            continue
        return (
            unit_id,
            rule.party_id,
            (
                Explanation.of(
                    "PATTERN_FOUND", field=field_name, text=found.group(0), unit=unit_id, party=rule.party_id
                ),
            ),
        )
    return None


# Words that separate a unit code's parts as people write them: 3栋1单元502室, 3号楼-502, 3幢502号.
_UNIT_CODE_WORDS = re.compile(r"号楼|栋|幢|座|单元|室|号|楼")
_UNIT_CODE_SEPARATORS = re.compile(r"[^0-9A-Z]+")


def unit_code(text: str) -> str:
    """A unit code in one spelling, so that a memo's `3栋1单元502室`, `3-1-502` and `３－１－５０２` and
    the unit of building `3栋` numbered `1-502` meet: full-width characters made ASCII, letters upper
    case, the building words and every other run of non-alphanumerics one `-`."""
    ascii_text = unicodedata.normalize("NFKC", text).upper()
    return _UNIT_CODE_SEPARATORS.sub("-", _UNIT_CODE_WORDS.sub("-", ascii_text)).strip("-")


def _by_amount_and_day(
    state: _State,
    amounts: Mapping[dt.date, list[tuple[int, int]]],
    line: StatementLine,
    rule: MatchRule,
    tolerance: int,
) -> Iterable[RecordedPayment]:
    fen = _fen(line.amount)
    arrived = state.day(line.booked_at)
    # A payment `days_after` days before the line up to `days_before` days after it.
    for offset in range(-rule.days_after, rule.days_before + 1):
        entries = amounts.get(arrived + dt.timedelta(days=offset))
        if not entries:
            continue
        low = bisect_left(entries, (fen - tolerance, -1))
        high = bisect_right(entries, (fen + tolerance, 1 << 62))
        seen = 0
        for _, payment_id in entries[low:high]:
            if payment_id in state.used_payments:
                continue
            seen += 1
            if seen > _RULE_SCAN_LIMIT:
                break
            yield state.payment_by_id[payment_id]


def _candidate(state: _State, rule: MatchRule, line: StatementLine, payment: RecordedPayment) -> _Candidate | None:
    if payment.id in state.used_payments or payment.channel not in rule.channels:
        return None
    difference = line.amount - payment.amount
    if abs(difference) > rule.amount_tolerance:
        return None
    days = (state.day(line.booked_at) - state.day(payment.paid_at)).days
    if not -rule.days_before <= days <= rule.days_after:
        return None
    parts = [
        Explanation.of(
            "AMOUNT_WITHIN",
            line_amount=line.amount,
            payment_amount=payment.amount,
            difference=difference,
            tolerance=rule.amount_tolerance,
        ),
        Explanation.of("DATE_WITHIN", days=days, days_before=rule.days_before, days_after=rule.days_after),
    ]
    similarity = 0.0
    if rule.min_name_similarity is not None:
        name = name_similarity(line.counterparty_name, payment.payer_name)
        if name.score < rule.min_name_similarity:
            return None
        similarity = name.score
        parts.append(
            Explanation.of(
                "NAME_SIMILAR",
                line_name=line.counterparty_name,
                payer_name=payment.payer_name,
                score=name.score,
                via=name.via,
                minimum=rule.min_name_similarity,
            )
        )
    return _Candidate((abs(difference), abs(days), -similarity), payment, tuple(parts))


# ------------------------------------------------------------------------------------ 4. what is left


def _close(state: _State, as_of: dt.datetime) -> tuple[list[int], list[int], list[str]]:
    pending_payments: list[int] = []
    pending_refunds: list[int] = []
    pending_lines: list[str] = []
    suggestions = _suggestions(state)
    for line in state.lines:
        if line.line_key in state.used_lines:
            continue
        if line.kind is LineKind.PAYOUT:
            terms = state.terms_by_source.get(line.source)
            due = line.booked_at + dt.timedelta(days=terms.payout_max_days if terms else 7)
            if as_of < due:
                pending_lines.append(line.line_key)
            else:
                state.exceptions.append(
                    ReconciliationException(
                        kind=ExceptionKind.UNRECEIVED,
                        line_keys=(line.line_key,),
                        explanation=(Explanation.of("PAYOUT_NOT_ARRIVED", amount=-line.amount, due=due.date()),),
                        difference=line.amount,
                    )
                )
            continue
        if line.kind is LineKind.REFUND or (line.source is not SourceKind.BANK and line.amount < 0):
            kind, code = ExceptionKind.REFUND_UNMATCHED, "REFUND_NOT_IN_COURTYARD"
        elif line.source is SourceKind.BANK:
            kind, code = ExceptionKind.BANK_UNMATCHED, "BANK_LINE_NOT_MATCHED"
        else:
            kind, code = ExceptionKind.CHANNEL_ONLY, "PAID_AT_CHANNEL_ONLY"
        state.exceptions.append(
            ReconciliationException(
                kind=kind,
                line_keys=(line.line_key,),
                explanation=(
                    Explanation.of(
                        code, amount=line.amount, order_no=line.order_no, transaction_id=line.transaction_id
                    ),
                ),
                difference=line.amount,
                suggested_payment_ids=suggestions.get(line.line_key, ()),
            )
        )
    for payment in state.payments:
        if payment.id not in state.used_payments:
            terms = state.terms_by_channel[payment.channel]
            due = payment.paid_at + dt.timedelta(days=terms.report_days)
            if as_of < due:
                pending_payments.append(payment.id)
            else:
                state.exceptions.append(
                    ReconciliationException(
                        kind=ExceptionKind.UNRECEIVED,
                        payment_ids=(payment.id,),
                        explanation=(
                            Explanation.of(
                                "NO_STATEMENT_LINE",
                                channel=payment.channel,
                                amount=payment.amount,
                                order_no=payment.order_no,
                                due=due.astimezone(state.zone).date(),
                            ),
                        ),
                        difference=-payment.amount,
                    )
                )
        for refund in payment.refunds:
            if refund.id in state.used_refunds:
                continue
            due = refund.refunded_at + dt.timedelta(days=state.terms_by_channel[payment.channel].report_days)
            if as_of < due:
                pending_refunds.append(refund.id)
            else:
                state.exceptions.append(
                    ReconciliationException(
                        kind=ExceptionKind.REFUND_UNMATCHED,
                        refund_ids=(refund.id,),
                        explanation=(
                            Explanation.of("REFUND_NOT_IN_STATEMENT", amount=refund.amount, refund_no=refund.refund_no),
                        ),
                        difference=refund.amount,
                        related_payment_ids=(payment.id,),
                    )
                )
    return pending_payments, pending_refunds, pending_lines


def _suggestions(state: _State) -> dict[str, tuple[int, ...]]:
    """For open bank credits: open payments of the same amount within three days, for the person deciding."""
    by_amount: dict[int, list[RecordedPayment]] = defaultdict(list)
    for payment in state.payments:
        if payment.id not in state.used_payments:
            by_amount[_fen(payment.amount)].append(payment)
    found: dict[str, tuple[int, ...]] = {}
    for line in state.lines:
        if line.line_key in state.used_lines or line.amount <= 0:
            continue
        near = [
            p.id
            for p in by_amount.get(_fen(line.amount), ())[:_RULE_SCAN_LIMIT]
            if abs((state.day(line.booked_at) - state.day(p.paid_at)).days) <= 3
        ][:5]
        if near:
            found[line.line_key] = tuple(near)
    return found
