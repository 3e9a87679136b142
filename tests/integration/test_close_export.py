"""The daily close as a workbook, downloaded over HTTP and written by the command line, on SQLite and
PostgreSQL: its figures and totals are GraphQL's `dailyCloses`, its open exceptions the account's, and
only FINANCE and ADMIN of the project get it.

Lakeside's planted day (tests/integration/test_reconciliation.py): 2026-11-01 closed with a sign-off,
2026-11-02 and 2026-11-03 closed clean, 2026-11-04 not closed.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openpyxl  # type: ignore[import-untyped]
from strawberry import relay

from api.billing_routes import XLSX_MEDIA_TYPE
from api.reconcile_cli import reconcile_export
from api.state import AppState
from billing.reconciliation.close_workbook import CLOSE_HEADINGS, EXCEPTION_HEADINGS, EXCEPTION_KIND_NAMES, WORDS, YUAN
from kernel.vocabulary import Locale
from tests.conftest import Clock
from tests.integration.billing_world import books_balance  # noqa: F401  (autouse: the books balance after every test)
from tests.integration.test_reconciliation import BANK, CLOSE, WECHAT, _month, _reconcile
from tests.integration.world import World, gql

CLOSES = """
query ($p: ID!, $from: Date, $to: Date) {
  dailyCloses(projectId: $p, from: $from, to: $to) {
    account { name } day openingBalance closingBalance matchedCount matchedAmount exceptionCount exceptionAmount
    openExceptionCount openExceptionAmount signOffReason
  }
}"""
OPEN_EXCEPTIONS = """
query ($p: ID!) {
  reconciliationExceptions(projectId: $p, filter: {status: OPEN}, first: 100) { edges { node { id kind lines { account } } } }
}"""
PERIOD = {"from": "2026-11-01", "to": "2026-11-04"}
FIGURES = (
    "openingBalance", "closingBalance", "matchedCount", "matchedAmount", "exceptionCount", "exceptionAmount",
    "openExceptionCount", "openExceptionAmount",
)  # fmt: skip


async def _closed(client: httpx.AsyncClient, state: AppState, clock: Clock) -> tuple[World, dict[str, str]]:
    world, accounts, _ = await _month(client, state, clock)
    await _reconcile(client, world)
    project, token = world.gid("Project:lakeside"), world.token("finance_a")
    for day, reason in (("2026-11-01", "渠道单边账待补录，已报财务经理"), ("2026-11-02", None), ("2026-11-03", None)):
        closed = await gql(client, CLOSE, {"p": project, "day": day, "reason": reason}, token=token)
        assert closed["data"]["closeReconciliationDay"]["__typename"] == "CloseReconciliationDayPayload", closed
    return world, accounts


def _pk(global_id: str) -> int:
    return int(relay.GlobalID.from_id(global_id).node_id)


async def _download(client: httpx.AsyncClient, account: str, token: str | None, **query: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.get(f"/reconciliation/accounts/{_pk(account)}/closes.xlsx", params=query or PERIOD, headers=headers)


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


async def _graphql_closes(client: httpx.AsyncClient, world: World, account: str) -> list[dict[str, Any]]:
    closes = await gql(client, CLOSES, {"p": world.gid("Project:lakeside"), **PERIOD}, token=world.token("finance_a"))
    return [close for close in closes["data"]["dailyCloses"] if close["account"]["name"] == account]


def _days_sheet(content: bytes) -> tuple[list[list[Any]], list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content))["日结报告"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    return rows[:-1], rows[-1]


async def test_the_workbook_of_each_account_holds_the_closes_graphql_reports_and_their_totals(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world, accounts = await _closed(client, state, clock)

    for name, account in ((WECHAT, accounts["wechat"]), (BANK, accounts["bank"])):
        response = await _download(client, account, world.token("finance_a"))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == XLSX_MEDIA_TYPE
        assert response.headers["content-disposition"].startswith(f'attachment; filename="daily-closes-{_pk(account)}-20261101-20261104.xlsx"')
        days, totals = _days_sheet(response.content)
        graphql = await _graphql_closes(client, world, name)

        assert [row[0].date() for row in days] == [dt.date(2026, 11, 1) + dt.timedelta(days=n) for n in range(4)]
        assert [row[1] for row in days] == ["已关账（签字放行）", "已关账", "已关账", "未关账"]
        for row, close in zip(days, graphql, strict=False):
            assert [_money(value) for value in row[2:10]] == [_money(close[figure]) for figure in FIGURES], (name, close["day"])
            assert row[12] == close["signOffReason"]
            assert row[10] == "finance_a"
        assert days[3][2:] == [None] * (len(CLOSE_HEADINGS) - 2)
        assert totals[0] == "合计"
        assert _money(totals[2]) == _money(graphql[0]["openingBalance"])
        assert _money(totals[3]) == _money(graphql[-1]["closingBalance"])
        for position, figure in enumerate(FIGURES[2:], start=4):
            assert _money(totals[position]) == sum(_money(close[figure]) for close in graphql), (name, figure)


async def test_the_open_exceptions_sheet_lists_the_accounts_open_exceptions_in_words(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world, accounts = await _closed(client, state, clock)
    found = await gql(client, OPEN_EXCEPTIONS, {"p": world.gid("Project:lakeside")}, token=world.token("finance_a"))
    on_bank = {
        _pk(edge["node"]["id"])
        for edge in found["data"]["reconciliationExceptions"]["edges"]
        if any(line["account"] == BANK for line in edge["node"]["lines"])
    }
    everything = {_pk(edge["node"]["id"]): edge["node"]["kind"] for edge in found["data"]["reconciliationExceptions"]["edges"]}
    kind_of_name = {name: kind for kind, name in EXCEPTION_KIND_NAMES.items()}

    for account, expected in (("wechat", set(everything) - on_bank), ("bank", on_bank)):
        workbook = openpyxl.load_workbook(io.BytesIO((await _download(client, accounts[account], world.token("finance_a"))).content))
        sheet = workbook["未结差异"]
        assert [cell.value for cell in sheet[1]] == list(EXCEPTION_HEADINGS) and sheet.freeze_panes == "A2"
        rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
        assert {row[0] for row in rows} == expected, account
        assert all(kind_of_name[row[2]] == everything[row[0]] for row in rows)
        assert all(row[5] and sheet.cell(row=n, column=4).number_format == YUAN for n, row in enumerate(rows, start=2))
    assert len(everything) == 6 and len(on_bank) == 1


async def test_only_finance_and_admin_of_the_project_download_it(client: httpx.AsyncClient, state: AppState, clock: Clock) -> None:
    world, accounts = await _closed(client, state, clock)
    wechat = accounts["wechat"]

    answers = {user: (await _download(client, wechat, world.token(user))).status_code for user in world.users}
    anonymous = await _download(client, wechat, None)

    assert answers == {
        "admin_a": 200, "finance_a": 200, "dispatcher_a": 404, "tech_a": 404, "alice": 404, "bob": 404, "admin_b": 404, "carol": 404,
    }  # fmt: skip
    assert anonymous.status_code == 401


async def test_a_period_given_wrongly_names_the_field(client: httpx.AsyncClient, state: AppState, clock: Clock) -> None:
    world, accounts = await _closed(client, state, clock)
    token = world.token("finance_a")

    not_a_day = await _download(client, accounts["wechat"], token, **{"from": "2026-13-01", "to": "2026-11-04"})
    no_end = await _download(client, accounts["wechat"], token, **{"from": "2026-11-01"})
    backwards = await _download(client, accounts["wechat"], token, **{"from": "2026-11-04", "to": "2026-11-01"})
    too_long = await _download(client, accounts["wechat"], token, **{"from": "2025-01-01", "to": "2026-11-01"})

    assert [(r.status_code, r.json()["error"]["code"], r.json()["error"]["field"]) for r in (not_a_day, no_end, backwards, too_long)] == [
        (400, "BAD_USER_INPUT", "from"),
        (400, "BAD_USER_INPUT", "to"),
        (400, "BAD_USER_INPUT", "to"),
        (400, "BAD_USER_INPUT", "to"),
    ]


async def test_the_command_line_writes_the_same_workbook(
    client: httpx.AsyncClient, state: AppState, clock: Clock, tmp_path: Path, capsys: Any
) -> None:
    world, accounts = await _closed(client, state, clock)
    output = tmp_path / "closes.xlsx"
    first, last = dt.date(2026, 11, 1), dt.date(2026, 11, 4)

    written = await reconcile_export(
        state.settings, account=WECHAT, project=world.gid("Project:lakeside"), first_day=first, last_day=last, output=output
    )
    unknown = await reconcile_export(
        state.settings, account="no-such-account", project=None, first_day=first, last_day=last, output=tmp_path / "x.xlsx"
    )

    assert (written, unknown) == (0, 1)
    assert "3 of 4 days closed, 5 exceptions open" in capsys.readouterr().out
    downloaded = (await _download(client, accounts["wechat"], world.token("finance_a"))).content
    assert _days_sheet(output.read_bytes()) == _days_sheet(downloaded)
    assert not (tmp_path / "x.xlsx").exists()


async def test_with_lang_en_the_workbook_speaks_english_and_holds_the_same_figures(
    client: httpx.AsyncClient, state: AppState, clock: Clock, tmp_path: Path
) -> None:
    world, accounts = await _closed(client, state, clock)
    token, english = world.token("finance_a"), WORDS[Locale.EN]

    response = await _download(client, accounts["wechat"], token, **PERIOD, lang="en")
    chinese = openpyxl.load_workbook(io.BytesIO((await _download(client, accounts["wechat"], token)).content))
    output = tmp_path / "closes-en.xlsx"
    written = await reconcile_export(
        state.settings, account=WECHAT, project=world.gid("Project:lakeside"), first_day=dt.date(2026, 11, 1),
        last_day=dt.date(2026, 11, 4), output=output, lang="en",
    )

    assert response.status_code == 200 and "daily-closes-" in response.headers["content-disposition"].split("filename*=")[1]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Daily closes", "Open exceptions"]
    days, exceptions = workbook["Daily closes"], workbook["Open exceptions"]
    assert [cell.value for cell in days[1]] == list(english.close_headings)
    assert [cell.value for cell in exceptions[1]] == list(english.exception_headings) and days.freeze_panes == "A2"
    rows = [[cell.value for cell in row] for row in days.iter_rows(min_row=2)]
    assert [row[1] for row in rows] == ["Closed (signed off)", "Closed", "Closed", "Open", "3 days closed, 1 open"]
    assert rows[-1][0] == "Total"
    chinese_rows = [[cell.value for cell in row] for row in chinese["日结报告"].iter_rows(min_row=2)]
    assert [row[2:10] for row in rows] == [row[2:10] for row in chinese_rows]  # the same figures, to the fen
    opened = [[cell.value for cell in row] for row in exceptions.iter_rows(min_row=2)]
    assert {row[2] for row in opened} <= set(english.kind_names.values()) and len(opened) == 5
    assert all(row[4] in ("yes", "no", None) for row in opened)
    unreceived = next(row for row in opened if row[2] == "Not received")
    assert "not received" in unreceived[5] and unreceived[7].startswith("payment ")
    assert written == 0 and openpyxl.load_workbook(output).sheetnames == ["Daily closes", "Open exceptions"]
