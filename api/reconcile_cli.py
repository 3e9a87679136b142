"""`courtyard reconcile import FILE --account …`, `courtyard reconcile close --date … --project …`,
`courtyard reconcile export --account … --from … --to … --output FILE.xlsx [--lang en]` and
`courtyard reconcile sandbox-statement --date … --project … [--channel wechat|alipay] --output FILE`.

They call the same use cases as the API. The command line acts on the system's own authority (whoever
runs it has the database), except for signing off a day closed with open exceptions: that is a person's
decision, so `--signed-off-by EMAIL` names a FINANCE or ADMIN user of the project, whose roles are checked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from strawberry import relay

from api.billing_cli import _database_reference
from api.settings import Settings
from billing.reconciliation.accounts import find_account
from billing.reconciliation.alipay import parse_alipay_bill
from billing.reconciliation.close_report import close_report
from billing.reconciliation.close_workbook import write_close_workbook
from billing.reconciliation.closing import close_day
from billing.reconciliation.importing import MAX_STATEMENT_BYTES, import_statement
from billing.reconciliation.sandbox_statement import SANDBOX_ALIPAY_MERCHANT, SANDBOX_MERCHANT, write_sandbox_statement
from billing.runs import find_project
from db.models import PaymentChannel, User
from db.session import create_engine, create_session_factory
from kernel.errors import AccessDenied, DomainError
from kernel.principal import Principal
from kernel.vocabulary import Locale
from register.accounts import load_principal

__all__ = ["add_reconcile_parser", "reconcile_close", "reconcile_export", "reconcile_import", "reconcile_sandbox_statement"]


def add_reconcile_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("reconcile", help="import statements and close days (对账, 日清日结)")
    actions = parser.add_subparsers(dest="action", required=True)
    importing = actions.add_parser("import", help="import a WeChat, Alipay or bank statement file into an account")
    importing.add_argument("file", type=Path, help="the statement file as the channel or bank wrote it")
    importing.add_argument(
        "--account", required=True, help="the statement account: its ID from the API, its number or its name (商户号, account number)"
    )
    importing.add_argument("--project", help="the project (ID from the API, number or exact name), when account names repeat")
    closing = actions.add_parser("close", help="close a day for every statement account of a project")
    closing.add_argument("--date", required=True, type=dt.date.fromisoformat, help="the day to close, e.g. 2026-11-01")
    closing.add_argument("--project", required=True, help="the project's ID from the API, its number or its exact name")
    closing.add_argument("--account", help="only this account (ID, number or name)")
    closing.add_argument("--reason", help="sign-off reason, required when the day has open exceptions")
    closing.add_argument("--signed-off-by", help="e-mail of the FINANCE or ADMIN user who signs the day off")
    export = actions.add_parser("export", help="write an account's daily closes of a period as an XLSX workbook (日结报告)")
    export.add_argument("--account", required=True, help="the statement account: its ID from the API, its number or its name")
    export.add_argument("--project", help="the project (ID from the API, number or exact name), when account names repeat")
    export.add_argument("--from", dest="first_day", required=True, type=dt.date.fromisoformat, help="first day, e.g. 2026-11-01")
    export.add_argument("--to", dest="last_day", required=True, type=dt.date.fromisoformat, help="last day, e.g. 2026-11-30")
    export.add_argument("--output", required=True, type=Path, help="the workbook to write, e.g. closes-2026-11.xlsx")
    export.add_argument("--lang", choices=("zh-CN", "en"), default="zh-CN", help="the workbook's language (default zh-CN)")
    sandbox = actions.add_parser(
        "sandbox-statement",
        help="write the sandbox gateway's bill of a day, for `reconcile import`: WeChat Pay's trade bill (交易账单) or Alipay's 业务明细 zip",
    )
    sandbox.add_argument(
        "--channel", choices=("wechat", "alipay"), default="wechat", help="whose bill: WeChat Pay (a CSV, the default) or Alipay (a zip)"
    )
    sandbox.add_argument("--date", required=True, type=dt.date.fromisoformat, help="the day, e.g. 2026-11-01 (it must have ended)")
    sandbox.add_argument("--project", required=True, help="the project's ID from the API, its number or its exact name")
    sandbox.add_argument(
        "--output", required=True, type=Path, help="the file to write, e.g. sandbox-2026-11-01.csv (Alipay: sandbox-2026-11-01.zip)"
    )


def _account_reference(account: str) -> str:
    """An account as `find_account` takes it: the API's global ID becomes its number."""
    try:
        global_id = relay.GlobalID.from_id(account)
    except (ValueError, TypeError, relay.GlobalIDValueError):
        return account
    if global_id.type_name == "StatementAccount" and global_id.node_id.isdigit():
        return global_id.node_id
    return account


