"""The `courtyard` command line (also `python -m api`)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import signal
import sys
from collections.abc import Sequence

from api.billing_cli import add_bill_run_parser, bill_run
from api.dunning_cli import add_dunning_parser, dunning_run
from api.reconcile_cli import (
    add_reconcile_parser,
    reconcile_close,
    reconcile_export,
    reconcile_import,
    reconcile_sandbox_statement,
)
from api.report_cli import add_report_parser, report_export
from api.settings import Settings, SettingsError

__all__ = ["demo_billing_query", "demo_reconciliation_query", "main"]


def _print(line: str) -> None:
    print(line, flush=True)


async def _migrate(settings: Settings) -> None:
    from db.migrate import refresh_planner_statistics, upgrade_to_head
    from db.session import create_engine

    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        await refresh_planner_statistics(engine)
    finally:
        await engine.dispose()


async def _seed_demo(settings: Settings) -> str | None:
    """Create the demo community if it is missing; answer the demo project's API ID."""
    from sqlalchemy import select

    from api.demo import DEMO_PROJECT, seed_demo
    from db.models import Project
    from db.personal_data import PersonalDataCipher
    from db.session import create_engine, create_session_factory
    from schema.ids import encode_id

    await _migrate(settings)
    engine = create_engine(settings.database_url)
    try:
        session_factory = create_session_factory(engine)
        summary = await seed_demo(
            session_factory,
            PersonalDataCipher(settings.secret_key),
            today=dt.date.today(),
            progress=lambda line: _print(f"  {line}"),
        )
        async with session_factory() as session:
            project_id = await session.scalar(select(Project.id).where(Project.name == DEMO_PROJECT))
    finally:
        await engine.dispose()
    _print("demo data created" if summary else "demo data already present; nothing added")
    if project_id is None:
        return None
    project = str(encode_id("Project", project_id))
    _print_demo_billing_guide(project)
    return project


def demo_billing_query(project: str) -> str:
    """One GraphQL operation that shows the demo's books to its finance login."""
    return (
        f'{{ billRuns(projectId: "{project}") {{ period billCount totalAmount }} '
        f'bills(filter: {{ projectId: "{project}", status: OVERDUE }}, first: 5) '
        f"{{ edges {{ node {{ period amountDue unit {{ number }} }} }} }} "
        f'ledgerCheck(projectId: "{project}") {{ ok }} }}'
    )


def demo_reconciliation_query(project: str) -> str:
    """One GraphQL operation that shows the demo's reconciled month to its finance login."""
    return (
        f'{{ statementAccounts(projectId: "{project}") {{ id name kind }} '
        f'dailyCloses(projectId: "{project}") {{ account {{ name }} day closingBalance matchedCount openExceptionCount }} '
        f'reconciliationExceptions(projectId: "{project}", filter: {{ status: OPEN }}, first: 10) '
        f"{{ edges {{ node {{ kind day difference explanation {{ text }} }} }} }} }}"
    )


def _print_demo_billing_guide(project: str) -> None:
    from api.demo import demo_logins
    from billing.providers import SandboxProvider

    finance = next(login.email for login in demo_logins() if login.role == "FINANCE")
    owner = next(login for login in demo_logins() if login.role == "OWNER")
    _print("\nBilling: monthly bill runs with payments and receipts; some bills are overdue.")
    _print(f"  Log in as {finance} in GraphiQL and run:")
    _print(f"    {demo_billing_query(project)}")
    _print(f"  {owner.email} ({owner.description}) sees their own bills and unitStatement.")
    _print(f"  From the shell: courtyard bill-run --project {project} --period YYYY-MM --dry-run")
    _print("  More in README.md, section Billing.")
    last = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    _print("\nReconciliation: last month reconciled and closed day by day; one exception of each kind is open.")
    _print(f"  As {finance}: {demo_reconciliation_query(project)}")
    _print("  The closes as a workbook: GET /reconciliation/accounts/<n>/closes.xlsx?from=…&to=… (n: the number in")
    _print("  the account's ID; bearer token), or")
    _print(
        f"    courtyard reconcile export --account {SandboxProvider.merchant_id} --project {project}"
        f" --from {last.replace(day=1)} --to {last} --output closes.xlsx"
    )
    _print("  Dunning: a month of daily reminders and their statuses; as finance, run")
    _print(f'    {{ dunningWorkQueue(projectId: "{project}", first: 5) {{ edges {{ node {{ amountOverdue daysOverdue '
           "unit { number } history { level messageStatus channel } } } } }")
    _print(f"  From the shell: courtyard dunning run --project {project} --dry-run")
    _print("  More in README.md, sections Billing, Reconciliation and Dunning.")


def _print_demo_logins(base_url: str) -> None:
    from api.demo import DEMO_PASSWORD, demo_logins

    _print(f"\nCourtyard is serving the demo community at {base_url}")
    _print(f"  GraphiQL:  {base_url}/graphql")
    _print(f"  Health:    {base_url}/healthz   Ready: {base_url}/readyz")
    _print(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    seen_roles: set[str] = set()
    for login in demo_logins():
        if login.role not in seen_roles:
            seen_roles.add(login.role)
            _print(f"  {login.role:<11} {login.email:<28} {login.description}")
    _print("")


def _serve(settings: Settings, *, host: str, port: int, demo: bool) -> None:
    import uvicorn

    from api.app import create_app

    if demo:
        asyncio.run(_seed_demo(settings))
        _print_demo_logins(f"http://{host}:{port}")
    from api.live import UVICORN_WEBSOCKET_OPTIONS, tune_gc_for_serving

    app = create_app(settings)
    tune_gc_for_serving()
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="on", **UVICORN_WEBSOCKET_OPTIONS)


