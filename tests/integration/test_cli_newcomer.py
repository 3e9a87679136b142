"""What a newcomer sees from the command line, through the `courtyard` entry point on a fresh SQLite
file: one line about migrations, the demo's books and reconciled month described, `bill-run` taking the
API's project ID, and `serve` saying where the background jobs run."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from asgi_lifespan import LifespanManager
from graphql import parse, validate

from api.app import create_app
from api.cli import demo_billing_query, demo_reconciliation_query, main
from api.settings import Settings
from db.migrate import MIGRATIONS_DIR
from schema import build_schema
from tests.conftest import TEST_SECRET, Clock
from tests.e2e.server import copy_of_seeded_demo, seed_demo_output


@pytest.fixture
def fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty SQLite file the command line is pointed at (and no stray `.env`)."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "courtyard.db"
    monkeypatch.setenv("COURTYARD_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("COURTYARD_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("COURTYARD_MEDIA_DIR", str(tmp_path / "media"))
    return path


def test_migrate_says_in_one_line_what_it_did(fresh_database: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert main(["migrate"]) == 0
    first = [record.getMessage() for record in caplog.records]
    caplog.clear()
    assert main(["migrate"]) == 0
    second = [record.getMessage() for record in caplog.records]

    # every revision once, each after the one it revises (the domains' branches in whichever order)
    assert len(first) == 1 and first[0].startswith("database migrated: applied 0001, ")
    applied = first[0].removeprefix("database migrated: applied ").split(", ")
    revisions = {script.revision: script.down_revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    assert sorted(applied) == sorted(revisions)
    assert all(revisions[revision] is None or applied.index(revisions[revision]) < applied.index(revision) for revision in applied)
    assert second == ["database is at the current version"]


def test_the_demo_describes_its_books_and_bill_run_takes_the_api_project_id(
    shared_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the demo, seeded from the command line on a fresh file: the run's one `courtyard seed-demo`
    # of today's demo (the end-to-end tests serve copies of it), and a copy of what it left for this test
    seeded = seed_demo_output(shared_folder)
    folder = copy_of_seeded_demo(shared_folder, tmp_path / "demo")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("COURTYARD_DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'courtyard.db'}")
    monkeypatch.setenv("COURTYARD_MEDIA_DIR", str(folder / "media"))
    # then the summary names the bill runs, the finance login and an operation to run as it
    assert re.search(r"payment history: 21 months before, \d+ bills, all paid after each unit's habit", seeded)
    assert re.search(r"billing: 24 monthly bill runs \(\d{4}-\d\d, (\d{4}-\d\d, ){22}\d{4}-\d\d\), \d+ bills", seeded)
    assert re.search(r"overdue risk: scorecard trained on \d+ bills; on the latest quarter AUC 0\.\d+ against the baseline's", seeded)
    assert "Log in as finance@demo.courtyard in GraphiQL" in seeded
    project = re.search(r'billRuns\(projectId: "([^"]+)"\)', seeded)
    assert project is not None
    assert demo_billing_query(project.group(1)) in seeded
    schema = build_schema(production=False)._schema
    assert validate(schema, parse(demo_billing_query(project.group(1)))) == []
    # and the reconciled month, with an operation to read it and the command that exports its closes
    assert re.search(
        r"reconciliation: \d{4}-\d\d reconciled each morning: \d+ WeChat bills from the sandbox and \d+ bank statements"
        r" imported, \d+ matches, \d+ of \d+ account-days closed; open exceptions: AMOUNT_MISMATCH, BANK_UNMATCHED,"
        r" CHANNEL_ONLY, DUPLICATE_CHARGE, REFUND_UNMATCHED, UNRECEIVED",
        seeded,
    )
    assert demo_reconciliation_query(project.group(1)) in seeded
    assert validate(schema, parse(demo_reconciliation_query(project.group(1)))) == []
    assert f"courtyard reconcile export --account 1230000109 --project {project.group(1)} --from " in seeded

    # when bill-run is given the project's ID from the API (as the summary prints it), a unit's ID, a number
    period = dt.date.today().strftime("%Y-%m")
    by_api_id = main(["bill-run", "--project", project.group(1), "--period", period, "--dry-run"])
    by_api_id_out = capsys.readouterr().out
    by_unit_id = main(["bill-run", "--project", "VW5pdDox", "--period", period, "--dry-run"])
    by_unit_id_err = capsys.readouterr().err
    by_number = main(["bill-run", "--project", "1", "--period", period, "--dry-run"])
    by_number_out = capsys.readouterr().out

    # then the API's ID and the number both name the project; another type's ID names none
    assert (by_api_id, by_unit_id, by_number) == (0, 1, 0)
    assert f"period {period}: would create" in by_api_id_out
    assert by_api_id_out == by_number_out
    assert "no project 'VW5pdDox'" in by_unit_id_err


@pytest.fixture
async def started_app_logs(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[list[str]]:
    caplog.set_level(logging.INFO, logger="courtyard")
    settings = Settings(database_url=database_url, secret_key=TEST_SECRET, media_dir=tmp_path / "media")
    async with LifespanManager(create_app(settings, clock=Clock())):
        yield [record.getMessage() for record in caplog.records if record.name == "courtyard"]


async def test_serving_says_where_the_background_jobs_run(started_app_logs: list[str], database_url: str) -> None:
    if database_url.startswith("sqlite"):
        assert started_app_logs == [
            "background jobs (SLA timers, escalation, queue re-planning, maintenance, dunning, the notification outbox) run in"
            " this process"
        ]
    else:
        assert started_app_logs == [
            "no background jobs run in this process: SLA timers, escalation, queue re-planning, dunning and the"
            " notification outbox need `courtyard worker` processes"
        ]