def _fail(message: str) -> int:
    print(f"courtyard: {message}", file=sys.stderr)
    return 1


async def reconcile_import(settings: Settings, *, file: Path, account: str, project: str | None, now: dt.datetime) -> int:
    """Import one file; print what it added. Exit status 0, or 1 when refused."""
    try:
        if file.stat().st_size > MAX_STATEMENT_BYTES:
            return _fail(f"{file}: larger than {MAX_STATEMENT_BYTES // 2**20} MiB")
        content = file.read_bytes()
    except OSError as error:
        return _fail(f"{file}: {error.strerror}")
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        project_id = None
        if project is not None:
            project_id = await find_project(sessions, reference=_database_reference(project))
            if project_id is None:
                return _fail(f"no project {project!r} (give its ID from the API, its number or its exact name)")
        async with sessions() as session:
            found = await find_account(session, project_id=project_id, reference=_account_reference(account))
        if found is None:
            return _fail(f"no single statement account {account!r} (give its ID or number, or --project with its name)")
        print(f"importing {file.name} into {found.name} …", file=sys.stderr)
        try:
            outcome = await import_statement(sessions, None, account_id=found.id, content=content, filename=file.name, now=now)
        except DomainError as error:
            return _fail(f"{file.name} refused, nothing imported: {error.message}")
    finally:
        await engine.dispose()
    if outcome.already_imported:
        print(f"{file.name}: imported before (file {outcome.file.id}); nothing changed")
    else:
        print(f"{file.name}: {outcome.line_count} lines, {outcome.new_line_count} new, into {found.name} (file {outcome.file.id})")
    return 0


async def _signer(sessions: object, email: str, today: dt.date) -> Principal | None:
    async with sessions() as session:  # type: ignore[operator]
        user_id = await session.scalar(select(User.id).where(User.email == email.strip().lower()))
        return None if user_id is None else await load_principal(session, user_id, today=today)


async def reconcile_close(
    settings: Settings,
    *,
    day: dt.date,
    project: str,
    account: str | None,
    reason: str | None,
    signed_off_by: str | None,
    now: dt.datetime,
) -> int:
    """Close a day; print each account's report. Exit status 0, or 1 when refused."""
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        project_id = await find_project(sessions, reference=_database_reference(project))
        if project_id is None:
            return _fail(f"no project {project!r} (give its ID from the API, its number or its exact name)")
        account_id = None
        if account is not None:
            async with sessions() as session:
                found = await find_account(session, project_id=project_id, reference=_account_reference(account))
            if found is None:
                return _fail(f"no statement account {account!r} in the project")
            account_id = found.id
        principal = None
        if signed_off_by is not None:
            principal = await _signer(sessions, signed_off_by, now.date())
            if principal is None:
                return _fail(f"no active user {signed_off_by!r}")
        print(f"closing {day} …", file=sys.stderr)
        try:
            closes = await close_day(
                sessions, principal, project_id=project_id, day=day, account_id=account_id, sign_off_reason=reason, now=now
            )
        except DomainError as error:
            return _fail(f"{day} not closed: {error.message}")
        except AccessDenied as error:
            return _fail(f"{signed_off_by} may not sign off this project's days: {error}")
    finally:
        await engine.dispose()
    for close, closed_account in closes:
        print(
            f"{day} {closed_account.name} ({close.clearing_account}): opening {close.opening_balance}, closing"
            f" {close.closing_balance}; matched {close.matched_count} lines ({close.matched_amount}); exceptions"
            f" {close.exception_count}, open {close.open_exception_count} ({close.open_exception_amount})"
            + (f"; signed off: {close.sign_off_reason}" if close.sign_off_reason else "")
        )
    return 0


