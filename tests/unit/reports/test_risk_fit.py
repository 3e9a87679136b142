"""The scorecard is fitted on earlier bills and judged on later ones against the rule baseline: enabled
only where it ranks better there, whatever it did on the bills it learned from."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from billing.reports.risk import RiskFeatures, baseline_flag
from billing.reports.risk_fit import LabelledBill, baseline_rates, fit_model, validate

START = dt.date(2024, 1, 16)


def features(*, late: int = 0, vacant: bool = False, new: bool = False) -> RiskFeatures:
    return RiskFeatures(
        late_of_last_six=late,
        bills_seen=6,
        unpaid_count=0,
        unpaid_amount=Decimal("0.00"),
        amount_ratio=Decimal("1.00"),
        vacant=vacant,
        tenure_days=90 if new else 2000,
        offline_share=Decimal("0.10"),
    )


def bills(rng: random.Random, months: range, late_chance) -> list[LabelledBill]:  # type: ignore[no-untyped-def]
    """200 bills a month with random habits; `late_chance(features, month)` decides what happened."""
    made = []
    for month in months:
        due = START + dt.timedelta(days=30 * month)
        for _ in range(200):
            drawn = features(late=rng.choice([0, 0, 0, 0, 1, 2, 3]), vacant=rng.random() < 0.2, new=rng.random() < 0.2)
            made.append(LabelledBill(due, drawn, rng.random() < late_chance(drawn, month)))
    return made


def test_a_model_that_sees_what_the_rule_cannot_is_enabled_and_fitted_with_the_signs_of_the_habits() -> None:
    def chance(drawn: RiskFeatures, _: int) -> float:
        return 0.05 + 0.1 * drawn.late_of_last_six + 0.35 * drawn.vacant + 0.3 * (drawn.tenure_days == 90)

    examples = bills(random.Random(7), range(12), chance)

    validation = validate(examples)

    assert validation is not None and validation.enabled
    assert validation.split_on == START + dt.timedelta(days=30 * 9)  # the last quarter judges
    assert (validation.trained_on, validation.validated_on) == (1800, 600)
    assert validation.model.auc > validation.baseline.auc + 0.05
    assert validation.model.top_decile_lift >= validation.baseline.top_decile_lift
    model = fit_model(examples)
    assert model.weights["vacant"] > 0.5 and model.weights["new_occupant"] > 0.5 and model.weights["late_of_last_six"] > 0.3


def test_a_model_that_learned_a_habit_gone_by_the_later_bills_stays_disabled() -> None:
    def chance(drawn: RiskFeatures, month: int) -> float:
        # until month 9 vacant units paid late and history meant little; from then on only the history counts
        if month < 9:
            return 0.8 if drawn.vacant else 0.1
        return 0.9 if baseline_flag(drawn) else 0.05

    validation = validate(bills(random.Random(11), range(12), chance))

    assert validation is not None and not validation.enabled
    assert validation.baseline.auc > validation.model.auc


def test_the_baseline_rates_are_the_late_shares_of_its_two_groups_and_too_few_bills_fit_nothing() -> None:
    due = START
    examples = [
        LabelledBill(due, features(late=2), True), LabelledBill(due, features(late=3), False),
        LabelledBill(due, features(late=1), False), LabelledBill(due, features(), False),
        LabelledBill(due, features(), False), LabelledBill(due, features(), True),
    ]

    rates = baseline_rates(examples)

    assert (rates.flagged, rates.unflagged) == (0.5, 0.25)
    assert validate(examples) is None
    with pytest.raises(ValueError, match="late and on-time"):
        fit_model([LabelledBill(due, features(), False)] * 3)
