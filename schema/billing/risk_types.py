"""GraphQL types of the overdue-risk score (预测逾期风险): an open bill's risk with its reasons in words, the
ranking, and the scorecard in force with its validation against the rule baseline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import relay

from billing.reports.risk import Evaluation, Reason
from billing.reports.risk_scoring import BillRisk, TrainedScorecard
from kernel.vocabulary import Locale
from schema.billing.bill_types import BillType
from schema.billing.common import unit_of
from schema.context import Info
from schema.scalars import LocaleEnum
from schema.units.types import UnitType

__all__ = [
    "BillRiskConnection",
    "BillRiskType",
    "RiskEvaluationType",
    "RiskReasonType",
    "RiskReasonWeightType",
    "RiskScorecardType",
]

_LANGUAGE = strawberry.argument(description="The language of the text: ZH_CN (the default) or EN.")


@strawberry.type(name="RiskReason", description="One reason a bill's risk is high, weightiest first.")
class RiskReasonType:
    code: str = strawberry.field(
        description="LATE_HISTORY, UNPAID, AMOUNT_HIGH, VACANT, NEW_OCCUPANT, PAYS_OFFLINE or NO_HISTORY."
    )
    weight: float = strawberry.field(description="What it adds to the log-odds (0 when the rule baseline scores).")
    reason: strawberry.Private[Reason]

    @strawberry.field(description="The reason in words, with its figures.")
    def text(self, language: Annotated[LocaleEnum, _LANGUAGE] = Locale.ZH_CN) -> str:  # type: ignore[valid-type]
        return self.reason.text(Locale(language))

    @classmethod
    def from_reason(cls, reason: Reason) -> RiskReasonType:
        return cls(code=reason.key, weight=round(reason.points, 4), reason=reason)


@strawberry.type(
    name="BillRisk",
    description="An open bill and how likely it is to be paid more than 30 days late, from what was known before its due date.",
)
class BillRiskType:
    probability: float = strawberry.field(description="The probability, 0 to 1.")
    by_model: bool = strawberry.field(
        description="True: the fitted scorecard gave it; false: the rule baseline (the scorecard did not beat it, or none is trained)."
    )
    flagged_by_baseline: bool = strawberry.field(description="The rule baseline's flag: late in at least 2 of the last 6 bills.")
    period: str = strawberry.field(description="The bill's period, YYYY-MM.")
    due_date: dt.date = strawberry.field(description="The bill's due date.")
    amount_due: Decimal = strawberry.field(description="What the bill still owes (yuan).")
    unit_label: str = strawberry.field(description="Building and number (1栋 101).")
    top_reasons: list[RiskReasonType] = strawberry.field(description="The three weightiest reasons (fewer when there are fewer).")
    bill_id: strawberry.Private[int]
    unit_id: strawberry.Private[int]

    @classmethod
    def from_risk(cls, item: BillRisk, unit_label: str) -> BillRiskType:
        return cls(
            probability=round(item.risk.probability, 4),
            by_model=item.risk.by_model,
            flagged_by_baseline=item.risk.baseline,
            period=item.period,
            due_date=item.due_date,
            amount_due=item.amount_due,
            unit_label=unit_label,
            top_reasons=[RiskReasonType.from_reason(reason) for reason in item.risk.top_reasons()],
            bill_id=item.bill_id,
            unit_id=item.unit_id,
        )

    @strawberry.field(description="The bill.")
    async def bill(self, info: Info) -> BillType:
        return BillType.from_row(await info.context.loaders.billing.bill.load(self.bill_id))

    @strawberry.field(description="The unit.")
    async def unit(self, info: Info) -> UnitType:
        return await unit_of(info, self.unit_id)


@strawberry.type(name="BillRiskConnection", description="A page of the project's open bills, riskiest first.")
class BillRiskConnection(relay.Connection[BillRiskType]):
    total_count: int = strawberry.field(description="Open bills over every page.")


@strawberry.type(name="RiskCalibrationBin", description="Bills whose predicted probability fell in one tenth.")
class RiskCalibrationBinType:
    mean_predicted: float = strawberry.field(description="Their mean predicted probability.")
    share_late: float = strawberry.field(description="The share of them that were paid more than 30 days late.")
    bills: int = strawberry.field(description="How many there were.")


@strawberry.type(name="RiskEvaluation", description="How a scorer did on the bills of the validation.")
class RiskEvaluationType:
    auc: float = strawberry.field(description="Area under the ROC curve (0.5: no better than chance).")
    top_decile_lift: float = strawberry.field(description="The late share of its riskiest tenth over everyone's.")
    calibration: list[RiskCalibrationBinType] = strawberry.field(description="Per tenth of predicted probability.")

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation) -> RiskEvaluationType:
        return cls(
            auc=round(evaluation.auc, 4),
            top_decile_lift=round(evaluation.top_decile_lift, 4),
            calibration=[
                RiskCalibrationBinType(mean_predicted=round(mean, 4), share_late=round(share, 4), bills=count)
                for mean, share, count in evaluation.calibration
            ],
        )


@strawberry.type(name="RiskFeatureWeight", description="One feature of the scorecard and its fitted weight on the log-odds scale.")
class RiskReasonWeightType:
    feature: str = strawberry.field(description="The feature (late_of_last_six, unpaid_count, …).")
    weight: float = strawberry.field(description="Its weight; positive raises the risk.")


@strawberry.type(
    name="RiskScorecard",
    description="The project's overdue-risk scorecard as last trained, and its time-split validation against the rule baseline.",
)
class RiskScorecardType:
    trained_at: dt.datetime | None = strawberry.field(description="When it was trained (UTC); null: never, the rule baseline scores.")
    labelled_bills: int = strawberry.field(description="Bills whose outcome was known, all of which it was fitted on.")
    enabled: bool = strawberry.field(description="Whether it scores: only when it beat the baseline on the later bills.")
    baseline_late_share_flagged: float | None = strawberry.field(
        description="How often bills the rule flags were late (null before the first training: a flag then scores 1)."
    )
    baseline_late_share_unflagged: float | None = strawberry.field(description="How often the others were (null: they score 0).")
    split_on: dt.date | None = strawberry.field(
        description="Bills due before this day trained, the rest judged; null: too few bills to validate."
    )
    trained_on: int | None = strawberry.field(description="Bills on the training side.")
    validated_on: int | None = strawberry.field(description="Bills on the judging side.")
    baseline: RiskEvaluationType | None = strawberry.field(description="The rule baseline on the judging side.")
    model: RiskEvaluationType | None = strawberry.field(description="The fitted scorecard on the judging side.")
    weights: list[RiskReasonWeightType] = strawberry.field(description="The fitted weight of every feature (none when not fitted).")

    @classmethod
    def from_trained(cls, trained: TrainedScorecard) -> RiskScorecardType:
        validation = trained.validation
        return cls(
            trained_at=trained.trained_at,
            labelled_bills=trained.labelled_bills,
            enabled=trained.enabled,
            baseline_late_share_flagged=round(trained.rates.flagged, 4) if trained.rates else None,
            baseline_late_share_unflagged=round(trained.rates.unflagged, 4) if trained.rates else None,
            split_on=validation.split_on if validation else None,
            trained_on=validation.trained_on if validation else None,
            validated_on=validation.validated_on if validation else None,
            baseline=RiskEvaluationType.from_evaluation(validation.baseline) if validation else None,
            model=RiskEvaluationType.from_evaluation(validation.model) if validation else None,
            weights=[
                RiskReasonWeightType(feature=name, weight=weight) for name, weight in (trained.model.weights.items() if trained.model else ())
            ],
        )
