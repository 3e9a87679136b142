"""Billing on top of the test world: a small rule book, readings, and the books checked after each test.

Every billing test module imports `books_balance` (an autouse fixture): after each test it runs the
ledger check on every project in the database and fails the test if any books do not balance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.state import AppState
from billing.ledger_check import check_project_ledger
from billing.reports.facts import facts_discrepancies
from db.models import Project
from tests.integration.world import World, gql

__all__ = [
    "CREATE_RULE",
    "RECORD_PAYMENT",
    "RECORD_READING",
    "RUN_BILLING",
    "assert_books_balance",
    "books_balance",
    "create_rule",
    "pay",
    "reading_at",
    "run_billing",
    "standard_rules",
]

CREATE_RULE = """
mutation ($input: CreateFeeRuleInput!) {
  createFeeRule(input: $input) {
    __typename
    ... on FeeRule { id ruleCode kind current { version name } }
    ... on Error { code message field }
  }
}"""

RUN_BILLING = """
mutation ($projectId: ID!, $period: String!, $dryRun: Boolean) {
  runBilling(projectId: $projectId, period: $period, dryRun: $dryRun) {
    __typename
    ... on BillRun { id period billCount totalAmount timesRun lastRunBillCount }
    ... on BillRunPreview { period billCount totalAmount unitsWithoutCharges
                            sample { unit { number } totalAmount lines { ruleCode amount explanation } } }
    ... on Error { code message field }
  }
}"""

RECORD_READING = """
mutation ($input: RecordMeterReadingInput!) {
  recordMeterReading(input: $input) {
    __typename
    ... on MeterReading { id reading usage flaggedForReview trailingAverage isReplacement }
    ... on Error { code message field }
  }
}"""

RECORD_PAYMENT = """
mutation ($input: RecordPaymentInput!) {
  recordPayment(input: $input) {
    __typename
    ... on Payment { id amount channel creditLeft
                     allocations { principal lateFee bill { id period status amountDue } }
                     receipt { id number } }
    ... on Error { code message field }
  }
}"""


async def assert_books_balance(state: AppState) -> None:
    async with state.session_factory() as session:
        project_ids = list(await session.scalars(select(Project.id).order_by(Project.id)))
        for project_id in project_ids:
            report = await check_project_ledger(session, project_id)
            assert report.ok, f"project {project_id}: {report.problems}"
            assert report.total_debit == report.total_credit
            assert await facts_discrepancies(session, project_id) == [], f"project {project_id}: the reports' facts"


@pytest.fixture(autouse=True)
async def books_balance(state: AppState) -> AsyncIterator[None]:
    """After every test: the ledger check passes on every project in the database, and the reports' facts
    equal what they summarise."""
    yield
    await assert_books_balance(state)


async def create_rule(client: httpx.AsyncClient, world: World, token: str, **fields: Any) -> str:
    """Create a fee rule in Lakeside and return its global id (fails the test on any error)."""
    payload = {"projectId": world.gid("Project:lakeside"), **fields}
    result = await gql(client, CREATE_RULE, {"input": payload}, token=token)
    assert "errors" not in result, result
    created = result["data"]["createFeeRule"]
    assert created["__typename"] == "FeeRule", created
    return str(created["id"])


async def standard_rules(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    """Property fee 2.80/m², tiered electricity (0–240, 240–400, 400+) and 100.00 of common-area
    electricity shared by floor area, all from 2026-01-01."""
    token = world.token("finance_a")
    return {
        "PROPERTY": await create_rule(
            client, world, token, code="PROPERTY", kind="PER_AREA", name="物业费 Property fee",
            effectiveFrom="2026-01-01", ratePerSquareMetre="2.80",
        ),
        "ELECTRICITY": await create_rule(
            client, world, token, code="ELECTRICITY", kind="METERED_TIERED", name="电费 Electricity",
            effectiveFrom="2026-01-01", meterType="electricity", tierPeriod="MONTH",
            tiers=[
                {"startsAt": "0", "upTo": "240", "unitPrice": "0.5283"},
                {"startsAt": "240", "upTo": "400", "unitPrice": "0.5783"},
                {"startsAt": "400", "unitPrice": "0.8283"},
            ],
        ),
        "COMMON": await create_rule(
            client, world, token, code="COMMON", kind="APPORTIONED", name="公摊电费 Common-area electricity",
            effectiveFrom="2026-01-01", apportionTotal="100.00", apportionBasis="AREA",
        ),
    }


async def run_billing(
    client: httpx.AsyncClient, world: World, period: str, *, dry_run: bool = False, token: str | None = None
) -> dict[str, Any]:
    result = await gql(
        client,
        RUN_BILLING,
        {"projectId": world.gid("Project:lakeside"), "period": period, "dryRun": dry_run},
        token=token or world.token("finance_a"),
    )
    assert "errors" not in result, result
    return result["data"]["runBilling"]  # type: ignore[no-any-return]


async def pay(
    client: httpx.AsyncClient, world: World, unit: str, amount: str, key: str, *, token: str | None = None, **extra: Any
) -> dict[str, Any]:
    payload = {
        "unitId": world.gid(f"Unit:{unit}"),
        "amount": amount,
        "channel": extra.pop("channel", "WECHAT"),
        "payerName": extra.pop("payerName", "王丽"),
        "idempotencyKey": key,
        **extra,
    }
    result = await gql(client, RECORD_PAYMENT, {"input": payload}, token=token or world.token("finance_a"))
    assert "errors" not in result, result
    return result["data"]["recordPayment"]  # type: ignore[no-any-return]


def reading_at(day: str, hour: int = 10) -> str:
    """A reading time in Shanghai (UTC+8) on `day`."""
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").isoformat()
