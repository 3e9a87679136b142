"""The morning reports through GraphQL on both databases: three months of a small project's books, booked
through the real use cases on a moving clock, against figures computed by hand to the fen and 0.01 %.

Lakeside's rules: property 2.80/m² and a fixed 50.00 service fee; A1 holds alice (88.50 m², 297.80 a
month) and bob (120.00 m², 386.00), A2 the vacant flat (75.25 m², 260.70) and the shop (150.00 m², 470.00).
Bills are issued on the first of the month after their period and fall due 15 days later:

    09-01  run 2026-08 (issued 09-01, due 09-16)     10-01  run 2026-09 (due 10-16): the shop's 130.00 credit applied
    09-05  alice pays 297.80 (WeChat)                10-08  bob pays 186.00 (Alipay): his August bill is paid off
    09-06  bob pays 200.00 (Alipay)                  10-09  alice pays 297.80 (WeChat) for September
    09-07  the shop pays 600.00 (cash): 130.00 ahead 10-20  bob's 09-06 payment is reversed: August owes 200.00 again
    09-10  a credit of 60.70 on the vacant flat's    10-21  the vacant flat pays 100.00 (POS) on August
           August bill                               11-01  run 2026-10 (due 11-16)
                                                     11-03  the shop pays 100.00 (bank transfer) on September
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from openpyxl import load_workbook
from sqlalchemy import select

from api.report_cli import report_export
from api.state import AppState
from billing.balance_sql import fen
from billing.journal import sum_fen
from billing.model import BillingPeriod
from billing.reports.ageing import ReceivableMovement, open_amounts_as_of
from billing.reports.collection import day_end
from billing.reports.per_bill import ageing_per_bill, collection_per_bill
from billing.reports.reading import (
    read_arrears_ageing,
    read_collection_rate,
    receivable_balances_sql,
)
from db.models import JournalEntry, JournalLine, Payment, PaymentReversal
from tests.conftest import Clock
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    create_rule,
    pay,
    run_billing,
)
from tests.integration.world import World, build_world, error_codes, gql

SHANGHAI = dt.timezone(dt.timedelta(hours=8))

COLLECTION = """
query ($p: ID!, $from: String!, $to: String!, $asOf: Date) {
  collectionRate(projectId: $p, from: $from, to: $to, asOf: $asOf) {
    asOf periods definition exportUrl
    totals { period receivable collected outstanding currentRate arrearsAtStart arrearsRecovered recoveryRate }
    byBuilding { period buildingName receivable collected currentRate arrearsAtStart arrearsRecovered recoveryRate }
    byFeeKind { period feeKind { code name } receivable collected currentRate arrearsAtStart arrearsRecovered }
    lines { period buildingId feeKind { code } receivable collected arrearsAtStart arrearsRecovered }
  }
}"""

AGEING = """
query ($p: ID!, $asOf: Date, $top: Int) {
  arrearsAgeing(projectId: $p, asOf: $asOf, top: $top) {
    asOf definition(language: EN) notYetDue unitsInArrears
    buckets { key label }
    total { days0To30 days31To90 days91To180 days181To365 over365 total }
    buildings { buildingName arrears { days0To30 days31To90 total } }
    topDebtors { number buildingName debtor bills oldestDueDate arrears { days0To30 days31To90 total } }
  }
}"""

INCOME = """
query ($p: ID!, $from: Date!, $to: Date!, $granularity: IncomeGranularity) {
  incomeReport(projectId: $p, from: $from, to: $to, granularity: $granularity) {
    buckets totalRevenue totalReceived
    revenueByFeeKind { key name amount }
    receivedByChannel { key name amount }
    revenue { bucket key amount }
    received { bucket key amount }
  }
}"""

BILL_IDS = """
query ($period: String!, $unit: ID!) { bills(filter: { period: $period, unitId: $unit }) { edges { node { id } } } }
"""

ADJUST = """
mutation ($input: CreateAdjustmentInput!) { createAdjustment(input: $input) { __typename ... on Error { message } } }
"""

REVERSE = """
mutation ($input: ReversePaymentInput!) { reversePayment(input: $input) { __typename ... on Error { message } } }
"""


def on(clock: Clock, day: str, hour: int = 10) -> None:
    """Move the clock to `day` at `hour` in Shanghai."""
    clock.now = dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


def d(text: str) -> Decimal:
    return Decimal(text)


async def _bill_id(client: httpx.AsyncClient, world: World, unit: str, period: str) -> str:
    result = await gql(client, BILL_IDS, {"period": period, "unit": world.gid(f"Unit:{unit}")}, token=world.token("finance_a"))
    return str(result["data"]["bills"]["edges"][0]["node"]["id"])


async def _three_months(client: httpx.AsyncClient, state: AppState, clock: Clock) -> World:
    on(clock, "2026-09-01", 9)
    world = await build_world(state)
    token = world.token("finance_a")
    await create_rule(client, world, token, code="PROPERTY", kind="PER_AREA", name="物业费 Property fee",
                      effectiveFrom="2026-01-01", ratePerSquareMetre="2.80")
    await create_rule(client, world, token, code="SERVICE", kind="FIXED", name="服务费 Service fee",
                      effectiveFrom="2026-01-01", amountPerCycle="50.00")
    await run_billing(client, world, "2026-08")
    on(clock, "2026-09-05")
    await pay(client, world, "alice", "297.80", "alice-aug")
    on(clock, "2026-09-06")
    bob_first = await pay(client, world, "bob", "200.00", "bob-aug", channel="ALIPAY")
    on(clock, "2026-09-07")
    await pay(client, world, "shop", "600.00", "shop-aug", channel="CASH", payerName="张记商行")
    on(clock, "2026-09-10")
    adjusted = await gql(
        client,
        ADJUST,
        {"input": {"billId": await _bill_id(client, world, "vacant", "2026-08"), "kind": "CREDIT", "amount": "60.70",
                   "reason": "空置期减免 vacancy"}},
        token=world.token("finance_a"),
    )
    assert adjusted["data"]["createAdjustment"]["__typename"] == "Adjustment", adjusted
    on(clock, "2026-10-01", 9)
    await run_billing(client, world, "2026-09", token=world.token("finance_a"))
    on(clock, "2026-10-08")
    await pay(client, world, "bob", "186.00", "bob-aug-rest", channel="ALIPAY", token=world.token("finance_a"))
    on(clock, "2026-10-09")
    await pay(client, world, "alice", "297.80", "alice-sep", token=world.token("finance_a"))
    on(clock, "2026-10-20")
    reversed_ = await gql(
        client, REVERSE, {"input": {"paymentId": bob_first["id"], "reason": "退票 bounced"}}, token=world.token("finance_a")
    )
    assert reversed_["data"]["reversePayment"]["__typename"] == "Refund", reversed_
    on(clock, "2026-10-21")
    await pay(client, world, "vacant", "100.00", "vacant-aug", channel="POS", payerName="开发商", token=world.token("finance_a"))
    on(clock, "2026-11-01", 9)
    await run_billing(client, world, "2026-10", token=world.token("finance_a"))
    on(clock, "2026-11-03")
    await pay(client, world, "shop", "100.00", "shop-sep", channel="BANK_TRANSFER", payerName="张记商行", token=world.token("finance_a"))
    on(clock, "2026-11-10", 18)
    return world


async def _collection(client: httpx.AsyncClient, world: World, as_of: str | None = None, **periods: str) -> dict[str, Any]:
    variables = {"p": world.gid("Project:lakeside"), "from": periods.get("first", "2026-08"), "to": periods.get("last", "2026-10"), "asOf": as_of}
    result = await gql(client, COLLECTION, variables, token=world.token("finance_a"))
    assert "errors" not in result, result
    return result["data"]["collectionRate"]  # type: ignore[no-any-return]


def _period(report: dict[str, Any], period: str) -> dict[str, Any]:
    return next(line for line in report["totals"] if line["period"] == period)


async def test_collection_rate_per_period_building_and_fee_kind_to_the_fen(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _three_months(client, state, clock)

    report = await _collection(client, world)

    assert report["asOf"] == "2026-11-10"
    assert report["periods"] == ["2026-08", "2026-09", "2026-10"]
    # August: 1,414.50 billed less the 60.70 credit; alice 297.80, bob 186.00 (200 + 186 − 200 reversed),
    # the vacant flat 100.00, the shop 470.00 (its 130.00 paid ahead is not August's)
    assert _period(report, "2026-08") == {
        "period": "2026-08", "receivable": "1353.80", "collected": "1053.80", "outstanding": "300.00",
        "currentRate": "0.7784", "arrearsAtStart": "0.00", "arrearsRecovered": "0.00", "recoveryRate": None,
    }
    # September: the shop's credit applied at the run (130.00) and its 100.00, alice's 297.80
    assert _period(report, "2026-09")["collected"] == "527.80"
    assert _period(report, "2026-09")["currentRate"] == "0.3731"
    # October: nothing paid on October's bills yet; its arrears are August's bills issued before 1 October:
    # bob's 186.00 and the vacant flat's 200.00; recovered during October: the vacant flat's 100.00 and
    # bob's −14.00 (186.00 paid on 10-08, 200.00 taken back on 10-20)
    assert _period(report, "2026-10") == {
        "period": "2026-10", "receivable": "1414.50", "collected": "0.00", "outstanding": "1414.50",
        "currentRate": "0.0000", "arrearsAtStart": "386.00", "arrearsRecovered": "86.00", "recoveryRate": "0.2228",
    }
    august_buildings = {line["buildingName"]: line for line in report["byBuilding"] if line["period"] == "2026-08"}
    assert (august_buildings["A1"]["receivable"], august_buildings["A1"]["collected"], august_buildings["A1"]["currentRate"]) == (
        "683.80", "483.80", "0.7075"
    )
    assert (august_buildings["A2"]["receivable"], august_buildings["A2"]["collected"], august_buildings["A2"]["currentRate"]) == (
        "670.00", "570.00", "0.8507"
    )
    august_kinds = {line["feeKind"]["code"]: line for line in report["byFeeKind"] if line["period"] == "2026-08"}
    assert (august_kinds["PROPERTY"]["receivable"], august_kinds["PROPERTY"]["collected"], august_kinds["PROPERTY"]["currentRate"]) == (
        "1214.50", "953.80", "0.7853"
    )
    assert (august_kinds["SERVICE"]["collected"], august_kinds["SERVICE"]["currentRate"]) == ("100.00", "0.5000")
    assert (august_kinds["ADJUSTMENT"]["feeKind"]["name"], august_kinds["ADJUSTMENT"]["receivable"]) == ("调整", "-60.70")
    assert august_kinds["ADJUSTMENT"]["currentRate"] is None
    assert august_kinds["PROPERTY"]["feeKind"]["name"] == "物业费 Property fee"
    for period in report["periods"]:
        for field in ("receivable", "collected", "arrearsAtStart", "arrearsRecovered"):
            for level in ("lines", "byBuilding", "byFeeKind"):
                summed = sum((d(line[field]) for line in report[level] if line["period"] == period), Decimal(0))
                assert summed == d(_period(report, period)[field]), (period, field, level)
    assert report["definition"].startswith("收缴率按账期计算")
    assert report["exportUrl"].startswith("/reports/")


async def test_prepaid_money_counts_only_once_a_bill_of_the_period_takes_it(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _three_months(client, state, clock)

    before_the_run = await _collection(client, world, "2026-09-30", last="2026-09")
    after_the_run = await _collection(client, world, "2026-10-01", last="2026-09")

    # the shop's 130.00 paid ahead on 09-07 is nobody's collection until the September run applies it
    assert _period(before_the_run, "2026-08")["collected"] == "967.80"  # 297.80 + 200.00 + 470.00
    assert _period(before_the_run, "2026-09")["receivable"] == "0.00"
    assert _period(after_the_run, "2026-09")["collected"] == "130.00"


async def test_as_of_a_day_before_any_payment_nothing_is_collected(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _three_months(client, state, clock)

    report = await _collection(client, world, "2026-09-04", last="2026-08")

    assert _period(report, "2026-08")["receivable"] == "1414.50"
    assert _period(report, "2026-08")["collected"] == "0.00"


async def test_arrears_ageing_is_read_back_from_the_journal_to_any_day(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _three_months(client, state, clock)

    today = (await gql(client, AGEING, {"p": world.gid("Project:lakeside"), "top": 2}, token=world.token("finance_a")))["data"][
        "arrearsAgeing"
    ]
    earlier = (
        await gql(client, AGEING, {"p": world.gid("Project:lakeside"), "asOf": "2026-10-15"}, token=world.token("admin_a"))
    )["data"]["arrearsAgeing"]

    # 10 November: September's bills (due 10-16) are 25 days past due, August's (due 09-16) 55 days
    assert today["total"] == {
        "days0To30": "886.70", "days31To90": "300.00", "days91To180": "0.00", "days181To365": "0.00", "over365": "0.00",
        "total": "1186.70",
    }
    assert today["notYetDue"] == "1414.50"  # October's bills, due 11-16
    assert today["unitsInArrears"] == 3
    assert [(u["number"], u["debtor"], u["bills"], u["oldestDueDate"], u["arrears"]["total"]) for u in today["topDebtors"]] == [
        ("102", "李强", 2, "2026-09-16", "586.00"),
        ("201", None, 2, "2026-09-16", "360.70"),
    ]
    assert {b["buildingName"]: b["arrears"]["total"] for b in today["buildings"]} == {"A1": "586.00", "A2": "600.70"}
    assert [bucket["label"] for bucket in today["buckets"]] == ["0–30天", "31–90天", "91–180天", "181–365天", "365天以上"]
    # 15 October: bob's August bill was paid then (its reversal came on 10-20), the vacant flat's still owed
    # 200.00 (14 days before its payment), and September's bills were not due until the 16th
    assert earlier["total"]["days0To30"] == "200.00"
    assert earlier["total"]["total"] == "200.00"
    assert earlier["notYetDue"] == "986.70"
    assert earlier["definition"].startswith("Arrears as the journal stood")


async def test_income_by_fee_kind_and_channel_equals_the_journal_and_the_payments(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _three_months(client, state, clock)

    result = await gql(
        client,
        INCOME,
        {"p": world.gid("Project:lakeside"), "from": "2026-09-01", "to": "2026-11-10", "granularity": "MONTH"},
        token=world.token("finance_a"),
    )
    report = result["data"]["incomeReport"]

    assert report["buckets"] == ["2026-09", "2026-10", "2026-11"]
    assert {line["key"]: line["amount"] for line in report["revenueByFeeKind"]} == {
        "PROPERTY": "3643.50", "SERVICE": "600.00", "ADJUSTMENT": "-60.70"
    }
    assert report["totalRevenue"] == "4182.80"
    assert {line["key"]: (line["name"], line["amount"]) for line in report["receivedByChannel"]} == {
        "ALIPAY": ("支付宝", "186.00"), "BANK_TRANSFER": ("银行转账", "100.00"), "CASH": ("现金", "600.00"),
        "POS": ("刷卡（POS）", "100.00"), "WECHAT": ("微信支付", "595.60"),
    }
    assert {line["bucket"]: line["amount"] for line in report["received"] if line["key"] == "ALIPAY"} == {
        "2026-09": "200.00", "2026-10": "-14.00"
    }
    async with state.session_factory() as session:
        income_accounts = await session.scalar(
            select(sum_fen(fen(JournalLine.credit) - fen(JournalLine.debit)))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(
                JournalEntry.project_id == world.ids["Project:lakeside"],
                JournalLine.account.startswith("INCOME:") | JournalLine.account.in_(["LATE_FEE_INCOME", "ADJUSTMENTS"]),
            )
        )
        paid = await session.scalar(select(sum_fen(fen(Payment.amount))).where(Payment.project_id == world.ids["Project:lakeside"]))
        given_back = await session.scalar(select(sum_fen(fen(PaymentReversal.amount))))
    assert d(report["totalRevenue"]) == Decimal(income_accounts).scaleb(-2)
    assert d(report["totalReceived"]) == Decimal(paid - given_back).scaleb(-2)


async def test_bad_input_names_the_argument_and_other_projects_answer_null(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    on(clock, "2026-09-01")
    world = await build_world(state)
    lakeside = world.gid("Project:lakeside")

    malformed = await gql(client, COLLECTION, {"p": lakeside, "from": "2026-13", "to": "2026-10"}, token=world.token("finance_a"))
    backwards = await gql(client, COLLECTION, {"p": lakeside, "from": "2026-08", "to": "2026-01"}, token=world.token("finance_a"))
    too_long = await gql(client, COLLECTION, {"p": lakeside, "from": "2020-01", "to": "2026-01"}, token=world.token("finance_a"))
    future = await gql(client, AGEING, {"p": lakeside, "asOf": "2026-09-02"}, token=world.token("finance_a"))
    too_many = await gql(client, AGEING, {"p": lakeside, "top": 101}, token=world.token("finance_a"))
    year_by_day = await gql(client, INCOME, {"p": lakeside, "from": "2025-01-01", "to": "2026-08-31"}, token=world.token("finance_a"))
    ancient = await gql(client, COLLECTION, {"p": lakeside, "from": "0001-01", "to": "0001-02"}, token=world.token("finance_a"))
    far_ahead = await gql(client, COLLECTION, {"p": lakeside, "from": "9999-11", "to": "9999-12"}, token=world.token("finance_a"))
    year_one = await gql(client, AGEING, {"p": lakeside, "asOf": "0001-01-01"}, token=world.token("finance_a"))
    tomorrow = await gql(client, INCOME, {"p": lakeside, "from": "2026-09-01", "to": "2026-09-02"}, token=world.token("finance_a"))
    foreign = await gql(client, AGEING, {"p": world.gid("Project:hillside")}, token=world.token("finance_a"))
    owner = await gql(client, AGEING, {"p": lakeside}, token=world.token("alice"))

    for answer, field in (
        (malformed, "from"), (backwards, "to"), (too_long, "to"), (future, "asOf"), (too_many, "top"), (year_by_day, "to"),
        (ancient, "from"), (far_ahead, "from"), (year_one, "asOf"), (tomorrow, "to"),
    ):
        assert error_codes(answer) == ["BAD_USER_INPUT"], answer
        assert answer["errors"][0]["extensions"]["field"] == field
    assert foreign == {"data": {"arrearsAgeing": None}}
    assert error_codes(owner) == ["FORBIDDEN"]


async def test_the_sql_of_open_amounts_is_the_twin_of_the_cores_reading_of_the_postings(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _three_months(client, state, clock)
    project = world.ids["Project:lakeside"]

    async with state.session_factory() as session:
        postings = [
            ReceivableMovement(bill_id, at, Decimal(int(debit) - int(credit)).scaleb(-2))
            for bill_id, at, debit, credit in await session.execute(
                select(JournalLine.bill_id, JournalEntry.occurred_at, fen(JournalLine.debit), fen(JournalLine.credit))
                .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                .where(JournalEntry.project_id == project, JournalLine.account == "RECEIVABLE", JournalLine.bill_id.is_not(None))
            )
        ]
        for day in ("2026-08-31", "2026-09-01", "2026-09-06", "2026-10-01", "2026-10-20", "2026-11-10"):
            cutoff = day_end(dt.date.fromisoformat(day), ZoneInfo("Asia/Shanghai"))
            in_sql = {
                bill_id: Decimal(int(balance)).scaleb(-2)
                for bill_id, balance in await session.execute(receivable_balances_sql(project, cutoff))
            }
            in_python = {bill_id: amount for bill_id, amount in open_amounts_as_of(postings, cutoff).items() if amount != 0}
            assert in_sql == in_python, day


def _workbook(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"].startswith("attachment;")
    return load_workbook(BytesIO(response.content), read_only=True)


def _yuan(value: object) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


async def test_each_export_holds_the_totals_graphql_answers(client: httpx.AsyncClient, state: AppState, clock: Clock) -> None:
    world = await _three_months(client, state, clock)
    finance = {"Authorization": f"Bearer {world.token('finance_a')}"}
    project = world.gid("Project:lakeside")
    collection = await _collection(client, world, "2026-10-31")
    ageing = (await gql(client, AGEING, {"p": project}, token=world.token("finance_a")))["data"]["arrearsAgeing"]
    income_query = "query ($p: ID!) { incomeReport(projectId: $p, from: \"2026-09-01\", to: \"2026-11-10\") { exportUrl totalRevenue totalReceived } }"
    income = (await gql(client, income_query, {"p": project}, token=world.token("finance_a")))["data"]["incomeReport"]
    ageing_url = (await gql(client, "query ($p: ID!) { arrearsAgeing(projectId: $p) { exportUrl } }", {"p": project}, token=world.token("finance_a")))[
        "data"
    ]["arrearsAgeing"]["exportUrl"]

    collection_book = _workbook(await client.get(collection["exportUrl"], headers=finance))
    ageing_book = _workbook(await client.get(ageing_url, headers=finance))
    income_book = _workbook(await client.get(income["exportUrl"], headers=finance))

    assert collection["exportUrl"] == f"/reports/{world.ids['Project:lakeside']}/collection.xlsx?from=2026-08&to=2026-10&asOf=2026-10-31"
    period_totals = {
        row[0]: [_yuan(value) for value in row[3:6]] + [_yuan(value) for value in row[7:9]]
        for row in collection_book["收缴率"].iter_rows(min_row=2, values_only=True)
        if row[1] == row[2] == "合计"
    }
    assert period_totals == {
        line["period"]: [line["receivable"], line["collected"], line["outstanding"], line["arrearsAtStart"], line["arrearsRecovered"]]
        for line in collection["totals"]
    }
    units = list(ageing_book["分户欠费"].iter_rows(min_row=2, values_only=True))
    assert [_yuan(value) for value in units[-1][5:]] == [
        ageing["total"][key] for key in ("days0To30", "days31To90", "days91To180", "days181To365", "over365", "total")
    ]
    assert [(row[1], row[2]) for row in units[:-1]] == [("102", "李强"), ("201", None), ("S01", None)]  # no party billed for 201, S01
    revenue, received = list(income_book["计费收入"].iter_rows(values_only=True)), list(income_book["实收"].iter_rows(values_only=True))
    assert _yuan(revenue[-1][-1]) == income["totalRevenue"] == "4182.80"
    assert _yuan(received[-1][-1]) == income["totalReceived"] == "1581.60"
    assert len(revenue) == 1 + 71 + 1  # a row for every day from 1 September to 10 November, and the totals


async def test_an_export_answers_like_the_reports_refusals(client: httpx.AsyncClient, state: AppState, clock: Clock) -> None:
    on(clock, "2026-09-01")
    world = await build_world(state)
    lakeside, hillside = world.ids["Project:lakeside"], world.ids["Project:hillside"]

    def get(path: str, user: str | None = "finance_a") -> Any:
        headers = {"Authorization": f"Bearer {world.token(user)}"} if user else {}
        return client.get(path, headers=headers)

    anonymous = await get(f"/reports/{lakeside}/ageing.xlsx", None)
    owner = await get(f"/reports/{lakeside}/ageing.xlsx", "alice")
    dispatcher = await get(f"/reports/{lakeside}/ageing.xlsx", "dispatcher_a")
    foreign = await get(f"/reports/{hillside}/ageing.xlsx")
    unknown = await get(f"/reports/{lakeside}/payroll.xlsx")
    missing = await get(f"/reports/{lakeside}/collection.xlsx?from=2026-08")
    malformed = await get(f"/reports/{lakeside}/income.xlsx?from=2026-08-01&to=yesterday")
    monthly = await get(f"/reports/{lakeside}/income.xlsx?from=2026-08-01&to=2026-08-31&granularity=WEEK")

    assert [r.status_code for r in (anonymous, owner, dispatcher, foreign, unknown)] == [401, 403, 403, 404, 404]
    assert [(r.status_code, r.json()["error"]["field"]) for r in (missing, malformed, monthly)] == [
        (400, "to"), (400, "to"), (400, "granularity")
    ]
    assert not list(Path(tempfile.gettempdir()).glob("courtyard-report-*.xlsx"))  # refused exports leave no file behind


async def test_the_command_line_writes_the_same_export(
    client: httpx.AsyncClient, state: AppState, clock: Clock, tmp_path: Path
) -> None:
    await _three_months(client, state, clock)
    output = tmp_path / "ageing.xlsx"

    written = await report_export(
        state.settings, report="ageing", project="Lakeside", output=output, arguments={"asOf": "2026-10-15"}, now=clock.now
    )
    refused = await report_export(
        state.settings, report="collection", project="Lakeside", output=tmp_path / "x.xlsx", arguments={"from": "2026-08"}, now=clock.now
    )

    assert (written, refused) == (0, 1)
    assert not (tmp_path / "x.xlsx").exists()
    buildings = list(load_workbook(output, read_only=True)["欠费账龄"].iter_rows(values_only=True))
    assert (buildings[-1][0], _yuan(buildings[-1][-1])) == ("合计", "200.00")


async def test_the_finance_pages_charts_are_svg_drawn_from_the_reports(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _three_months(client, state, clock)
    base = f"/reports/{world.ids['Project:lakeside']}/charts"
    finance = {"Authorization": f"Bearer {world.token('finance_a')}"}

    by_month = await client.get(f"{base}/collection-by-month.svg?from=2026-08&to=2026-10", headers=finance)
    by_building = await client.get(f"{base}/collection-by-building.svg?from=2026-08&to=2026-08&lang=en", headers=finance)
    ageing = await client.get(f"{base}/ageing.svg", headers=finance)
    income = await client.get(f"{base}/income-by-channel.svg?from=2026-09-01&to=2026-11-10&granularity=MONTH", headers=finance)
    unknown = await client.get(f"{base}/pie.svg", headers=finance)
    refused = await client.get(f"{base}/ageing.svg?asOf=someday", headers=finance)
    owner = await client.get(f"{base}/ageing.svg", headers={"Authorization": f"Bearer {world.token('alice')}"})

    for answer in (by_month, by_building, ageing, income):
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert answer.text.startswith("<svg") and "<script" not in answer.text
    assert "收缴率（按账期）" in by_month.text and "77.84%" in by_month.text and "22.28%" in by_month.text
    assert "Collection rate by building, 2026-08" in by_building.text and "70.75%" in by_building.text
    assert "¥886.70" in ageing.text and "31–90天" in ageing.text
    assert "微信支付" in income.text and "¥297.80" in income.text
    assert (unknown.status_code, refused.status_code, refused.json()["error"]["field"], owner.status_code) == (404, 400, "asOf", 403)


async def test_the_ageing_the_database_buckets_is_the_ageing_the_core_computes_bill_by_bill(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _three_months(client, state, clock)
    project = world.ids["Project:lakeside"]
    zone = ZoneInfo("Asia/Shanghai")
    now = clock.now

    for day in ("2026-08-31", "2026-09-06", "2026-09-16", "2026-09-17", "2026-10-17", "2026-10-20", "2026-11-03", "2026-11-10"):
        as_of = dt.date.fromisoformat(day)
        in_sql = (
            await read_arrears_ageing(state.session_factory, None, project_id=project, as_of=as_of, top=2, now=now)
        ).report
        async with state.session_factory() as session:
            per_bill = await ageing_per_bill(session, project_id=project, as_of=as_of, zone=zone, top=2)
        assert in_sql == per_bill, day
    assert per_bill.total.total > 0 and per_bill.not_yet_due > 0  # the last day has both arrears and bills not yet due


async def test_the_collection_the_database_sums_is_the_collection_the_core_computes_bill_by_bill(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _three_months(client, state, clock)
    project = world.ids["Project:lakeside"]
    zone = ZoneInfo("Asia/Shanghai")
    months = [BillingPeriod.parse(f"2026-{month:02d}") for month in range(7, 13)]

    for day in ("2026-08-31", "2026-09-01", "2026-09-06", "2026-09-30", "2026-10-01", "2026-10-08", "2026-10-20", "2026-10-31", "2026-11-03", "2026-11-10"):
        as_of = dt.date.fromisoformat(day)
        for periods in (months, months[1:3], months[2:3], months[3:5]):
            in_sql = (
                await read_collection_rate(
                    state.session_factory, None, project_id=project, first_period=periods[0].label,
                    last_period=periods[-1].label, as_of=as_of, now=clock.now,
                )
            ).report
            async with state.session_factory() as session:
                per_bill = await collection_per_bill(session, project_id=project, periods=periods, as_of=as_of, zone=zone)
            assert in_sql == per_bill, (day, [period.label for period in periods])
    # The last reading has both kinds of figure, and a credit adjustment, to agree on.
    assert per_bill.total_of("2026-10").arrears_recovered > 0
    assert any(line.fee_kind == "ADJUSTMENT" for line in in_sql.cells)
