"""A project's matching rules as finance staff keep them: create, update, disable and enable again, each
checked field by field before anything is written, and read back as the `MatchRule`s the matching core tries in order.

A rule's conditions are stored as JSON (`ReconciliationRule.params`, the `MatchRule` fields other than
its name); `match_rules` turns the enabled ones into `MatchRule`s, and `unit_codes` gives the project's
units by the code a rule's `(?P<unit>…)` group captures.

`principal` None acts on the system's own authority (the command line, which has the database already).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.policy import knows_project_records, may_edit_reconciliation_rules
from billing.reconciliation.accounts import reconciled_project
from billing.reconciliation.matching import MatchRule, unit_code
from billing.reconciliation.statement import Channel
from db.models import Building, Party, ReconciliationRule, Unit
from db.unit_of_work import unit_of_work
from kernel.errors import AccessDenied, BadInput, NotFound
from kernel.principal import Principal
from kernel.validation import required_text

__all__ = [
    "RuleDraft",
    "captures_unit",
    "create_rule",
    "disable_rule",
    "enable_rule",
    "list_rules",
    "match_rules",
    "rule_of_row",
    "unit_codes",
    "update_rule",
]

_REFUSAL = "Requires one of the roles ADMIN, FINANCE in this project."
_MAX_PATTERN = 200  # a pattern runs against every open bank line: short, so a person can still read it
_MAX_DAYS = 60
_MAX_TOLERANCE = Decimal("1000.00")


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """A rule as finance staff write it (see `MatchRule`); `position` None puts a new rule last and leaves
    an updated one where it is."""

    name: str
    pattern: str | None = None
    unit_id: int | None = None
    party_id: int | None = None
    amount_tolerance: Decimal = Decimal("0.00")
    days_before: int = 0
    days_after: int = 3
    min_name_similarity: float | None = None
    channels: tuple[Channel, ...] = (Channel.BANK_TRANSFER,)
    position: int | None = None

    def checked(self) -> MatchRule:
        """The `MatchRule` it describes, or BAD_USER_INPUT naming the first field at fault."""
        name = required_text(self.name, "name", max_length=100)
        pattern = (self.pattern or "").strip() or None
        if pattern is not None:
            if len(pattern) > _MAX_PATTERN:
                raise BadInput(f"pattern must be at most {_MAX_PATTERN} characters.", field="pattern")
            try:
                compiled = re.compile(pattern)
            except re.error as error:
                raise BadInput(f"pattern is not a regular expression: {error}.", field="pattern") from None
            if "unit" not in compiled.groupindex and self.unit_id is None and self.party_id is None:
                raise BadInput(
                    "A pattern must point somewhere: a named group (?P<unit>…) capturing the unit's code, or unitId or partyId.",
                    field="pattern",
                )
        elif self.unit_id is not None or self.party_id is not None:
            raise BadInput("unitId and partyId are what a pattern points at: give the pattern too.", field="pattern")
        if self.amount_tolerance.is_nan() or not Decimal(0) <= self.amount_tolerance <= _MAX_TOLERANCE:
            raise BadInput(f"amountTolerance must be between 0 and {_MAX_TOLERANCE} 元.", field="amountTolerance")
        if self.amount_tolerance != self.amount_tolerance.quantize(Decimal("0.01")):
            raise BadInput("amountTolerance has at most two decimals (fen).", field="amountTolerance")
        for field_name, value in (("daysBefore", self.days_before), ("daysAfter", self.days_after)):
            if not 0 <= value <= _MAX_DAYS:
                raise BadInput(f"{field_name} must be between 0 and {_MAX_DAYS} days.", field=field_name)
        if self.min_name_similarity is not None and not 0 < self.min_name_similarity <= 1:
            raise BadInput("minNameSimilarity is a share above 0 and at most 1, such as 0.8.", field="minNameSimilarity")
        if not self.channels:
            raise BadInput("A rule needs at least one payment channel.", field="channels")
        if self.position is not None and self.position < 1:
            raise BadInput("position counts from 1.", field="position")
        return MatchRule(
            name=name,
            pattern=pattern,
            unit_id=self.unit_id,
            party_id=self.party_id,
            amount_tolerance=self.amount_tolerance.quantize(Decimal("0.01")),
            days_before=self.days_before,
            days_after=self.days_after,
            min_name_similarity=self.min_name_similarity,
            channels=tuple(dict.fromkeys(self.channels)),
        )


def _params(rule: MatchRule) -> dict[str, Any]:
    return {
        "pattern": rule.pattern,
        "unit_id": rule.unit_id,
        "party_id": rule.party_id,
        "amount_tolerance": str(rule.amount_tolerance),
        "days_before": rule.days_before,
        "days_after": rule.days_after,
        "min_name_similarity": rule.min_name_similarity,
        "channels": [channel.value for channel in rule.channels],
    }


def rule_of_row(row: ReconciliationRule) -> MatchRule:
    """The `MatchRule` a stored row holds (the fields its params leave out take their defaults)."""
    params = dict(row.params)
    if "amount_tolerance" in params:
        params["amount_tolerance"] = Decimal(str(params["amount_tolerance"]))
    if "channels" in params:
        params["channels"] = tuple(Channel(value) for value in params["channels"])
    return MatchRule(name=row.name, position=row.position, **params)


def captures_unit(rule: MatchRule) -> bool:
    """Whether the rule's pattern points at units by the code it captures (so the run needs `unit_codes`)."""
    return rule.pattern is not None and "unit" in re.compile(rule.pattern).groupindex


