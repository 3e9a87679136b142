"""Fitting the overdue-risk scorecard and deciding whether it may replace the rule baseline.

`validate` splits the labelled bills by time: the scorecard is fitted (scikit-learn's logistic
regression) and the baseline's rates are measured on the bills due before the split day, and both are
judged on the bills due from that day on, which neither has seen. The scorecard is enabled only if it
ranks better (higher AUC) without a worse top tenth (lift); it is then fitted again on every labelled bill.

scikit-learn is imported when a fit is asked for, not with this module: scoring reads the weights only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from billing.reports.risk import (
    FEATURE_NAMES,
    BaselineRates,
    Evaluation,
    RiskFeatures,
    RiskModel,
    ScoredBill,
    baseline_flag,
    baseline_score,
    evaluate,
    feature_vector,
    score,
)

__all__ = ["MIN_EXAMPLES", "LabelledBill", "Validation", "baseline_rates", "fit_model", "validate"]

MIN_EXAMPLES = 50
"""Fewer labelled bills on either side of the split, or no late one among them, and nothing is fitted."""
_VALIDATION_SHARE = 0.25
"""The latest quarter of the labelled bills (by due date) judges; the earlier three quarters train."""


@dataclass(frozen=True, slots=True)
class LabelledBill:
    """A bill whose outcome is known: its features before its due date, and whether it was paid more than
    30 days late (or not at all)."""

    due_date: dt.date
    features: RiskFeatures
    late: bool


@dataclass(frozen=True)
class Validation:
    """The time-split validation: where it split, how many bills each side had, both scorers' measures on
    the later side, and the verdict."""

    split_on: dt.date
    trained_on: int
    validated_on: int
    baseline: Evaluation
    model: Evaluation
    enabled: bool


def fit_model(examples: Sequence[LabelledBill]) -> RiskModel:
    """Logistic regression on the feature vectors (L2, C = 1: the weights stay modest where data is thin)."""
    from sklearn.linear_model import LogisticRegression

    labels = [example.late for example in examples]
    if len(set(labels)) < 2:
        raise ValueError("fitting needs late and on-time bills both")
    regression = LogisticRegression(C=1.0, max_iter=1000)
    regression.fit([feature_vector(example.features) for example in examples], labels)
    weights = {name: round(float(weight), 6) for name, weight in zip(FEATURE_NAMES, regression.coef_[0], strict=True)}
    return RiskModel(round(float(regression.intercept_[0]), 6), weights)


def baseline_rates(examples: Sequence[LabelledBill]) -> BaselineRates:
    """The late share of the bills the rule flags and of those it does not."""
    flagged = [example.late for example in examples if baseline_flag(example.features)]
    unflagged = [example.late for example in examples if not baseline_flag(example.features)]
    return BaselineRates(
        sum(flagged) / len(flagged) if flagged else 1.0, sum(unflagged) / len(unflagged) if unflagged else 0.0
    )


def validate(examples: Sequence[LabelledBill]) -> Validation | None:
    """Split by due date, fit and measure on the earlier side, judge on the later; None when either side
    is too small or lacks a late or an on-time bill."""
    ordered = sorted(examples, key=lambda example: example.due_date)
    if len(ordered) < 2 * MIN_EXAMPLES:
        return None
    split_on = ordered[int(len(ordered) * (1 - _VALIDATION_SHARE))].due_date
    training = [example for example in ordered if example.due_date < split_on]
    judging = [example for example in ordered if example.due_date >= split_on]
    if min(len(training), len(judging)) < MIN_EXAMPLES:
        return None
    if not all(any(e.late for e in side) and not all(e.late for e in side) for side in (training, judging)):
        return None
    model, rates = fit_model(training), baseline_rates(training)
    on_baseline = evaluate(
        [ScoredBill(baseline_score(example.features, rates).probability, example.late) for example in judging]
    )
    on_model = evaluate([ScoredBill(score(example.features, model).probability, example.late) for example in judging])
    enabled = on_model.auc > on_baseline.auc and on_model.top_decile_lift >= on_baseline.top_decile_lift
    return Validation(split_on, len(training), len(judging), on_baseline, on_model, enabled)
