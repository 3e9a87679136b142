"""The overdue-risk score: features read only from what was known before the due date (a property test
proves that nothing later changes them), its reasons in words, and the measures that judge it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.reports.risk import (
    FEATURE_NAMES,
    BaselineRates,
    PastBill,
    RiskModel,
    ScoredBill,
    baseline_flag,
    baseline_score,
    evaluate,
    feature_vector,
    risk_features,
    score,
)
from kernel.vocabulary import Locale

DUE = dt.date(2026, 11, 16)
# Points per feature written by hand: every late bill 0.9, every unpaid one 0.6, a high amount 0.7, …
HAND_MODEL = RiskModel(
    -2.6,
    {"late_of_last_six": 0.9, "late_twice": 0.0, "unpaid_count": 0.6, "unpaid_amount": 0.0, "amount_high": 0.7, "vacant": 0.5,
     "new_occupant": 0.4, "pays_offline": -0.3, "no_history": 0.3},
)


def d(text: str) -> Decimal:
    return Decimal(text)


def bill(month: int, amount: str, paid: str | None, *, offline: bool = False, year: int = 2026) -> PastBill:
    issued = dt.date(year, month, 1)
    return PastBill(issued, issued + dt.timedelta(days=15), d(amount), dt.date.fromisoformat(paid) if paid else None, offline)


HISTORY = [
    bill(4, "300.00", "2026-04-10"),  # on time
    bill(5, "300.00", "2026-07-01", offline=True),  # due 05-16, paid 46 days late
    bill(6, "310.00", "2026-06-20"),  # 4 days late: not late by the 30-day rule
    bill(7, "290.00", "2026-09-30", offline=True),  # due 07-16, paid 76 days late
    bill(8, "300.00", None),  # due 08-16, unpaid: late since 09-16
    bill(10, "305.00", None),  # due 10-16, unpaid, only 31 days ago: late as of 11-16
    bill(11, "300.00", None),  # due 11-16 itself: not past due
]


def test_features_and_reasons_of_a_unit_that_pays_late() -> None:
    features = risk_features(HISTORY, due_date=DUE, amount=d("620.00"), vacant=False, occupied_since=dt.date(2026, 7, 1))

    assert features.late_of_last_six == 4  # May, July, August, October of the six bills past due
    assert (features.bills_seen, features.unpaid_count, features.unpaid_amount) == (6, 2, d("605.00"))
    assert features.amount_ratio == d("2.07")  # 620 against the median 300
    assert features.tenure_days == 138
    assert features.offline_share == d("0.50")  # 2 of the 4 bills paid before 11-16
    assert baseline_flag(features)
    assert feature_vector(features) == (4.0, 1.0, 2.0, pytest.approx(0.4731, abs=1e-4), 1.0, 0.0, 1.0, 0.0, 0.0)
    risk = score(features, HAND_MODEL)
    assert [reason.key for reason in risk.top_reasons()] == ["LATE_HISTORY", "UNPAID", "AMOUNT_HIGH"]
    assert [reason.text() for reason in risk.top_reasons()] == [
        "近 6 期有 4 期逾期超过 30 天", "另有 2 张账单未缴，共 ¥605.00", "本期金额是以往的 2.07 倍"
    ]
    assert risk.top_reasons()[0].text(Locale.EN) == "late by over 30 days in 4 of the last 6 bills"
    assert risk.probability == pytest.approx(1 / (1 + 2.718281828459045 ** -(-2.6 + 3.6 + 1.2 + 0.7 + 0.4)))
    assert [reason.key for reason in risk.reasons] == ["LATE_HISTORY", "UNPAID", "AMOUNT_HIGH", "NEW_OCCUPANT"]


def test_a_feature_that_lowers_the_odds_is_no_reason_and_the_two_unpaid_features_are_one() -> None:
    history = [bill(month, "300.00", f"2026-{month:02d}-05", offline=True) for month in range(4, 9)] + [bill(9, "300.00", None)]
    model = RiskModel(-2.0, {**HAND_MODEL.weights, "unpaid_count": 0.25, "unpaid_amount": 0.5})
    features = risk_features(history, due_date=DUE, amount=d("300.00"), vacant=True, occupied_since=None)

    risk = score(features, model)

    assert features.offline_share == d("1.00") and features.unpaid_amount == d("300.00")
    assert [(reason.key, round(reason.points, 4)) for reason in risk.reasons] == [
        ("LATE_HISTORY", 0.9), ("VACANT", 0.5), ("UNPAID", round(0.25 + 0.5 * 0.262364, 4)),
    ]  # September, unpaid, is late by 11-16: one late bill, and paying at the desk lowers the odds
    assert risk.reasons[2].text() == "另有 1 张账单未缴，共 ¥300.00"
    assert risk.probability == pytest.approx(1 / (1 + 2.718281828459045 ** -(-2.0 + 0.9 + 0.25 + 0.5 * 0.262364 + 0.5 - 0.3)), abs=1e-6)


def test_the_baseline_scores_the_late_share_of_its_group_and_names_the_facts_present() -> None:
    features = risk_features(HISTORY, due_date=DUE, amount=d("620.00"), vacant=False, occupied_since=dt.date(2026, 7, 1))
    quiet = risk_features([], due_date=DUE, amount=d("300.00"), vacant=False, occupied_since=None)
    rates = BaselineRates(flagged=0.62, unflagged=0.04)

    flagged, unflagged = baseline_score(features, rates), baseline_score(quiet, rates)

    assert (flagged.probability, flagged.baseline, flagged.by_model) == (0.62, True, False)
    assert [reason.key for reason in flagged.top_reasons()] == ["LATE_HISTORY", "UNPAID", "AMOUNT_HIGH"]
    assert (unflagged.probability, [reason.key for reason in unflagged.reasons]) == (0.04, ["NO_HISTORY"])
    assert (baseline_score(features, None).probability, baseline_score(quiet, None).probability) == (1.0, 0.0)


def test_a_model_is_stored_as_json_and_read_back_exactly() -> None:
    assert RiskModel.from_json(HAND_MODEL.as_json()) == HAND_MODEL
    assert list(HAND_MODEL.as_json()["weights"]) == list(FEATURE_NAMES)  # type: ignore[call-overload]


def test_a_unit_that_always_pays_on_time_scores_low_and_is_not_flagged() -> None:
    history = [bill(month, "300.00", f"2026-{month:02d}-05") for month in range(4, 11)]

    features = risk_features(history, due_date=DUE, amount=d("300.00"), vacant=False, occupied_since=dt.date(2020, 1, 1))
    risk = score(features, HAND_MODEL)

    assert (features.late_of_last_six, features.unpaid_count, baseline_flag(features)) == (0, 0, False)
    assert risk.reasons == ()
    assert risk.probability < 0.1


@st.composite
def histories(draw: st.DrawFn) -> list[PastBill]:
    bills = []
    for month in range(1, 24):
        issued = dt.date(2025, 1, 1) + dt.timedelta(days=30 * month)
        due = issued + dt.timedelta(days=15)
        paid = draw(st.one_of(st.none(), st.integers(-10, 120).map(lambda days, due=due: due + dt.timedelta(days=days))))
        bills.append(PastBill(issued, due, Decimal(draw(st.integers(1, 100_000))).scaleb(-2), paid, draw(st.booleans())))
    return bills


@given(histories(), st.integers(60, 690), st.data())
def test_nothing_on_or_after_the_due_date_changes_the_features(history: list[PastBill], offset: int, data: st.DataObject) -> None:
    due = dt.date(2025, 1, 1) + dt.timedelta(days=offset)

    def later(bill: PastBill) -> PastBill:
        """The same bill with whatever happened on or after the due date rewritten."""
        if bill.issued_on >= due:
            return dataclasses.replace(bill, amount=bill.amount * 7, paid_in_full_on=None)
        if bill.paid_in_full_on is not None and bill.paid_in_full_on < due:
            return bill
        paid_later = data.draw(st.one_of(st.none(), st.integers(0, 200).map(lambda days: due + dt.timedelta(days=days))))
        return dataclasses.replace(bill, paid_in_full_on=paid_later)

    arguments = {"due_date": due, "amount": d("300.00"), "vacant": False, "occupied_since": dt.date(2024, 6, 1)}
    assert risk_features(history, **arguments) == risk_features([later(bill) for bill in history], **arguments)


def test_evaluation_measures_ranking_lift_and_calibration() -> None:
    scored = [
        ScoredBill(0.05, False), ScoredBill(0.10, False), ScoredBill(0.10, True), ScoredBill(0.20, False),
        ScoredBill(0.30, False), ScoredBill(0.45, False), ScoredBill(0.55, True), ScoredBill(0.60, False),
        ScoredBill(0.85, True), ScoredBill(0.95, True),
    ]

    measured = evaluate(scored)

    # late above on-time in 18 of the 24 pairs (0.10: 1, 0.55: 5, 0.85 and 0.95: 6 each), the tie at 0.10 counts half
    assert measured.auc == pytest.approx(18.5 / 24)
    assert measured.top_decile_lift == pytest.approx(1 / 0.4)  # the top bill is late; 4 of 10 are
    assert measured.calibration[:2] == ((0.05, 0.0, 1), (pytest.approx(0.10), 0.5, 2))  # tenths [0, 0.1) and [0.1, 0.2)
    assert sum(count for _, _, count in measured.calibration) == 10
    with pytest.raises(ValueError, match="late and on-time"):
        evaluate([ScoredBill(0.5, True)])