async def match_rules(session: AsyncSession, project_id: int) -> list[MatchRule]:
    """The project's enabled rules, in the order they are tried."""
    rows = await session.scalars(
        select(ReconciliationRule)
        .where(ReconciliationRule.project_id == project_id, ReconciliationRule.disabled_at.is_(None))
        .order_by(ReconciliationRule.position)
    )
    return [rule_of_row(row) for row in rows]


async def unit_codes(session: AsyncSession, project_id: int) -> dict[str, int]:
    """The project's units by their code (`unit_code` of building name and unit number: 3栋 + 1-502 →
    3-1-502). A code two units share names neither: a rule that captures it leaves the line to a person."""
    rows = await session.execute(
        select(Unit.id, Building.name, Unit.number).join(Building, Unit.building_id == Building.id).where(Unit.project_id == project_id)
    )
    found: dict[str, int | None] = {}
    for unit_id, building, number in rows:
        code = unit_code(f"{building}-{number}")
        found[code] = unit_id if code not in found else None
    return {code: unit_id for code, unit_id in found.items() if unit_id is not None}


async def _checked_targets(session: AsyncSession, project_id: int, rule: MatchRule) -> None:
    """A rule points only at its own project's unit and party; anything else does not exist for it."""
    if rule.unit_id is not None and await session.scalar(select(Unit.project_id).where(Unit.id == rule.unit_id)) != project_id:
        raise NotFound("No such unit.", field="unitId")
    if rule.party_id is not None and await session.scalar(select(Party.project_id).where(Party.id == rule.party_id)) != project_id:
        raise NotFound("No such party.", field="partyId")


async def _unique_name(session: AsyncSession, project_id: int, name: str, rule_id: int | None) -> None:
    query = select(ReconciliationRule.id).where(ReconciliationRule.project_id == project_id, ReconciliationRule.name == name)
    if rule_id is not None:
        query = query.where(ReconciliationRule.id != rule_id)
    if await session.scalar(query.limit(1)) is not None:
        raise BadInput(f"The project already has a rule named {name!r}.", field="name")


async def _place(session: AsyncSession, project_id: int, rule: ReconciliationRule | None, position: int | None) -> int:
    """Make room at `position` (clamped to the end) among the project's other rules, renumbering them 1…n
    around it; answers the position the rule takes."""
    others = (
        await session.scalars(
            select(ReconciliationRule)
            .where(ReconciliationRule.project_id == project_id, ReconciliationRule.id != (rule.id if rule else 0))
            .order_by(ReconciliationRule.position)
        )
    ).all()
    place = len(others) + 1 if position is None else min(position, len(others) + 1)
    wanted = {row.id: number + (number >= place) for number, row in enumerate(others, start=1)}
    moving = [row for row in others if row.position != wanted[row.id]]
    # Positions are unique at every statement: the rules that move wait below zero first.
    for row in [*moving, *([rule] if rule else [])]:
        row.position = -row.id
    await session.flush()
    for row in moving:
        row.position = wanted[row.id]
    await session.flush()
    return place


