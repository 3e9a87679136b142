"""`courtyard bill-run`: bill a project's period from the command line, with a progress bar on stderr."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TextIO

from strawberry import relay

from api.settings import Settings
from billing.runs import find_project, run_billing
from db.session import create_engine, create_session_factory
from kernel.errors import DomainError

__all__ = ["ProgressBar", "add_bill_run_parser", "bill_run"]


class ProgressBar:
    """A one-line text progress bar, redrawn in place."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = round(share * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {share:4.0%} {done:,}/{total:,} units")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def add_bill_run_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("bill-run", help="bill every unit of a project for a period")
    parser.add_argument(
        "--project", required=True, help="the project's ID from the API (e.g. UHJvamVjdDox), its number or its exact name"
    )
    parser.add_argument("--period", required=True, help="first month of the period, e.g. 2026-11")
    parser.add_argument("--dry-run", action="store_true", help="compute and report, write nothing")
    parser.add_argument(
        "--advance-reason",
        help="why a period after the next one is billed now (refused without it; kept on the run)",
    )


def _database_reference(project: str) -> str:
    """The project as `find_project` takes it: the API's global ID (`Project:<n>` in base64) becomes the
    number it carries; a number or a name stays as it is."""
    try:
        global_id = relay.GlobalID.from_id(project)
    except (ValueError, TypeError, relay.GlobalIDValueError):
        return project
    if global_id.type_name == "Project" and global_id.node_id.isdigit():
        return global_id.node_id
    return project


async def bill_run(
    settings: Settings, *, project: str, period: str, dry_run: bool, now: dt.datetime, advance_reason: str | None = None
) -> int:
    """Run the bill run (one transaction); print what it did. Exit status 0, or 1 when refused."""
    engine = create_engine(settings.database_url)
    try:
        session_factory = create_session_factory(engine)
        project_id = await find_project(session_factory, reference=_database_reference(project))
        if project_id is None:
            print(
                f"courtyard: no project {project!r} (give its ID from the API, its number or its exact name)",
                file=sys.stderr,
            )
            return 1
        bar = ProgressBar(f"bill run {period}")
        try:
            outcome = await run_billing(
                session_factory,
                None,
                now=now,
                project_id=project_id,
                period=period,
                dry_run=dry_run,
                advance_reason=advance_reason,
                progress=bar,
            )
        except DomainError as error:
            bar.close()
            print(f"courtyard: {error.field or 'input'}: {error.message}", file=sys.stderr)
            return 1
        bar.close()
    finally:
        await engine.dispose()
    verb = "would create" if dry_run else "created"
    print(
        f"period {outcome.period}: {verb} {outcome.bills_created} bills totalling {outcome.amount_created}"
        f" ({outcome.units_without_charges} units without charges)"
    )
    if outcome.run is not None and not dry_run:
        print(f"run {outcome.run.id}: {outcome.run.bill_count} bills, {outcome.run.total_amount} in all")
    return 0
