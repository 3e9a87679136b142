"""`courtyard report collection|ageing|income --project … --output FILE.xlsx`: the same export the
download route serves, written to a file, on the system's own authority (whoever runs it has the
database)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from api.billing_cli import _database_reference
from api.settings import Settings
from billing.reports.exports import export_report, report_kind
from billing.runs import find_project
from db.session import create_engine, create_session_factory
from kernel.errors import DomainError

__all__ = ["add_report_parser", "report_export"]


def add_report_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("report", help="export the collection rate, arrears ageing or income as XLSX")
    parser.add_argument("report", choices=["collection", "ageing", "income"], help="which report")
    parser.add_argument("--project", required=True, help="the project's ID from the API, its number or its exact name")
    parser.add_argument("--output", required=True, type=Path, help="the XLSX file to write")
    parser.add_argument("--from", dest="first", help="collection: first period (2026-01); income: first day (2026-01-01)")
    parser.add_argument("--to", dest="last", help="collection: last period; income: last day")
    parser.add_argument("--as-of", help="collection and ageing: read the books as of the end of this day (default today)")
    parser.add_argument("--granularity", help="income: DAY (default) or MONTH")


async def report_export(
    settings: Settings,
    *,
    report: str,
    project: str,
    output: Path,
    arguments: dict[str, str | None],
    now: dt.datetime,
) -> int:
    """Write the report to `output`; exit status 0, or 1 when refused (nothing written)."""
    kind = report_kind(report)
    if kind is None:
        print(f"courtyard: no report {report!r} (collection, ageing or income)", file=sys.stderr)
        return 1
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        project_id = await find_project(sessions, reference=_database_reference(project))
        if project_id is None:
            print(f"courtyard: no project {project!r} (give its ID from the API, its number or its exact name)", file=sys.stderr)
            return 1
        try:
            await export_report(
                sessions,
                None,
                report=kind,
                project_id=project_id,
                arguments={name: value for name, value in arguments.items() if value is not None},
                now=now,
                destination=output,
            )
        except DomainError as error:
            output.unlink(missing_ok=True)
            option = {"from": "--from", "to": "--to", "asOf": "--as-of"}.get(error.field or "", error.field or "")
            print(f"courtyard: {option}: {error.message}" if option else f"courtyard: {error.message}", file=sys.stderr)
            return 1
    finally:
        await engine.dispose()
    print(f"courtyard: wrote the {report} report to {output}")
    return 0
