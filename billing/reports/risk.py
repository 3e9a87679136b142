"""Overdue risk (预测逾期风险): how likely an open bill is to be paid more than 30 days late, from what was
known before its due date only, with the three reasons that weigh most, in words.

The features of a bill due on day D are read from the unit's earlier bills as they stood at the start of
D: a payment on or after D, a bill issued on or after D, lateness that had not shown by then, none of it
exists for the score. An earlier bill counts as *late* once it had stayed unpaid for more than 30 days
past its own due date before D; a bill due less than 31 days before D that is still unpaid is simply
unpaid (its lateness is not known yet).

Two scorers, both transparent:

- the rule baseline (`baseline_flag`): late in at least 2 of the unit's last 6 bills;
- the scorecard (`score` with a `RiskModel`): a weight per feature added up on the log-odds scale and
  turned into a probability; what each feature adds is a reason, and the three largest are named. Its
  weights are fitted by logistic regression (`billing.reports.risk_fit`).

`evaluate` measures either against what happened (AUC, top-decile lift, calibration by tenths), for the
time-split validation that decides whether the scorecard may replace the baseline.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from kernel.vocabulary import Locale

__all__ = [
    "FEATURE_NAMES",
    "LATE_AFTER_DAYS",
    "BaselineRates",
    "Evaluation",
    "PastBill",
    "Reason",
    "RiskFeatures",
    "RiskModel",
    "RiskScore",
    "ScoredBill",
    "baseline_flag",
    "baseline_score",
    "evaluate",
    "feature_vector",
    "risk_features",
    "score",
]

LATE_AFTER_DAYS = 30
"""A bill paid (or still unpaid) more than this many days after its due date is late."""
_RECENT_BILLS = 6
_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class PastBill:
    """One of the unit's bills and its payment history: when it was issued and due, what it asked, and
    when it was paid in full (None: not yet)."""

    issued_on: dt.date
    due_date: dt.date
    amount: Decimal
    paid_in_full_on: dt.date | None
    paid_offline: bool = False


@dataclass(frozen=True, slots=True)
class RiskFeatures:
    """What the score reads, all as known before the bill's due date."""

    late_of_last_six: int
    bills_seen: int
    unpaid_count: int
    unpaid_amount: Decimal
    amount_ratio: Decimal | None
    vacant: bool
    tenure_days: int | None
    offline_share: Decimal | None


def risk_features(
    history: Iterable[PastBill],
    *,
    due_date: dt.date,
    amount: Decimal,
    vacant: bool,
    occupied_since: dt.date | None,
) -> RiskFeatures:
    """The features of a bill of `amount` due on `due_date`, from the unit's `history` (other bills, in
    any order: what was not known before `due_date` is ignored here)."""
    known = sorted((bill for bill in history if bill.issued_on < due_date), key=lambda bill: bill.due_date)

    def paid_before(bill: PastBill, day: dt.date) -> bool:
        return bill.paid_in_full_on is not None and bill.paid_in_full_on < day

    def late(bill: PastBill) -> bool:
        deadline = bill.due_date + dt.timedelta(days=LATE_AFTER_DAYS + 1)
        return deadline <= due_date and not paid_before(bill, deadline)

    past_due = [bill for bill in known if bill.due_date < due_date]
    unpaid = [bill for bill in past_due if not paid_before(bill, due_date)]
    paid = [bill for bill in known if paid_before(bill, due_date)]
    usual = median(bill.amount for bill in known) if known else None
    return RiskFeatures(
        late_of_last_six=sum(1 for bill in past_due[-_RECENT_BILLS:] if late(bill)),
        bills_seen=len(past_due),
        unpaid_count=len(unpaid),
        unpaid_amount=sum((bill.amount for bill in unpaid), _ZERO),
        amount_ratio=(amount / usual).quantize(Decimal("0.01")) if usual else None,
        vacant=vacant,
        tenure_days=(due_date - occupied_since).days if occupied_since is not None else None,
        offline_share=(Decimal(sum(bill.paid_offline for bill in paid)) / len(paid)).quantize(Decimal("0.01")) if paid else None,
    )


