"""Apply Alembic migrations from code (CLI, app start-up on the embedded default, tests)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationInfo
from sqlalchemy.ext.asyncio import AsyncEngine

from db.session import async_url

__all__ = ["alembic_config", "refresh_planner_statistics", "upgrade_to_head"]

log = logging.getLogger("courtyard.migrate")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    return config


# The rows of each index SQLite reads when it gathers statistics: plenty for the planner, and a pause that
# stays short however large the file grows (19 ms on the benchmark's community of 10 MB).
_SQLITE_ANALYSIS_LIMIT = 1000


async def refresh_planner_statistics(engine: AsyncEngine) -> None:
    """Give SQLite's query planner statistics of the tables as they are now. Without any it judges an index
    by its columns alone, and read an owner's bills through the project's index (every bill of the project,
    then a sort) rather than the unit's. PostgreSQL's autovacuum keeps its own: nothing to do there."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.begin() as connection:
        await connection.exec_driver_sql(f"PRAGMA analysis_limit={_SQLITE_ANALYSIS_LIMIT}")
        await connection.exec_driver_sql("ANALYZE")


async def upgrade_to_head(engine: AsyncEngine) -> list[str]:
    """Bring the database behind `engine` to the newest revision, inside the running event loop; answer
    the revisions applied, in order (none when it was current already), and log that in one line (the
    command line keeps Alembic's own INFO lines out of its log)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    applied: list[str] = []

    def note(*, step: MigrationInfo, **_: object) -> None:
        applied.append(step.up_revision_id or "")

    config.attributes["on_version_apply"] = note
    async with engine.begin() as connection:

        def run(sync_connection: object) -> None:
            config.attributes["connection"] = sync_connection
            # "heads": domains add their migrations on branches of their own, so there may be several.
            command.upgrade(config, "heads")

        await connection.run_sync(run)
    if applied:
        log.info("database migrated: applied %s", ", ".join(applied))
    else:
        log.info("database is at the current version")
    return applied