async def reconcile_sandbox_statement(
    settings: Settings, *, project: str, day: dt.date, output: Path, now: dt.datetime, channel: str = "wechat"
) -> int:
    """Write the sandbox's bill of `day` on `channel` (wechat or alipay) to `output`. Exit status 0, or 1
    when there is no bill (a day without trades, as the channel answers) or the day cannot have one yet."""
    payment_channel = PaymentChannel.ALIPAY if channel == "alipay" else PaymentChannel.WECHAT
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        project_id = await find_project(sessions, reference=_database_reference(project))
        if project_id is None:
            return _fail(f"no project {project!r} (give its ID from the API, its number or its exact name)")
        try:
            content = await write_sandbox_statement(
                sessions, None, project_id=project_id, day=day, now=now, channel=payment_channel
            )
        except DomainError as error:
            return _fail(f"no bill for {day}: {error.message}")
    finally:
        await engine.dispose()
    channel_name = "Alipay" if payment_channel is PaymentChannel.ALIPAY else "WeChat"
    if content is None:
        return _fail(f"no bill for {day}: the sandbox took no {channel_name} payments and gave no refunds that day")
    try:
        output.write_bytes(content)
    except OSError as error:
        return _fail(f"{output}: {error.strerror}")
    if payment_channel is PaymentChannel.ALIPAY:
        rows = len(parse_alipay_bill(content, account=SANDBOX_ALIPAY_MERCHANT.account, zone=ZoneInfo("UTC")).lines)
        print(f"{output}: Alipay business bill (业务明细) of account {SANDBOX_ALIPAY_MERCHANT.account} for {day}, {rows} rows")
    else:
        rows = len(content.splitlines()) - 3  # less the header and the two summary lines
        print(f"{output}: WeChat Pay bill of merchant {SANDBOX_MERCHANT.merchant_id} for {day}, {rows} rows")
    return 0


async def reconcile_export(
    settings: Settings,
    *,
    account: str,
    project: str | None,
    first_day: dt.date,
    last_day: dt.date,
    output: Path,
    lang: str = "zh-CN",
) -> int:
    """Write an account's daily closes of a period to `output` as a workbook in `lang` (zh-CN or en). Exit
    status 0, or 1 when refused."""
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        project_id = None
        if project is not None:
            project_id = await find_project(sessions, reference=_database_reference(project))
            if project_id is None:
                return _fail(f"no project {project!r} (give its ID from the API, its number or its exact name)")
        async with sessions() as session:
            found = await find_account(session, project_id=project_id, reference=_account_reference(account))
        if found is None:
            return _fail(f"no single statement account {account!r} (give its ID or number, or --project with its name)")
        try:
            report = await close_report(
                sessions,
                None,
                account_id=found.id,
                first_day=first_day,
                last_day=last_day,
                locale=Locale.EN if lang == "en" else Locale.ZH_CN,
            )
        except DomainError as error:
            return _fail(f"no report: {error.message}")
    finally:
        await engine.dispose()
    try:
        write_close_workbook(report, output)
    except OSError as error:
        return _fail(f"{output}: {error.strerror}")
    days = (last_day - first_day).days + 1
    print(
        f"{output}: {report.account} {first_day} to {last_day}, {len(report.days)} of {days} days closed,"
        f" {len(report.open_exceptions)} exceptions open"
    )
    return 0
