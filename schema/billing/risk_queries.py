"""The overdue-risk score for the project's finance staff: the ranking of open bills, the scorecard in
force, and training it (thin calls into `billing.reports.risk_scoring`)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry import relay

from billing.reports import risk_scoring
from kernel.errors import BadInput
from schema.billing.common import FINANCE_ONLY, mutation_result, read_of_project
from schema.billing.risk_types import (
    BillRiskConnection,
    BillRiskType,
    RiskScorecardType,
)
from schema.context import Info
from schema.ids import decode_id
from schema.pagination import page_size
from schema.use_cases import run_for_caller

__all__ = ["RiskMutations", "RiskQueries"]

_PROJECT = strawberry.argument(description="The project.")
_NOTHING = relay.PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)

TrainRiskScorecardResult = mutation_result(RiskScorecardType, "TrainRiskScorecardResult")


@strawberry.type
class RiskQueries:
    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description=(
            "FINANCE, ADMIN: 预测逾期风险, the project's open bills, the likeliest to be paid more than 30 days late first, "
            "each with its probability and three reasons in words; empty for a project not yours."
        ),
    )
    async def overdue_risks(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, _PROJECT],
        first: Annotated[int | None, strawberry.argument(description="Page size (at most 100).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The cursor of the last bill of the previous page.")] = None,
    ) -> BillRiskConnection:
        size, sessions = page_size(first), info.context.session_factory
        try:
            page = await read_of_project(
                info,
                project_id,
                lambda principal, project: risk_scoring.read_bill_risks(
                    sessions, principal, project_id=project, limit=size, after=after
                ),
            )
        except BadInput as error:
            raise GraphQLError(error.message, extensions={"code": "BAD_USER_INPUT", "field": error.field}) from None
        if page is None:
            return BillRiskConnection(edges=[], page_info=_NOTHING, total_count=0)
        edges = [relay.Edge(node=BillRiskType.from_risk(item, label), cursor=cursor) for item, label, cursor in page.bills]
        page_info = relay.PageInfo(
            has_next_page=page.next_cursor is not None,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return BillRiskConnection(edges=edges, page_info=page_info, total_count=page.total)

    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: The overdue-risk scorecard in force and its validation (untrained before the first training); null for a project not yours.",
    )
    async def risk_scorecard(self, info: Info, project_id: Annotated[strawberry.ID, _PROJECT]) -> RiskScorecardType | None:
        sessions = info.context.session_factory
        trained = await read_of_project(
            info, project_id, lambda principal, project: risk_scoring.get_risk_scorecard(sessions, principal, project_id=project)
        )
        return RiskScorecardType.from_trained(trained) if trained is not None else None


@strawberry.type
class RiskMutations:
    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description=(
            "FINANCE, ADMIN: Train the project's overdue-risk scorecard on the bills whose outcome is known and validate it "
            "against the rule baseline on the latest quarter of them; it scores only if it beat the baseline there."
        ),
    )
    async def train_risk_scorecard(
        self, info: Info, project_id: Annotated[strawberry.ID, _PROJECT]
    ) -> TrainRiskScorecardResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: risk_scoring.train_risk_scorecard(
                info.context.session_factory,
                principal,
                project_id=decode_id(project_id, "Project", field="projectId"),
                now=info.context.now(),
            ),
            RiskScorecardType.from_trained,
        )
