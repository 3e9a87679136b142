"""`courtyard dunning run`: a dunning pass over one project from the command line, at now or a given
instant (to catch up a missed day, or to see what a day would send with `--dry-run`)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from api.billing_cli import _database_reference
from api.settings import Settings
from billing.dunning.passes import run_dunning
from billing.runs import find_project
from db.session import create_engine, create_session_factory
from kernel.errors import DomainError

__all__ = ["add_dunning_parser", "dunning_run"]


def _instant(text: str) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time with its offset, e.g. 2026-11-20T09:00+08:00")
    return instant


def add_dunning_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("dunning", help="dunning (催缴): run a pass over a project")
    actions = parser.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="decide and send what a project's dunning policy asks for now")
    run.add_argument(
        "--project", required=True, help="the project's ID from the API (e.g. UHJvamVjdDox), its number or its exact name"
    )
    run.add_argument(
        "--now", type=_instant, help="decide as at this instant, with its offset (default: now), e.g. 2026-11-20T09:00+08:00"
    )
    run.add_argument("--dry-run", action="store_true", help="show what would be sent, write nothing")


async def dunning_run(settings: Settings, *, project: str, now: dt.datetime, dry_run: bool = False) -> int:
    """Run the pass (one transaction) on the system's authority; print what it decided. Exit status 0, or
    1 when the project is unknown or the pass is refused."""
    engine = create_engine(settings.database_url)
    try:
        session_factory = create_session_factory(engine)
        project_id = await find_project(session_factory, reference=_database_reference(project))
        if project_id is None:
            print(f"courtyard: no project {project!r} (give its ID from the API, its number or its exact name)", file=sys.stderr)
            return 1
        try:
            outcome = await run_dunning(session_factory, None, project_id=project_id, now=now, dry_run=dry_run)
        except DomainError as error:
            print(f"courtyard: {error.field or 'input'}: {error.message}", file=sys.stderr)
            return 1
    finally:
        await engine.dispose()
    if not outcome.enabled:
        print(f"{outcome.day}: the project does not dun (its dunning policy is switched off)")
        return 0
    levels = ", ".join(f"{code}: {count}" for code, count in outcome.by_level().items()) or "nothing due"
    verb = "would send" if dry_run else "sent"
    print(
        f"{outcome.day}: {outcome.accounts} accounts with bills to chase, {outcome.held} held; {levels}; "
        f"{verb} {outcome.messages} messages and {outcome.follow_ups} follow-ups to the finance desk"
        + ("" if dry_run else f" (run {outcome.run_id})")
    )
    return 0
