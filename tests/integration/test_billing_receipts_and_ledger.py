"""Receipts (numbers, signatures, PDF) and ledgerCheck, through GraphQL and HTTP, on both databases."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import httpx
from sqlalchemy import delete

from api.state import AppState
from db.models import JournalEntry, JournalLine
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, error_codes, gql

RECEIPT = """
query ($id: ID!) { node(id: $id) { ... on Payment { receipt { id number content signature pdfUrl } } } }
"""

VERIFY = """
query ($content: String!, $signature: String!) {
  verifyReceipt(content: $content, signature: $signature) { genuine reason receipt { number } }
}"""

LEDGER = """
query ($projectId: ID!) {
  ledgerCheck(projectId: $projectId) { ok totalDebit totalCredit billsChecked paymentsChecked problems }
}"""


async def _paid_world(client: httpx.AsyncClient, state: AppState) -> tuple[World, list[dict[str, str]]]:
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    payments = [await pay(client, world, "alice", "100.00", "a1"), await pay(client, world, "bob", "363.67", "b1")]
    return world, payments


async def _receipt(client: httpx.AsyncClient, world: World, payment_id: str) -> dict[str, str]:
    result = await gql(client, RECEIPT, {"id": payment_id}, token=world.token("finance_a"))
    return result["data"]["node"]["receipt"]  # type: ignore[no-any-return]


async def test_receipts_are_numbered_in_sequence_per_project_with_canonical_signed_content(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world, payments = await _paid_world(client, state)

    first, second = [await _receipt(client, world, p["id"]) for p in payments]

    assert (first["number"], second["number"]) == ("R-000001", "R-000002")
    content = json.loads(first["content"])
    assert content["payment"]["amount"] == "100.00"
    assert content["allocations"] == [
        {"bill": content["allocations"][0]["bill"], "period": "2026-11", "lateFee": "0.00", "principal": "100.00"}
    ]
    assert content["unit"] == {"id": world.ids["Unit:alice"], "building": "A1", "number": "101"}
    assert first["content"] == json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def test_verify_receipt_tells_a_genuine_receipt_from_an_altered_one(client: httpx.AsyncClient, state: AppState) -> None:
    world, payments = await _paid_world(client, state)
    receipt = await _receipt(client, world, payments[0]["id"])
    altered = receipt["content"].replace('"amount":"100.00"', '"amount":"1000.00"')

    genuine = await gql(client, VERIFY, {"content": receipt["content"], "signature": receipt["signature"]}, token=world.token("alice"))
    forged = await gql(client, VERIFY, {"content": altered, "signature": receipt["signature"]}, token=world.token("alice"))
    as_bob = await gql(client, VERIFY, {"content": receipt["content"], "signature": receipt["signature"]}, token=world.token("bob"))

    assert genuine["data"]["verifyReceipt"] == {"genuine": True, "reason": "Genuine and unaltered.", "receipt": {"number": "R-000001"}}
    assert forged["data"]["verifyReceipt"]["genuine"] is False
    # bob may learn that the receipt is genuine, not read it
    assert as_bob["data"]["verifyReceipt"]["genuine"] is True
    assert as_bob["data"]["verifyReceipt"]["receipt"] is None


async def test_the_receipt_pdf_is_served_to_the_owner_and_finance_only(client: httpx.AsyncClient, state: AppState) -> None:
    world, payments = await _paid_world(client, state)
    receipt = await _receipt(client, world, payments[0]["id"])

    def get(user: str | None) -> object:
        headers = {"Authorization": f"Bearer {world.token(user)}"} if user else {}
        return client.get(receipt["pdfUrl"], headers=headers)

    owner, finance, admin, other_owner, dispatcher, anonymous = [
        await get(user) for user in ("alice", "finance_a", "admin_a", "bob", "dispatcher_a", None)  # type: ignore[misc]
    ]

    assert owner.status_code == 200  # type: ignore[attr-defined]
    assert owner.headers["content-type"] == "application/pdf"  # type: ignore[attr-defined]
    assert owner.content.startswith(b"%PDF")  # type: ignore[attr-defined]
    assert (finance.status_code, admin.status_code) == (200, 200)  # type: ignore[attr-defined]
    assert (other_owner.status_code, dispatcher.status_code, anonymous.status_code) == (404, 404, 401)  # type: ignore[attr-defined]


async def test_ledger_check_answers_the_totals_and_names_every_discrepancy(client: httpx.AsyncClient, state: AppState) -> None:
    # given a billed and partly paid project
    world, _ = await _paid_world(client, state)
    variables = {"projectId": world.gid("Project:lakeside")}

    balanced = await gql(client, LEDGER, variables, token=world.token("finance_a"))

    # when someone slips a one-sided posting into the journal
    async with state.session_factory() as session, session.begin():
        entry = JournalEntry(
            project_id=world.ids["Project:lakeside"], kind="MANUAL", description="tampering", occurred_at=dt.datetime.now(dt.UTC)
        )
        session.add(entry)
        await session.flush()
        session.add(JournalLine(entry_id=entry.id, line_no=1, account="RECEIVABLE", bill_id=None, debit=Decimal("5.00"), credit=Decimal(0)))
    tampered = await gql(client, LEDGER, variables, token=world.token("admin_a"))
    async with state.session_factory() as session, session.begin():
        await session.execute(delete(JournalLine).where(JournalLine.entry_id == entry.id))
        await session.execute(delete(JournalEntry).where(JournalEntry.id == entry.id))

    # then
    check = balanced["data"]["ledgerCheck"]
    assert check["ok"] is True
    assert check["totalDebit"] == check["totalCredit"]
    # bills 1,314.50 + payments 463.67 twice (into prepaid credit, then onto the bills)
    assert Decimal(check["totalDebit"]) == Decimal("1314.50") + 2 * Decimal("463.67")
    assert (check["billsChecked"], check["paymentsChecked"], check["problems"]) == (4, 2, [])
    bad = tampered["data"]["ledgerCheck"]
    assert bad["ok"] is False
    assert bad["problems"][0].startswith("debits ")
    assert any(problem.startswith(f"journal entry {entry.id}:") for problem in bad["problems"])


async def test_ledger_check_is_for_finance_and_admins(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    variables = {"projectId": world.gid("Project:lakeside")}

    as_owner = await gql(client, LEDGER, variables, token=world.token("alice"))
    as_other_admin = await gql(client, LEDGER, variables, token=world.token("admin_b"))
    anonymous = await gql(client, LEDGER, variables)

    assert error_codes(as_owner) == ["FORBIDDEN"]
    assert as_other_admin["data"]["ledgerCheck"] is None
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