async def create_rule(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal | None, *, project_id: int, draft: RuleDraft
) -> ReconciliationRule:
    """Add a rule to the project's list, last or at `draft.position` (the rules from there move down one)."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        await reconciled_project(session, principal, project_id)
        if principal is not None and not may_edit_reconciliation_rules(principal, project_id=project_id):
            raise AccessDenied(_REFUSAL)
        rule = draft.checked()
        await _checked_targets(session, project_id, rule)
        await _unique_name(session, project_id, rule.name, None)
        position = await _place(session, project_id, None, draft.position)
        row = ReconciliationRule(
            project_id=project_id,
            position=position,
            name=rule.name,
            params=_params(rule),
            created_by=principal.user_id if principal else None,
        )
        session.add(row)
        await session.flush()
        await session.refresh(row)
        return row


async def _editable_rule(session: AsyncSession, principal: Principal | None, rule_id: int) -> ReconciliationRule:
    """A rule of a project the caller keeps the rules of: NOT_FOUND for a stranger, FORBIDDEN without the role."""
    row = await session.get(ReconciliationRule, rule_id, with_for_update=True)
    if row is None or (principal is not None and not knows_project_records(principal, project_id=row.project_id)):
        raise NotFound("No such reconciliation rule.", field="ruleId")
    if principal is not None and not may_edit_reconciliation_rules(principal, project_id=row.project_id):
        raise AccessDenied(_REFUSAL)
    return row


async def update_rule(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal | None, *, rule_id: int, draft: RuleDraft
) -> ReconciliationRule:
    """Replace a rule's name and conditions (and move it when `draft.position` is given). Matches it made
    before stay as they were; the next run tries the rule as it now reads. A disabled rule stays disabled."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        row = await _editable_rule(session, principal, rule_id)
        rule = draft.checked()
        await _checked_targets(session, row.project_id, rule)
        await _unique_name(session, row.project_id, rule.name, row.id)
        position = row.position
        if draft.position is not None and draft.position != row.position:
            position = await _place(session, row.project_id, row, draft.position)
        row.name, row.params, row.position = rule.name, _params(rule), position
        await session.flush()
        await session.refresh(row)
        return row


async def disable_rule(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal | None, *, rule_id: int, now: dt.datetime
) -> ReconciliationRule:
    """Stop trying a rule from the next run on; it keeps its place and the matches it made. Disabling a
    disabled rule changes nothing."""
    async with unit_of_work(session_factory) as work:
        row = await _editable_rule(work.session, principal, rule_id)
        if row.disabled_at is None:
            row.disabled_at = now
            row.disabled_by = principal.user_id if principal else None
            await work.session.flush()
        return row


async def enable_rule(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal | None, *, rule_id: int
) -> ReconciliationRule:
    """Try a disabled rule again from the next run on, at the place it kept; the lines it left to others in
    the meantime stay where they went. Enabling an enabled rule changes nothing."""
    async with unit_of_work(session_factory) as work:
        row = await _editable_rule(work.session, principal, rule_id)
        if row.disabled_at is not None:
            row.disabled_at = None
            row.disabled_by = None
            await work.session.flush()
        return row


async def list_rules(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int, include_disabled: bool
) -> Sequence[ReconciliationRule]:
    """The project's rules in the order they are tried."""
    async with session_factory() as session:
        await reconciled_project(session, principal, project_id)
        query = select(ReconciliationRule).where(ReconciliationRule.project_id == project_id)
        if not include_disabled:
            query = query.where(ReconciliationRule.disabled_at.is_(None))
        return (await session.scalars(query.order_by(ReconciliationRule.position))).all()

