"""Apply Alembic migrations from code (CLI, app start-up on the embedded default, tests)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationInfo
from sqlalchemy.ext.asyncio import AsyncEngine

from db.session import async_url

__all__ = ["alembic_config", "upgrade_to_head"]

log = logging.getLogger("courtyard.migrate")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    return config


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
