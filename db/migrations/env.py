"""Alembic environment: async engines, batch mode for SQLite, and an optional caller-supplied connection."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

import db.models  # noqa: F401  (registers every table on Base.metadata)
from db.base import Base
from db.session import create_engine

target_metadata = Base.metadata


def render_item(kind: str, item: object, autogen_context: object) -> str | bool:
    """Write our column types as their storage type, so migrations never import application code."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl!r}"
    return False


def run_with_connection(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        # `db.migrate.upgrade_to_head` passes a callback that notes each revision as it is applied.
        on_version_apply=context.config.attributes.get("on_version_apply"),
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    async with engine.begin() as connection:
        await connection.run_sync(run_with_connection)
    await engine.dispose()


def run_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (supplied := context.config.attributes.get("connection")) is not None:
    run_with_connection(supplied)
else:
    asyncio.run(run_with_own_engine())
