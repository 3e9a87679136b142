"""A project's dunning policy as data: read (the default until the finance desk saves one) and replaced
whole by FINANCE or ADMIN, with the arrears rule for repairs that goes with it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.dunning.ladder import DEFAULT_POLICY, Level, Policy, Trigger, validate_policy
from billing.guards import get_project
from billing.policy import may_manage_dunning
from db.models import DunningLevel, DunningPolicy
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput
from kernel.principal import Principal
from kernel.validation import optional_text
from kernel.vocabulary import NotificationChannel
from notifications.kinds import MessageKind

__all__ = [
    "PAYMENT_INSTRUCTIONS_MAX_LENGTH",
    "DunningSettings",
    "get_dunning_settings",
    "load_settings",
    "set_dunning_settings",
]

PAYMENT_INSTRUCTIONS_MAX_LENGTH = 300
_FEN = Decimal("0.01")


@dataclass(frozen=True)
class DunningSettings:
    project_id: int
    policy: Policy
    enabled: bool
    repair_block_threshold: Decimal | None
    """Overdue arrears above which non-urgent repairs wait; None: repairs never wait for arrears."""
    payment_instructions: str | None
    saved: bool
    """False while the project follows the default policy (nothing saved yet)."""
    updated_at: dt.datetime | None = None


async def load_settings(session: AsyncSession, project_id: int) -> DunningSettings:
    """The project's policy as saved, or the default: a step inside the caller's transaction."""
    row = await session.get(DunningPolicy, project_id)
    if row is None:
        return DunningSettings(project_id, DEFAULT_POLICY, True, None, None, saved=False)
    levels = await session.scalars(
        select(DunningLevel).where(DunningLevel.project_id == project_id).order_by(DunningLevel.position)
    )
    return DunningSettings(
        project_id,
        Policy(tuple(_level_of(level) for level in levels)),
        row.enabled,
        row.repair_block_threshold,
        row.payment_instructions,
        saved=True,
        updated_at=row.updated_at,
    )


def _level_of(row: DunningLevel) -> Level:
    return Level(
        code=row.code,
        trigger=Trigger(row.days_from_due, row.min_amount, row.min_bills),
        kind=MessageKind(row.kind) if row.kind is not None else None,
        channels=tuple(NotificationChannel(channel) for channel in row.channels),
        escalation=row.escalation,
    )


async def get_dunning_settings(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> DunningSettings:
    """The project's dunning policy (the default until one is saved): FINANCE and ADMIN of the project."""
    async with session_factory() as session:
        await get_project(session, principal, project_id, allowed=may_manage_dunning)
        return await load_settings(session, project_id)


async def set_dunning_settings(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    now: dt.datetime,
    policy: Policy | None = None,
    enabled: bool | None = None,
    repair_block_threshold: Decimal | None = None,
    clear_repair_block: bool = False,
    payment_instructions: str | None = None,
) -> DunningSettings:
    """Replace what is given of the project's policy: the levels (whole, in order), whether it duns at
    all, the arrears above which non-urgent repairs wait (`clear_repair_block` turns that off), and the
    payment instructions a refused repair shows. What is left out stays as it was (the default at first).
    Notices already sent keep the level they were sent at."""
    if policy is not None:
        validate_policy(policy)
    if repair_block_threshold is not None and (
        repair_block_threshold < 0 or repair_block_threshold != repair_block_threshold.quantize(_FEN)
    ):
        raise BadInput("The arrears threshold is zero or more, in whole fen.", field="repairBlockThreshold")
    instructions = optional_text(payment_instructions, "paymentInstructions", max_length=PAYMENT_INSTRUCTIONS_MAX_LENGTH)
    async with unit_of_work(session_factory) as work:
        session = work.session
        await get_project(session, principal, project_id, allowed=may_manage_dunning)
        current = await load_settings(session, project_id)
        row = await session.get(DunningPolicy, project_id)
        if row is None:
            row = DunningPolicy(project_id=project_id, enabled=True)
            session.add(row)
        row.enabled = current.enabled if enabled is None else enabled
        if clear_repair_block:
            row.repair_block_threshold = None
        elif repair_block_threshold is not None:
            row.repair_block_threshold = repair_block_threshold
        if instructions is not None:
            row.payment_instructions = instructions
        row.updated_by = principal.user_id
        row.updated_at = now
        await session.flush()
        if policy is not None or not current.saved:
            await session.execute(delete(DunningLevel).where(DunningLevel.project_id == project_id))
            session.add_all(_rows(project_id, policy or current.policy))
        await session.flush()
        return await load_settings(session, project_id)


def _rows(project_id: int, policy: Policy) -> list[DunningLevel]:
    return [
        DunningLevel(
            project_id=project_id,
            position=position,
            code=level.code,
            days_from_due=level.trigger.days_from_due,
            min_amount=level.trigger.min_amount,
            min_bills=level.trigger.min_bills,
            kind=level.kind.value if level.kind is not None else None,
            channels=[channel.value for channel in level.channels],
            escalation=level.escalation,
        )
        for position, level in enumerate(policy.levels)
    ]
