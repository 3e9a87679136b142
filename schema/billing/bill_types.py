"""GraphQL types of bills: the bill with its lines, and the adjustments that correct it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import strawberry
from strawberry import relay

from billing import balance, texts
from billing import model as engine
from billing.allocation import late_fee_now, late_fee_now_explained
from billing.bill_details import ProjectTerms, read_bill_details
from billing.policy import may_manage_charges
from billing.rules import LateFeePolicies
from db.models import Bill, Project
from kernel.vocabulary import BillLineKind, Locale
from schema.billing.common import nodes_of_unit_billing
from schema.billing.enums import AdjustmentKindEnum, BillLineKindEnum, BillStatusEnum
from schema.billing.run_types import BillRunType
from schema.batching import answer, prime_joined, read_into, read_value
from schema.context import Info
from schema.units.types import BuildingType, PartyType, UnitType

if TYPE_CHECKING:
    from schema.billing.payment_types import AllocationType

__all__ = ["AdjustmentType", "BillLineType", "BillType"]


def _today_in(info: Info, project: Project) -> dt.date:
    """Money is due by the project's own calendar: in Beijing, UTC is still yesterday until 08:00."""
    return info.context.now().astimezone(ZoneInfo(project.timezone)).date()


@dataclass(frozen=True, slots=True)
class BillPage:
    """What a page of bills read for its fields at once (`BillType.read_for_page`), each part None when
    no selected field needs it: each project's day today and terms (time zone, language, late-fee
    policies), each bill's lines, each unit of the page (one object per unit, however many of its bills
    the page shows)."""

    today_by_project: dict[int, dt.date] | None
    terms_by_project: dict[int, ProjectTerms] | None
    lines_by_bill: dict[int, list[BillLineType]] | None
    units_by_id: dict[int, UnitType] | None

    def present(self, row: Bill) -> BillType:
        """The page's bill `row`, answering from the page what the page read for it."""
        bill = BillType.from_row(row)
        bill.page = self
        return bill


@strawberry.type(name="BillLine", description="One line of a bill. Money is a decimal string in yuan.")
class BillLineType:
    position: int = strawberry.field(description="1-based position on the bill.")
    rule_code: str = strawberry.field(description="The fee rule it comes from.")
    kind: BillLineKindEnum = strawberry.field(description="Charge, discount or waiver.")
    description: str = strawberry.field(description="What the line is for (the rule's name).")
    quantity: Decimal = strawberry.field(description="What was counted: m², usage, units, cycles (decimal string).")
    unit_price: Decimal | None = strawberry.field(description="Empty when no single price produced the amount.")
    amount: Decimal = strawberry.field(description="Yuan; negative for discounts and waivers.")
    explanation: str = strawberry.field(
        description="How the amount was computed, e.g. the tier breakdown, in the project's locale."
    )

    @classmethod
    def from_row(cls, row: Any, locale: Locale) -> BillLineType:
        return cls(
            position=row.position,
            rule_code=row.rule_code,
            kind=row.kind,
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            amount=row.amount,
            explanation=texts.render_stored(row.explanation, locale),
        )

    @classmethod
    def from_draft(cls, position: int, draft: engine.BillLineDraft, locale: Locale) -> BillLineType:
        return cls(
            position=position,
            rule_code=draft.rule_code,
            kind=BillLineKind(draft.kind.value),
            description=draft.description,
            quantity=draft.quantity,
            unit_price=draft.unit_price,
            amount=draft.amount,
            explanation=texts.render(draft.explanation, locale),
        )


