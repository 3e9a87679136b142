"""What a page of bills shows beside each bill's own columns, read by one statement: the bills' lines,
and of each of their projects the time zone (a bill is overdue by the project's calendar), the language
(of the lines' explanations) and the late-fee policy versions.

An owner's page of twelve bills with their lines and late fees took two statements besides the page's
own, each a round trip and a pooled connection; one statement that reads both kinds of rows is one of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import CompoundSelect, literal, null, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing import model as engine
from billing.rules import LateFeePolicies
from db.batch_reads import dialect_of
from db.conditions import among_parameter
from db.driver import DriverStatement, connection_for_reads
from db.models import BillLine, LateFeePolicyVersion, Project
from kernel.vocabulary import Locale

__all__ = ["BillDetails", "BillLineRow", "ProjectTerms", "read_bill_details"]


class BillLineRow(NamedTuple):
    """One line of a bill, its columns as a plain row of `BillLine` has them (what `BillLineType` reads)."""

    bill_id: int
    position: int
    rule_code: str
    kind: Any
    description: str
    quantity: Any
    unit_price: Any
    amount: Any
    explanation: str


@dataclass(frozen=True, slots=True)
class ProjectTerms:
    """What a project's bills are read under: its time zone and language, and its late-fee policy
    versions, oldest first, as the engine takes them (empty: no late fee)."""

    timezone: str
    locale: Locale
    late_fee_policies: LateFeePolicies


@dataclass(frozen=True, slots=True)
class BillDetails:
    """The lines of each bill asked for (a bill without lines has an empty list) and the terms of each
    project asked for."""

    lines_by_bill: dict[int, list[BillLineRow]]
    terms_by_project: dict[int, ProjectTerms]


# The line columns, in `BillLineRow`'s order after the bill's id, and the project columns: each part of the
# union reads its own and NULLs of the same type for the other's.
_LINE_COLUMNS = ("position", "rule_code", "kind", "description", "quantity", "unit_price", "amount", "explanation")
_VERSION_COLUMNS = ("effective_from", "daily_rate", "grace_days", "cap_ratio")


def _nulls_of(model: type[Any], names: Sequence[str]) -> list[Any]:
    return [type_coerce(null(), getattr(model, name).type).label(name) for name in names]


@cache
def _details_statement(dialect: str) -> DriverStatement:
    """Part 0: each project with each of its policy versions (one row with NULL version columns when it
    has none); part 1: each bill's lines. Ordered by part, then project and version start, then bill and
    position."""
    terms = (
        select(
            literal(0).label("part"),
            Project.id.label("key"),
            Project.timezone,
            Project.locale,
            LateFeePolicyVersion.id.label("version_id"),
            *(getattr(LateFeePolicyVersion, name).label(name) for name in _VERSION_COLUMNS),
            *_nulls_of(BillLine, _LINE_COLUMNS),
        )
        .outerjoin(LateFeePolicyVersion, LateFeePolicyVersion.project_id == Project.id)
        .where(among_parameter(dialect, Project.id, "projects"))
    )
    lines = select(
        literal(1).label("part"),
        BillLine.bill_id.label("key"),
        *_nulls_of(Project, ("timezone", "locale")),
        type_coerce(null(), LateFeePolicyVersion.id.type).label("version_id"),
        *_nulls_of(LateFeePolicyVersion, _VERSION_COLUMNS),
        *(getattr(BillLine, name).label(name) for name in _LINE_COLUMNS),
    ).where(among_parameter(dialect, BillLine.bill_id, "bills"))
    union: CompoundSelect = union_all(terms, lines)
    columns = union.selected_columns
    return DriverStatement(
        union.order_by(columns.part, columns.key, columns.effective_from, columns.version_id, columns.position)
    )


async def read_bill_details(
    session_factory: async_sessionmaker[AsyncSession], *, bill_ids: list[int], project_ids: list[int]
) -> BillDetails:
    """The lines of the bills `bill_ids` and the terms of the projects `project_ids`, read by one statement.
    The caller has seen the bills (a page of those it may see) and names their projects."""
    statement = _details_statement(dialect_of(session_factory))
    async with connection_for_reads(session_factory) as connection:
        rows = await statement.rows(connection, {"projects": project_ids, "bills": bill_ids})
    lines_by_bill: dict[int, list[BillLineRow]] = {bill_id: [] for bill_id in bill_ids}
    versions: dict[int, tuple[str, Locale, list[engine.LateFeePolicy]]] = {}
    for part, key, timezone, locale, version_id, effective_from, daily_rate, grace_days, cap_ratio, *line in rows:
        if part:
            lines_by_bill[key].append(BillLineRow(key, *line))
            continue
        _, _, policies = versions.setdefault(key, (timezone, locale, []))
        if version_id is not None:
            policies.append(
                engine.LateFeePolicy(
                    daily_rate=daily_rate, grace_days=grace_days, cap_ratio=cap_ratio, effective_from=effective_from
                )
            )
    terms_by_project = {
        project: ProjectTerms(timezone, locale, tuple(policies)) for project, (timezone, locale, policies) in versions.items()
    }
    return BillDetails(lines_by_bill, terms_by_project)