def baseline_flag(features: RiskFeatures) -> bool:
    """The rule baseline: late in at least 2 of the last 6 bills."""
    return features.late_of_last_six >= 2


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason a score is high: its key, its weight on the log-odds scale, and the figures it names."""

    key: str
    points: float
    figures: Mapping[str, str]

    def text(self, locale: Locale = Locale.ZH_CN) -> str:
        return _REASONS[locale][self.key].format(**self.figures)


@dataclass(frozen=True, slots=True)
class RiskScore:
    """How likely the bill is to be paid more than 30 days late, the reasons (weightiest first), whether
    the rule baseline flags it, and which scorer gave the probability."""

    probability: float
    reasons: tuple[Reason, ...]
    baseline: bool
    by_model: bool = True

    def top_reasons(self, count: int = 3) -> tuple[Reason, ...]:
        return self.reasons[:count]


_REASONS: Mapping[Locale, Mapping[str, str]] = {
    Locale.ZH_CN: {
        "LATE_HISTORY": "近 {bills} 期有 {late} 期逾期超过 30 天",
        "UNPAID": "另有 {count} 张账单未缴，共 ¥{amount}",
        "AMOUNT_HIGH": "本期金额是以往的 {ratio} 倍",
        "VACANT": "房屋空置",
        "NEW_OCCUPANT": "入住不满半年（{days} 天）",
        "PAYS_OFFLINE": "以往 {share}% 在柜台或转账缴费",
        "NO_HISTORY": "没有以往缴费记录",
    },
    Locale.EN: {
        "LATE_HISTORY": "late by over 30 days in {late} of the last {bills} bills",
        "UNPAID": "{count} other bills unpaid, ¥{amount} in all",
        "AMOUNT_HIGH": "this bill is {ratio} times the usual",
        "VACANT": "the unit is vacant",
        "NEW_OCCUPANT": "occupied for under half a year ({days} days)",
        "PAYS_OFFLINE": "{share}% of past bills paid at the desk or by transfer",
        "NO_HISTORY": "no payment history yet",
    },
}

FEATURE_NAMES = (
    "late_of_last_six",
    "late_twice",
    "unpaid_count",
    "unpaid_amount",
    "amount_high",
    "vacant",
    "new_occupant",
    "pays_offline",
    "no_history",
)
"""The model's inputs, in order: each is 0 when it says nothing against the bill."""
_REASON_OF_FEATURE = {
    "late_of_last_six": "LATE_HISTORY",
    "late_twice": "LATE_HISTORY",
    "unpaid_count": "UNPAID",
    "unpaid_amount": "UNPAID",
    "amount_high": "AMOUNT_HIGH",
    "vacant": "VACANT",
    "new_occupant": "NEW_OCCUPANT",
    "pays_offline": "PAYS_OFFLINE",
    "no_history": "NO_HISTORY",
}
_UNPAID_COUNT_CAP = 4
_AMOUNT_HIGH_RATIO = Decimal("1.5")
_NEW_OCCUPANT_DAYS = 183
_OFFLINE_HABIT = Decimal("0.5")


def feature_vector(features: RiskFeatures) -> tuple[float, ...]:
    """The features as the model reads them, in the order of `FEATURE_NAMES`: counts capped, the unpaid
    amount on a log scale (thousands of yuan), habits as yes/no, and the rule baseline's own flag (so the
    scorecard can weigh the step the rule draws as well as the count)."""
    return (
        float(features.late_of_last_six),
        float(baseline_flag(features)),
        float(min(features.unpaid_count, _UNPAID_COUNT_CAP)),
        math.log1p(float(features.unpaid_amount) / 1000),
        float(features.amount_ratio is not None and features.amount_ratio >= _AMOUNT_HIGH_RATIO),
        float(features.vacant),
        float(features.tenure_days is not None and features.tenure_days < _NEW_OCCUPANT_DAYS),
        float(features.offline_share is not None and features.offline_share > _OFFLINE_HABIT),
        float(features.bills_seen == 0),
    )


