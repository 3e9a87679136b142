"""The migration history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import db.models  # noqa: F401
from db.base import Base
from db.session import create_engine


async def test_migrations_match_the_models(database_url: str) -> None:
    # given a database built by the migrations alone (the fixtures run them)
    engine = create_engine(database_url)
    # when alembic compares it with the models
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True, "render_as_batch": True}), Base.metadata
            )
        )
    await engine.dispose()
    # then
    assert differences == []
