"""The overdue-risk scorecard of each project as trained (`billing.reports.risk_scoring`): one row per
training, the newest in force. The weights and the validation that judged them are plain numbers in JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UtcDateTime

__all__ = ["OverdueRiskModel"]


class OverdueRiskModel(Base):
    """A training of the project's scorecard: the fitted weights (null: too few labelled bills to fit),
    the baseline's late shares, the time-split validation, and whether the scorecard beat the baseline
    there (`enabled`; otherwise the rule baseline scores)."""

    __tablename__ = "overdue_risk_model"
    __table_args__ = (Index("ix_overdue_risk_model_project_id_id", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    trained_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    trained_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    labelled_bills: Mapped[int]
    enabled: Mapped[bool]
    model: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    baseline_rates: Mapped[dict[str, Any]] = mapped_column(JSON)
    validation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