async def _work(settings: Settings, *, interval: float, once: bool) -> None:
    from api.eventbus import EventBus
    from api.notification_channels import build_channels
    from api.state import utc_now
    from api.workers import SEND_CHECKS, AnnouncementReminders, DispatchWorker, DunningWorker, OutboxRelay
    from db.personal_data import PersonalDataCipher
    from db.session import create_engine, create_session_factory

    engine = create_engine(settings.database_url)
    channels = build_channels(settings)
    try:
        async with EventBus(settings.broadcast_url) as bus:
            sessions = create_session_factory(engine)
            worker = DispatchWorker(sessions, clock=utc_now, publisher=bus, interval=interval)
            dunning = DunningWorker(sessions, clock=utc_now)
            relay = OutboxRelay(
                sessions,
                channels,
                clock=utc_now,
                cipher=PersonalDataCipher(settings.secret_key),
                publisher=bus,
                interval=settings.outbox_interval,
                still_wanted=SEND_CHECKS,
            )
            reminders = AnnouncementReminders(sessions, clock=utc_now, interval=interval)
            if once:
                report = await worker.run_once()
                dunned = await dunning.run_once()
                reminded = await reminders.run_once()
                sent = await relay.run_once()
                _print(
                    f"{report.sla_events} SLA events, {report.escalations} escalations, "
                    f"{report.maintenance_tickets} maintenance tickets, {report.replanned} re-planned, "
                    f"{report.failures} failures; dunning: {dunned.passes} passes, {dunned.notices} notices; "
                    f"outbox: {sent.sent + sent.delivered} sent, {sent.deferred} deferred, "
                    f"{sent.retrying} to retry, {sent.failed} failed; {reminded} announcement reminders enqueued"
                )
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signal_number, stop.set)
            _print(
                f"courtyard worker running every {interval:g} s, the outbox relay every "
                f"{settings.outbox_interval:g} s (Ctrl-C to stop)"
            )
            await asyncio.gather(worker.run(stop), dunning.run(stop), relay.run(stop), reminders.run(stop))
    finally:
        for channel in channels.values():
            await channel.aclose()
        await engine.dispose()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="courtyard", description="Courtyard property-management service.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the GraphQL service")
    serve.add_argument("--demo", action="store_true", help="fill an empty database with the demo community first")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("seed-demo", help="create the demo community if it is not there yet")
    add_bill_run_parser(commands)
    add_reconcile_parser(commands)
    add_dunning_parser(commands)
    add_report_parser(commands)
    worker = commands.add_parser(
        "worker", help="run the background jobs: SLA timers, maintenance, re-planning, dunning, the notification outbox"
    )
    worker.add_argument("--interval", type=float, default=15.0, help="seconds between rounds (default 15)")
    worker.add_argument("--once", action="store_true", help="run one round and exit")
    sdl = commands.add_parser("schema", help="print the GraphQL schema (SDL) front ends build on")
    sdl.add_argument("--output", metavar="PATH", help="write it to PATH instead (e.g. schema.graphql)")
    return parser


def _write_schema(output: str | None) -> None:
    from pathlib import Path

    from schema import schema_sdl

    sdl = schema_sdl()
    if output is None:
        sys.stdout.write(sdl)
    else:
        Path(output).write_text(sdl, encoding="utf-8")
        _print(f"courtyard: wrote the GraphQL schema to {output}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":
        # Needs no settings: the schema is the same for every deployment.
        _write_schema(args.output)
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic logs its plugin set-up and every step at INFO; `db.migrate` says what happened in one line.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"courtyard: configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "serve":
        _serve(settings, host=args.host, port=args.port, demo=args.demo)
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
    elif args.command == "seed-demo":
        asyncio.run(_seed_demo(settings))
    elif args.command == "bill-run":
        return asyncio.run(
            bill_run(
                settings,
                project=args.project,
                period=args.period,
                dry_run=args.dry_run,
                now=dt.datetime.now(dt.UTC),
                advance_reason=args.advance_reason,
            )
        )
    elif args.command == "reconcile" and args.action == "import":
        return asyncio.run(
            reconcile_import(settings, file=args.file, account=args.account, project=args.project, now=dt.datetime.now(dt.UTC))
        )
    elif args.command == "reconcile" and args.action == "export":
        return asyncio.run(
            reconcile_export(
                settings,
                account=args.account,
                project=args.project,
                first_day=args.first_day,
                last_day=args.last_day,
                output=args.output,
                lang=args.lang,
            )
        )
    elif args.command == "reconcile" and args.action == "sandbox-statement":
        return asyncio.run(
            reconcile_sandbox_statement(
                settings,
                project=args.project,
                day=args.date,
                output=args.output,
                now=dt.datetime.now(dt.UTC),
                channel=args.channel,
            )
        )
    elif args.command == "reconcile" and args.action == "close":
        return asyncio.run(
            reconcile_close(
                settings,
                day=args.date,
                project=args.project,
                account=args.account,
                reason=args.reason,
                signed_off_by=args.signed_off_by,
                now=dt.datetime.now(dt.UTC),
            )
        )
    elif args.command == "dunning":
        return asyncio.run(
            dunning_run(settings, project=args.project, now=args.now or dt.datetime.now(dt.UTC), dry_run=args.dry_run)
        )
    elif args.command == "report":
        return asyncio.run(
            report_export(
                settings,
                report=args.report,
                project=args.project,
                output=args.output,
                arguments={"from": args.first, "to": args.last, "asOf": args.as_of, "granularity": args.granularity},
                now=dt.datetime.now(dt.UTC),
            )
        )
    elif args.command == "worker":
        asyncio.run(_work(settings, interval=args.interval, once=args.once))
    return 0