@strawberry.type(
    name="Bill",
    description=(
        "What a unit owes for one period, line by line. Owners see their units' bills; FINANCE and ADMIN their "
        "project's. Money is a decimal string in yuan; dates are in the project's time zone."
    ),
)
class BillType(relay.Node):
    id: relay.NodeID[int]
    period: str = strawberry.field(description="The billing period, YYYY-MM.")
    period_start: dt.date = strawberry.field(description="First day billed.")
    period_end: dt.date = strawberry.field(description="Last day billed.")
    issued_on: dt.date = strawberry.field(description="Day issued.")
    due_date: dt.date = strawberry.field(description="Day it is due; the late fee runs after it (and the grace days).")
    status: BillStatusEnum = strawberry.field(description="Payment status.")
    total_amount: Decimal = strawberry.field(description="Sum of the lines; never changes once issued.")
    adjustment_amount: Decimal = strawberry.field(description="Net of debit (+) and credit (−) adjustments.")
    late_fee_amount: Decimal = strawberry.field(
        name="lateFeeCharged", description="Late fee already charged (when payments came in late)."
    )
    principal_paid: Decimal = strawberry.field(description="Paid towards the lines.")
    late_fee_paid: Decimal = strawberry.field(description="Paid towards late fees.")
    late_fee_through: strawberry.Private[dt.date | None]
    unit_id: strawberry.Private[int]
    party_id: strawberry.Private[int | None]
    project_id: strawberry.Private[int]
    run_id: strawberry.Private[int]
    # Set on the bills of a list (`BillPage.present`): their fields answer from what the page read.
    page: strawberry.Private[BillPage | None] = None

    @classmethod
    def from_row(cls, row: Bill) -> BillType:
        return cls(
            id=row.id,
            period=row.period,
            period_start=row.period_start,
            period_end=row.period_end,
            issued_on=row.issued_on,
            due_date=row.due_date,
            status=row.status,
            total_amount=row.total_amount,
            adjustment_amount=row.adjustment_amount,
            late_fee_amount=row.late_fee_amount,
            principal_paid=row.principal_paid,
            late_fee_paid=row.late_fee_paid,
            late_fee_through=row.late_fee_through,
            unit_id=row.unit_id,
            party_id=row.party_id,
            project_id=row.project_id,
            run_id=row.run_id,
        )

    @strawberry.field(description="All paid: principal and late fee.")
    def paid_amount(self) -> Decimal:
        return balance.amount_paid(self)

    @strawberry.field(description="What is still owed, late fees charged so far included.")
    def amount_due(self) -> Decimal:
        return balance.amount_due(self)

    @staticmethod
    async def read_for_page(info: Info, rows: Sequence[Bill], selected: Mapping[str, Any]) -> BillPage:
        """Read what the `selected` fields (`selected_on_nodes`) need for a whole page of bills at once, so
        that each field then answers without waiting: the lines and the projects' terms (time zone,
        language, late-fee policies) in one statement (`billing.bill_details`). Units that came with the
        bills (`list_bills(with_units=…)`) are not read again."""
        loaders = info.context.loaders
        loaders.prime(loaders.billing.bill, rows)
        units = None
        if "unit" in selected:
            # The units came with the bills: no statement is left to read.
            prime_joined(loaders.unit, rows, "unit")
            await read_into(loaders.unit, sorted({row.unit_id for row in rows}))
            units = {unit: UnitType.from_row(read_value(loaders.unit, unit)) for unit in {row.unit_id for row in rows}}
        with_lines = "lines" in selected
        if not (with_lines or selected.keys() & {"isOverdue", "lateFee", "lateFeeExplanation"}):
            return BillPage(None, None, None, units)
        details = await read_bill_details(
            info.context.session_factory,
            bill_ids=[row.id for row in rows] if with_lines else [],
            project_ids=sorted({row.project_id for row in rows}),
        )
        terms = details.terms_by_project
        now = info.context.now()
        today = {project: now.astimezone(ZoneInfo(of.timezone)).date() for project, of in terms.items()}
        lines = None
        if with_lines:
            lines = {
                row.id: [BillLineType.from_row(line, terms[row.project_id].locale) for line in details.lines_by_bill[row.id]]
                for row in rows
            }
        return BillPage(today, terms, lines, units)

    @strawberry.field(description="Unpaid and past its due date, as of today in the project's time zone.")
    def is_overdue(self, info: Info) -> bool:
        if self.page is not None and self.page.today_by_project is not None:
            return balance.is_overdue(self.status, self.due_date, self.page.today_by_project[self.project_id])
        return self._in_project(  # type: ignore[return-value]
            info, lambda project: balance.is_overdue(self.status, self.due_date, _today_in(info, project))
        )

    @strawberry.field(
        description="Late fee owed if the bill were paid on `asOf` (default: today in the project's time zone), not yet charged."
    )
    def late_fee(
        self,
        info: Info,
        as_of: Annotated[
            dt.date | None,
            strawberry.argument(description="The day to compute for (project time zone); default today."),
        ] = None,
    ) -> Decimal:
        # The amount alone: the explanation's breakdown is worked out only for `lateFeeExplanation`.
        return self._accrued_late_fee(info, as_of, late_fee_now)  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "How `lateFee(asOf:)` is reached, in the project's locale: principal × daily rate × days under each"
            " policy version in force, after the grace period, and the cap when it holds the fee back."
        )
    )
    def late_fee_explanation(
        self,
        info: Info,
        as_of: Annotated[
            dt.date | None,
            strawberry.argument(description="The day to compute for (project time zone); default today."),
        ] = None,
    ) -> str:
        def explained(bill: BillType, policy: LateFeePolicies, day: dt.date) -> Any:
            accrued = late_fee_now_explained(bill, policy, day)
            if self.page is not None and self.page.terms_by_project is not None:
                return texts.render(accrued.explanation, self.page.terms_by_project[self.project_id].locale)
            return self._in_project(info, lambda project: texts.render(accrued.explanation, project.locale))

        return self._accrued_late_fee(info, as_of, explained)  # type: ignore[return-value]

    def _accrued_late_fee(
        self, info: Info, as_of: dt.date | None, compute: Callable[[BillType, LateFeePolicies, dt.date], Any]
    ) -> Any:
        page = self.page
        if page is not None and page.terms_by_project is not None and page.today_by_project is not None:
            policies = page.terms_by_project[self.project_id].late_fee_policies
            return compute(self, policies, page.today_by_project[self.project_id] if as_of is None else as_of)

        def accrued(policy: LateFeePolicies) -> Any:
            if as_of is not None:
                return compute(self, policy, as_of)
            return self._in_project(info, lambda project: compute(self, policy, _today_in(info, project)))

        return answer(info.context.loaders.billing.late_fee_policies_by_project, self.project_id, accrued)

    def _in_project(self, info: Info, shape: Callable[[Project], Any]) -> Any:
        return answer(info.context.loaders.project, self.project_id, shape)

    @strawberry.field(description="The charges, discounts and waivers, in order.")
    def lines(self, info: Info) -> list[BillLineType]:
        if self.page is not None and self.page.lines_by_bill is not None:
            return self.page.lines_by_bill[self.id]
        return answer(  # type: ignore[return-value]
            info.context.loaders.billing.lines_by_bill,
            self.id,
            lambda rows: self._in_project(info, lambda project: [BillLineType.from_row(row, project.locale) for row in rows]),
        )

    @strawberry.field(description="The unit billed.")
    def unit(self, info: Info) -> UnitType:
        if self.page is not None and self.page.units_by_id is not None:
            return self.page.units_by_id[self.unit_id]
        return answer(info.context.loaders.unit, self.unit_id, UnitType.from_row)  # type: ignore[return-value]

    @strawberry.field(description="The unit's building.")
    async def building(self, info: Info) -> BuildingType:
        unit = await info.context.loaders.unit.load(self.unit_id)
        return BuildingType.from_row(await info.context.loaders.building.load(unit.building_id))

    @strawberry.field(description="Who the bill is addressed to (the owner, else the tenant).")
    async def party(self, info: Info) -> PartyType | None:
        if self.party_id is None:
            return None
        return PartyType.from_row(await info.context.loaders.party.load(self.party_id))

    @strawberry.field(description="The bill run that issued it.")
    async def run(self, info: Info) -> BillRunType | None:
        principal = await info.context.principal()
        if principal is None or not may_manage_charges(principal, project_id=self.project_id):
            return None
        return BillRunType.from_row(await info.context.loaders.billing.bill_run.load(self.run_id))

    @strawberry.field(description="Payments allocated to it.")
    async def allocations(
        self, info: Info
    ) -> list[Annotated[AllocationType, strawberry.lazy("schema.billing.payment_types")]]:
        # Imported on use: payment_types imports this module (an allocation names its bill).
        from schema.billing.payment_types import AllocationType

        rows = await info.context.loaders.billing.allocations_by_bill.load(self.id)
        return [AllocationType.from_row(row) for row in rows]

    @strawberry.field(description="Corrections made after issue.")
    async def adjustments(self, info: Info) -> list[AdjustmentType]:
        rows = await info.context.loaders.billing.adjustments_by_bill.load(self.id)
        return [AdjustmentType.from_row(row) for row in rows]

    resolve_nodes = nodes_of_unit_billing(lambda info: info.context.loaders.billing.bill)


@strawberry.type(name="Adjustment", description="A correction of an issued bill; CREDIT lowers it, DEBIT raises it.")
class AdjustmentType(relay.Node):
    id: relay.NodeID[int]
    kind: AdjustmentKindEnum = strawberry.field(description="CREDIT or DEBIT.")
    amount: Decimal = strawberry.field(description="Yuan, positive.")
    reason: str = strawberry.field(description="Why.")
    created_at: dt.datetime = strawberry.field(description="When (UTC).")
    bill_id: strawberry.Private[int]
    unit_id: strawberry.Private[int]
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> AdjustmentType:
        return cls(
            id=row.id,
            kind=row.kind,
            amount=row.amount,
            reason=row.reason,
            created_at=row.created_at,
            bill_id=row.bill_id,
            unit_id=row.unit_id,
            project_id=row.project_id,
        )

    @strawberry.field(description="The bill it corrects.")
    async def bill(self, info: Info) -> BillType:
        return BillType.from_row(await info.context.loaders.billing.bill.load(self.bill_id))

    resolve_nodes = nodes_of_unit_billing(lambda info: info.context.loaders.billing.adjustment)