@dataclass(frozen=True, slots=True)
class RiskModel:
    """A scorecard: an intercept and one weight per feature (`FEATURE_NAMES`) on the log-odds scale, fitted
    (`billing.reports.risk_fit`) or written by hand. Plain numbers, so it is stored as JSON and read
    back exactly."""

    intercept: float
    weights: Mapping[str, float]

    def as_json(self) -> dict[str, object]:
        return {"intercept": self.intercept, "weights": dict(self.weights)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RiskModel:
        weights = data["weights"]
        assert isinstance(weights, Mapping)
        return cls(float(data["intercept"]), {name: float(weights[name]) for name in FEATURE_NAMES})  # type: ignore[arg-type]


def _figures(key: str, features: RiskFeatures) -> Mapping[str, str]:
    if key == "LATE_HISTORY":
        return {"late": str(features.late_of_last_six), "bills": str(min(features.bills_seen, _RECENT_BILLS))}
    if key == "UNPAID":
        return {"count": str(features.unpaid_count), "amount": f"{features.unpaid_amount:,}"}
    if key == "AMOUNT_HIGH":
        return {"ratio": str(features.amount_ratio)}
    if key == "NEW_OCCUPANT":
        return {"days": str(features.tenure_days)}
    if key == "PAYS_OFFLINE":
        return {"share": str(int((features.offline_share or _ZERO) * 100))}
    return {}


def score(features: RiskFeatures, model: RiskModel) -> RiskScore:
    """The model's probability; each feature that pushes it up is a reason, weighing what it adds to the
    log-odds (the two lateness features count as one reason, and so do the two unpaid ones), the
    heaviest first."""
    vector = feature_vector(features)
    points: dict[str, float] = {}
    log_odds = model.intercept
    for name, value in zip(FEATURE_NAMES, vector, strict=True):
        contribution = model.weights[name] * value
        log_odds += contribution
        if value:
            key = _REASON_OF_FEATURE[name]
            points[key] = points.get(key, 0.0) + contribution
    reasons = sorted(
        (Reason(key, weight, _figures(key, features)) for key, weight in points.items() if weight > 0),
        key=lambda reason: -reason.points,
    )
    return RiskScore(1 / (1 + math.exp(-log_odds)), tuple(reasons), baseline_flag(features))


@dataclass(frozen=True, slots=True)
class BaselineRates:
    """How often flagged and unflagged bills turned out late where the baseline was measured: what the
    rule says as a probability."""

    flagged: float
    unflagged: float


def baseline_score(features: RiskFeatures, rates: BaselineRates | None) -> RiskScore:
    """The rule baseline as a score: the late share of its group (1 or 0 before any was measured); its
    reasons are the facts present, the rule's own first."""
    flagged = baseline_flag(features)
    probability = float(flagged) if rates is None else rates.flagged if flagged else rates.unflagged
    present = {
        _REASON_OF_FEATURE[name]
        for name, value in zip(FEATURE_NAMES, feature_vector(features), strict=True)
        if value
    }
    order = ["LATE_HISTORY", "UNPAID", "AMOUNT_HIGH", "VACANT", "NEW_OCCUPANT", "PAYS_OFFLINE", "NO_HISTORY"]
    reasons = tuple(Reason(key, 0.0, _figures(key, features)) for key in order if key in present)
    return RiskScore(probability, reasons, flagged, by_model=False)


@dataclass(frozen=True, slots=True)
class ScoredBill:
    """A prediction and what happened: the bill was paid more than 30 days late (or never)."""

    probability: float
    late: bool


@dataclass(frozen=True)
class Evaluation:
    """AUC (0.5: no better than chance), lift of the top tenth (its late share over everyone's), and
    calibration: per tenth of predicted probability, (mean predicted, share late, bills)."""

    auc: float
    top_decile_lift: float
    calibration: tuple[tuple[float, float, int], ...]


def evaluate(scored: Sequence[ScoredBill]) -> Evaluation:
    """Measure predictions against outcomes (a flag scores 1.0 or 0.0)."""
    if not scored:
        raise ValueError("nothing to evaluate")
    late = [bill.probability for bill in scored if bill.late]
    on_time = [bill.probability for bill in scored if not bill.late]
    if not late or not on_time:
        raise ValueError("AUC needs late and on-time bills both")
    ranked = sorted(scored, key=lambda bill: bill.probability)
    ranks: dict[float, float] = {}
    position = 0
    while position < len(ranked):
        tied = position
        while tied < len(ranked) and ranked[tied].probability == ranked[position].probability:
            tied += 1
        ranks[ranked[position].probability] = (position + 1 + tied) / 2
        position = tied
    rank_sum = sum(ranks[probability] for probability in late)
    auc = (rank_sum - len(late) * (len(late) + 1) / 2) / (len(late) * len(on_time))
    top = sorted(scored, key=lambda bill: -bill.probability)[: max(1, len(scored) // 10)]
    overall = len(late) / len(scored)
    lift = (sum(bill.late for bill in top) / len(top)) / overall
    bins: dict[int, list[ScoredBill]] = {}
    for bill in scored:
        bins.setdefault(min(int(bill.probability * 10), 9), []).append(bill)
    calibration = tuple(
        (sum(b.probability for b in members) / len(members), sum(b.late for b in members) / len(members), len(members))
        for _, members in sorted(bins.items())
    )
    return Evaluation(auc, lift, calibration)
