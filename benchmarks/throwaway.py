"""Throwaway databases and served Courtyard processes for the benchmark scripts."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

__all__ = ["PG_URL", "free_port", "postgresql_clone", "postgresql_database", "served", "sqlite_database"]

PG_URL = os.environ.get(
    "COURTYARD_BENCH_PG_URL", os.environ.get("COURTYARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(statement: str, *args: object) -> None:
    connection = await asyncpg.connect(_dsn(PG_URL))
    try:
        await connection.execute(statement, *args)
    finally:
        await connection.close()


async def _admin_values(query: str, *args: object) -> list[object]:
    connection = await asyncpg.connect(_dsn(PG_URL))
    try:
        return [row[0] for row in await connection.fetch(query, *args)]
    finally:
        await connection.close()


def _url_of(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _drop(name: str) -> None:
    asyncio.run(_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name))
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}"'))


@contextmanager
def postgresql_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the benchmark server, dropped afterwards; yields its URL."""
    name = f"courtyard_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _url_of(name)
    finally:
        _drop(name)


@contextmanager
def postgresql_clone(family: str, key: str, build: Callable[[str], None]) -> Iterator[str]:
    """A new PostgreSQL database copied from the template database `<family>_<key>`, dropped afterwards;
    yields its URL. The template is kept on the server for the next run: when there is none yet, `build`
    fills a new, empty database (given its URL), which becomes the template once `build` returns, and
    the family's templates of other keys (older schemas or seeds) are dropped. `key` names what the
    template's rows depend on, so a change to any of them builds a new one."""
    template = f"{family}_{key}"
    if len(template) > 63:
        raise ValueError(f"PostgreSQL cuts database names after 63 bytes: {template}")
    if not asyncio.run(_admin_values("SELECT datname FROM pg_database WHERE datname = $1", template)):
        # Built under another name and renamed when complete, so an interrupted build is never cloned.
        partial = f"{family}_partial"
        _drop(partial)
        asyncio.run(_admin(f'CREATE DATABASE "{partial}"'))
        build(_url_of(partial))
        for stale in asyncio.run(_admin_values("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", f"{family}_")):
            if stale != partial:
                _drop(str(stale))
        asyncio.run(_admin(f'ALTER DATABASE "{partial}" RENAME TO "{template}"'))
    name = f"courtyard_bench_{uuid.uuid4().hex[:10]}"
    # FILE_COPY copies the template's files after a checkpoint; the default (WAL_LOG) writes gigabytes
    # of WAL for a large template.
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'))
    try:
        yield _url_of(name)
    finally:
        _drop(name)


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A new SQLite file in a temporary folder, removed afterwards; yields its URL."""
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_ready(base_url: str, deadline: float) -> None:
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base_url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet: the server is still starting
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready")


@contextmanager
def served(database_url: str, secret_key: str, environment: Mapping[str, str] | None = None) -> Iterator[str]:
    """`courtyard serve` in production mode on a free loopback port, as one process; yields its base URL."""
    port = free_port()
    settings = {
        **os.environ,
        "COURTYARD_DATABASE_URL": database_url,
        "COURTYARD_SECRET_KEY": secret_key,
        "COURTYARD_ENV": "production",
        **(environment or {}),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=settings,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(_wait_ready(base_url, time.monotonic() + 60))
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)
