"""Shared test fixtures: a real PostgreSQL, the real app served by uvicorn on a free port, real clients.

PostgreSQL: DATABASE_URL when set, else the embedded server (started here, in .data/test-postgres).
Each test session gets a fresh database; each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import uvicorn

from ticket_comms import migrations
from ticket_comms.app import create_app
from ticket_comms.auth.tokens import mint
from ticket_comms.config import Settings
from ticket_comms.context import AppContext
from ticket_comms.database import libpq_url, start_embedded_postgres
from ticket_comms.realtime.websocket import UVICORN_WEBSOCKET_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
# Tables whose rows are seeded by migrations and must survive the per-test cleanup.
START_TIMEOUT_SECONDS = 60.0
KEEP_TABLES = {"alembic_version", "email_templates"}
# Emptied by email_logs' TRUNCATE trigger (migration 0013). Listing them would lock them before
# email_logs, the reverse of a worker still writing (email_logs, then its rollup rows): a deadlock.
EMPTIED_BY_TRIGGER = {"email_stats_hourly", "email_failure_reasons_hourly"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return libpq_url(url)
    # Fail loudly if the embedded server cannot start: a skipped database is not a pass.
    return start_embedded_postgres(ROOT / ".data" / "test", "postgres")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@pytest.fixture(scope="session")
def database_url() -> Any:
    admin_url = _server_url()
    name = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(admin_url, name)
    migrations.upgrade(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(database_url: str, tmp: Path, **overrides: Any) -> Settings:
    port = overrides.pop("port", None) or free_port()
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": tmp,
        "port": port,
        "public_base_url": f"http://127.0.0.1:{port}",
        "migrate_on_start": False,
        "jwt_secret": "test-secret-" + "x" * 40,
        "worker": "off",
        # Tests drive the API as scripts (600 messages in a row); rate limits have their own tests
        # (tests/robustness/test_rate_limits.py), which switch them on.
        "rate_limits_enabled": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class RunningApp:
    settings: Settings
    asgi: Any
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ctx(self) -> AppContext:
        return self.asgi.fastapi.state.ctx

    def token(self, user_id: str, role: str | None = None, **claims: Any) -> str:
        return mint(self.settings, user_id, role=role, **claims)

    def client(self, user_id: str | None = None, role: str | None = None, **claims: Any) -> httpx.AsyncClient:
        headers = {}
        if user_id is not None:
            claims.setdefault("name", user_id.title())
            claims.setdefault("email", f"{user_id}@example.com")
            headers["Authorization"] = f"Bearer {self.token(user_id, role, **claims)}"
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def start_app(settings: Settings) -> RunningApp:
    asgi = create_app(settings)
    config = uvicorn.Config(
        asgi,
        host="127.0.0.1",
        port=settings.port,
        log_config=None,
        lifespan="on",
        access_log=False,
        **UVICORN_WEBSOCKET_OPTIONS,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    # Start-up runs migrations checks, the worker and (in development) the demo data: on a loaded
    # machine that takes seconds. A server that never got up is stopped, so it cannot keep its
    # connection pool open and starve the tests after it ("too many clients").
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_SECONDS
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the app exited during start-up")
        if asyncio.get_running_loop().time() > deadline:
            server.should_exit = True
            await asyncio.gather(task, return_exceptions=True)
            raise RuntimeError(f"the app did not start within {START_TIMEOUT_SECONDS:.0f} s")
        await asyncio.sleep(0.02)
    return RunningApp(settings, asgi, server, task)


@pytest.fixture(scope="session")
async def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningApp]:
    running = await start_app(make_settings(database_url, tmp_path_factory.mktemp("data")))
    yield running
    await running.stop()


async def empty_tables(url: str) -> None:
    """Every table but the kept ones emptied: before each test, and before an app with a worker of its
    own starts (tests/email, tests/replies), which would otherwise send the emails an earlier test left
    pending into this module's sink."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [r[0] for r in await cur.fetchall() if r[0] not in KEEP_TABLES | EMPTIED_BY_TRIGGER]
        if tables:
            # TRUNCATE takes ACCESS EXCLUSIVE locks one table at a time (and email_logs' trigger then
            # empties the rollups), while a module's app may still be at work: its writes lock
            # email_logs then a rollup, its dashboard reads a rollup then email_logs. PostgreSQL breaks
            # such a cycle by cancelling one side; when that is this cleanup, it runs again. The
            # service itself never takes these locks (retention deletes rows), so nothing is hidden.
            statement = "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"
            for attempt in range(5):
                try:
                    await conn.execute(statement)
                    break
                except psycopg.errors.DeadlockDetected:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.1)


@pytest.fixture(autouse=True)
async def clean_tables(request: pytest.FixtureRequest) -> None:
    if "database_url" not in request.fixturenames:
        return
    await empty_tables(request.getfixturevalue("database_url"))
    if "app" in request.fixturenames:
        ctx = request.getfixturevalue("app").ctx
        ctx.users._seen.clear()
        limits = getattr(ctx, "limits", None)
        if limits is not None:
            await limits.storage.reset()  # each test starts with fresh rate-limit counters too


@pytest.fixture
async def as_user(app: RunningApp) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """`as_user("alice")` → an httpx client authenticated as alice (created from her token's claims)."""
    clients: list[httpx.AsyncClient] = []

    def make(user_id: str, role: str | None = None, **claims: Any) -> httpx.AsyncClient:
        client = app.client(user_id, role, **claims)
        clients.append(client)
        return client

    yield make
    for c in clients:
        await c.aclose()
