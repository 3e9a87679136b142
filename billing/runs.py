"""Bill runs: one bill per unit and period, computed by the rule engine in batches and bulk-written.

A run is keyed by (project, period). Running it again bills only the units that have no bill for the
period yet (units added since), so it is idempotent and returns the same run. Apportioned totals are
shared once, among the units billed by the first run; a unit added later draws no share of them.

Each batch of units is read (`billing.run_reader`) as the driver's plain rows, priced in a worker thread
while the previous batch is being written (`billing.run_pricing`), and written with the dialect's bulk
connection (COPY on PostgreSQL): bills, their lines, and one journal entry per batch (receivable per bill
against income per rule). Prepaid credit a unit holds is applied to its new bill at once
(`billing.credit`).

`run_billing` is the one door: the GraphQL mutation and `courtyard bill-run` call it. Its body,
`bill_period`, works inside the caller's transaction for the demo seeding, which writes a whole
community in one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing import model as engine
from billing.bulk import bulk_connection, dialect_insert
from billing.credit import apply_credits
from billing.guards import get_project, queue_behind_bill_runs
from billing.policy import may_manage_charges
from billing.reports.collection_facts import Flows, add_flows
from billing.reports.facts import add_issue_flows
from billing.rule_book import (
    engine_discount,
    engine_rule,
    engine_waiver,
    load_policies,
)
from billing.rules import (
    ApportionmentError,
    PreparedRules,
    RuleValidationError,
    prepare_rules,
)
from billing.run_pricing import (
    BatchDrafts,
    BillPreview,
    RunContext,
    draft_batch,
    write_batch,
)
from billing.run_reader import RunIds, RunReader
from db.models import BillRun, DiscountRule, FeeRule, FeeRuleVersion, Project, Waiver
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput
from kernel.principal import Principal
from kernel.validation import optional_text
from kernel.vocabulary import FeeRuleKind, Locale

__all__ = ["DEFAULT_BATCH_SIZE", "BillRunOutcome", "Progress", "bill_period", "find_project", "run_billing"]

DEFAULT_BATCH_SIZE = 5_000
SAMPLE_SIZE = 5

_ZERO = Decimal("0.00")
Progress = Callable[[int, int], None]
"""Called after each batch with the units done and the units to do."""


@dataclass(frozen=True)
class BillRunOutcome:
    """What a run did (or, dry, would do): bills and amount created by this invocation."""

    run: BillRun | None
    dry_run: bool
    period: str
    bills_created: int
    amount_created: Decimal
    units_without_charges: int
    locale: Locale = Locale.ZH_CN
    sample: tuple[BillPreview, ...] = ()


async def run_billing(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    now: dt.datetime,
    project_id: int,
    period: str,
    dry_run: bool,
    advance_reason: str | None = None,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> BillRunOutcome:
    """Bill every unit of the project that has no bill for `period` yet, in one transaction (a dry run
    writes nothing). `principal` None is the command line, which acts with the database's own authority.
    A period after the next one is billed only with `advance_reason`, which the run keeps."""
    async with _session_for(session_factory, writing=not dry_run) as session:
        return await bill_period(
            session,
            principal,
            now=now,
            project_id=project_id,
            period=period,
            dry_run=dry_run,
            advance_reason=advance_reason,
            progress=progress,
            batch_size=batch_size,
        )


@asynccontextmanager
async def _session_for(session_factory: async_sessionmaker[AsyncSession], *, writing: bool) -> AsyncIterator[AsyncSession]:
    """The unit of work for a run that writes; a plain session for a dry run, which only reads."""
    if writing:
        async with unit_of_work(session_factory) as work:
            yield work.session
    else:
        async with session_factory() as session:
            yield session


async def find_project(session_factory: async_sessionmaker[AsyncSession], *, reference: str) -> int | None:
    """The id of the project `reference` names, by id or exact name, for the command line."""
    condition = Project.id == int(reference) if reference.isdigit() else Project.name == reference
    async with session_factory() as session:
        return await session.scalar(select(Project.id).where(condition))


async def bill_period(
    session: AsyncSession,
    principal: Principal | None,
    *,
    now: dt.datetime,
    project_id: int,
    period: str,
    dry_run: bool,
    advance_reason: str | None = None,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> BillRunOutcome:
    """The bill run inside the caller's transaction: `run_billing`'s body."""
    if principal is None:
        project = await session.get(Project, project_id)
        if project is None:
            raise BadInput(f"No project {project_id}.", field="projectId")
    else:
        project = await get_project(session, principal, project_id, allowed=may_manage_charges)
    if not dry_run:
        # Before the waivers and the credit are read: what changes them waits until this run commits.
        await queue_behind_bill_runs(session, project_id)
    policies = await load_policies(session, project_id)
    try:
        billing_period = engine.BillingPeriod.parse(period, months=policies.cycle_months)
    except ValueError as error:
        raise BadInput(str(error), field="period") from None
    zone = ZoneInfo(project.timezone)
    reason = _advance_reason(billing_period, advance_reason, today=now.astimezone(zone).date(), dry_run=dry_run)
    prepared, waivers = await _load_rules(session, project_id, billing_period)
    meter_types = frozenset(
        rule.meter_type for rule in prepared.rules if rule.kind == FeeRuleKind.METERED_TIERED and rule.meter_type
    )
    year_to_date_types = frozenset(
        rule.meter_type
        for rule in prepared.rules
        if rule.tier_period == engine.TierPeriod.YEAR_TO_DATE and rule.meter_type
    )
    usage_basis_types = frozenset(
        rule.meter_type
        for rule in prepared.apportioned_rules
        if rule.apportion_basis == engine.ApportionBasis.USAGE and rule.meter_type
    )
    bulk = await bulk_connection(session)
    user_id = principal.user_id if principal else None
    run: BillRun | None
    if dry_run:
        run = await session.scalar(
            select(BillRun).where(BillRun.project_id == project_id, BillRun.period == billing_period.label)
        )
    else:
        run = await _get_or_create_run(session, project_id=project_id, period=billing_period, user_id=user_id)
        # Writing first takes SQLite's write lock, which the bulk writer's id reservation relies on.
        run.times_run += 1
        run.last_run_at = now
        if reason is not None:
            run.advance_reason = reason
        await session.flush()
    reader = RunReader(
        session,
        bulk,
        project_id=project_id,
        period=billing_period,
        zone=zone,
        metered_types=meter_types,
        usage_basis_types=usage_basis_types,
        run_id=None if dry_run or run is None else run.id,
    )
    top_up = run is not None and run.bill_count > 0
    if top_up or not prepared.apportioned_rules:
        apportionments: Mapping[int, engine.Apportionment] = _empty_apportionments(prepared)
    else:
        try:
            apportionments = await reader.apportionments(prepared, usage_basis_types)
        except ApportionmentError as error:
            raise BadInput(error.message, field=f"rules.{error.rule_code}.{error.field}") from None
    waivers_by_unit: dict[int, list[engine.Waiver]] = defaultdict(list)
    for waiver in waivers:
        waivers_by_unit[waiver.unit_id].append(waiver)
    issued_on = now.astimezone(zone).date()
    context = RunContext(
        project_id=project_id,
        run_id=run.id if run is not None else 0,
        period=billing_period,
        issued_on=issued_on,
        due_date=issued_on + dt.timedelta(days=policies.due_days),
        prepared=prepared,
        apportionments=apportionments,
        waivers=waivers_by_unit,
        year_to_date_types=year_to_date_types,
        keep_previews=SAMPLE_SIZE if dry_run else 0,
        now=now,
        user_id=user_id,
    )
    total_units = await reader.count_unbilled()
    ids = None if dry_run else RunIds.reserve_for(bulk, total_units)
    done = 0
    created = 0
    amount = _ZERO
    without_charges = 0
    previews: list[BillPreview] = []
    credit_applications: list[tuple[int, int, Decimal]] = []
    issue_flows: Flows = {}
    pending_write: BatchDrafts | None = None
    units = await reader.next_units(0, batch_size)
    while units or pending_write is not None:
        computing = None
        if units:
            batch = await reader.batch(units, ids)
            computing = asyncio.ensure_future(asyncio.to_thread(draft_batch, context, batch))
        if pending_write is not None and not dry_run:
            await write_batch(bulk, pending_write)
        pending_write = None
        if computing is None:
            break
        drafts = await computing
        done += len(units)
        created += len(drafts.bills)
        amount += drafts.total
        without_charges += drafts.without_charges
        previews.extend(drafts.previews[: SAMPLE_SIZE - len(previews)])
        credit_applications.extend(drafts.credit_applied)
        for key, (receivable, collected) in drafts.facts.flows.items():
            add_flows(issue_flows, key, receivable, collected)
        pending_write = drafts
        if progress is not None:
            progress(done, total_units)
        units = await reader.next_units(units[-1][0], batch_size)
    if run is not None and not dry_run:
        await add_issue_flows(session, project_id=project_id, flows=issue_flows)
        await apply_credits(session, project_id=project_id, applications=credit_applications, now=now, user_id=user_id)
        run.bill_count += created
        run.total_amount += amount
        run.last_run_bill_count = created
        await session.flush()
    return BillRunOutcome(
        run=run,
        dry_run=dry_run,
        period=billing_period.label,
        bills_created=created,
        amount_created=amount,
        units_without_charges=without_charges,
        locale=project.locale,
        sample=tuple(previews),
    )


def _advance_reason(
    period: engine.BillingPeriod, reason: str | None, *, today: dt.date, dry_run: bool
) -> str | None:
    """The reason for billing a period after the next one, which such a run needs; None for the others.

    Billing the next period ahead is ordinary (bills issued before the month starts); anything later is
    almost always a mistyped year or month, and its bills would be due before the owners use the service.
    A dry run writes nothing and needs no reason.
    """
    given = optional_text(reason, "advanceReason", max_length=500)
    latest = engine.BillingPeriod.starting_in_month_of(today, period.months).following()
    if period.start > latest.start and not dry_run and given is None:
        raise BadInput(
            f"Period {period.label} starts after the next one ({latest.label}); billing it now needs advanceReason.",
            field="period",
        )
    return given


async def _load_rules(
    session: AsyncSession, project_id: int, period: engine.BillingPeriod
) -> tuple[PreparedRules, list[engine.Waiver]]:
    versions = await session.execute(
        select(FeeRule, FeeRuleVersion)
        .join(FeeRuleVersion, FeeRuleVersion.rule_id == FeeRule.id)
        .where(FeeRule.project_id == project_id)
        .order_by(FeeRule.id, FeeRuleVersion.version)
    )
    rules = [engine_rule(rule, version) for rule, version in versions]
    discounts = [
        engine_discount(row)
        for row in await session.scalars(select(DiscountRule).where(DiscountRule.project_id == project_id).order_by(DiscountRule.id))
    ]
    waivers = [
        engine_waiver(row)
        for row in await session.scalars(
            select(Waiver).where(Waiver.project_id == project_id, Waiver.period == period.label).order_by(Waiver.id)
        )
    ]
    try:
        return prepare_rules(rules, discounts, period), waivers
    except RuleValidationError as error:
        raise BadInput(f"A stored rule is invalid: {error.message}", field=f"rules.{error.field}") from None


async def _get_or_create_run(
    session: AsyncSession, *, project_id: int, period: engine.BillingPeriod, user_id: int | None
) -> BillRun:
    """The period's run, created if need be, and locked until commit so that concurrent runs queue."""
    # ON CONFLICT DO NOTHING waits for a concurrent first run to commit and then leaves its row alone.
    await session.execute(
        dialect_insert(session, BillRun)
        .values(
            project_id=project_id,
            period=period.label,
            period_start=period.start,
            period_end=period.end,
            bill_count=0,
            total_amount=_ZERO,
            times_run=0,
            last_run_bill_count=0,
            created_by=user_id,
        )
        .on_conflict_do_nothing(index_elements=["project_id", "period"])
    )
    run = await session.scalar(
        select(BillRun)
        .where(BillRun.project_id == project_id, BillRun.period == period.label)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert run is not None, "inserted or found above"
    return run


def _empty_apportionments(prepared: PreparedRules) -> dict[int, engine.Apportionment]:
    """For a run that only tops up new units: the totals were shared by the first run, so no shares."""
    return {
        rule.id: engine.Apportionment(
            rule_id=rule.id,
            basis=rule.apportion_basis or engine.ApportionBasis.EQUAL,
            total=rule.apportion_total or _ZERO,
            total_weight=Decimal(0),
            unit_count=0,
            shares={},
        )
        for rule in prepared.apportioned_rules
    }
