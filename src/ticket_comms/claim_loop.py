"""The claim loop both outboxes (email logs, pushes) run: hold a session lock that owns our claims,
claim due rows in batches up to a concurrency, sleep until NOTIFY or the next retry falls due, and
take back the claims of workers whose session is gone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any

import psycopg

log = logging.getLogger(__name__)

CLAIM_BATCH = 100
# Woken by a new row, wait this long for others to commit so they are claimed together.
CLAIM_GATHER_SECONDS = 0.005
NEXT_DUE_EVERY_SECONDS = 0.25
RECOVER_EVERY_SECONDS = 5.0
IDLE_POLL_SECONDS = 5.0


def recover_statement(table: str) -> str:
    """The statement that takes back `table`'s claims held by workers whose session (and so advisory
    lock) is gone; parameter `cls`: the outbox's lock class."""
    return f"""
UPDATE {table}
SET claimed_by = NULL, updated_at = now(),
    events = events || jsonb_build_array(jsonb_build_object(
        'type', 'recovered', 'at', now(), 'detail', jsonb_build_object('worker', claimed_by)))
WHERE claimed_by IS NOT NULL AND claimed_by <> ALL (
    SELECT k.objid::bigint FROM pg_locks k
    WHERE k.locktype = 'advisory' AND k.classid = %(cls)s AND k.objsubid = 2 AND k.granted
      AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
RETURNING id
"""


class ClaimLoop(ABC):
    """Subclasses say what a row is: `_claim(limit)`, `_take(rows)` (start sending them, not wait for
    them), `_recover()` and `_next_due()`. A claim is ours while our session holds the advisory lock
    (`lock_class`, `worker_id`): when this process dies, PostgreSQL drops the lock with the session and
    any worker's `_recover` takes the rows back."""

    what = "outbox"
    lock_class = 0
    channel = ""

    def __init__(self, database_url: str, concurrency: int, drain_seconds: float):
        self.database_url = database_url
        self.concurrency = concurrency
        self.drain_seconds = drain_seconds
        self.worker_id = random.randint(1, 2**31 - 1)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._next_due_at = 0.0
        self._next_due_mono: float = IDLE_POLL_SECONDS
        self.sent = 0

    @abstractmethod
    async def _claim(self, limit: int) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def _take(self, rows: list[dict[str, Any]]) -> None: ...

    @abstractmethod
    async def _recover(self) -> None: ...

    @abstractmethod
    async def _next_due(self) -> datetime | None: ...

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        lock_conn = await psycopg.AsyncConnection.connect(self.database_url, autocommit=True)
        listener: asyncio.Task[None] | None = None
        try:
            await lock_conn.execute("SELECT pg_advisory_lock(%s, %s)", (self.lock_class, self.worker_id))
            await lock_conn.execute(f"LISTEN {self.channel}")
            listener = asyncio.create_task(self._listen(lock_conn))
            log.info(f"{self.what} worker started", extra={"fields": {"worker": self.worker_id}})
            await self._loop(listener)
        finally:
            if self._inflight:
                await asyncio.wait(self._inflight, timeout=self.drain_seconds)
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            with contextlib.suppress(Exception):
                await lock_conn.close()

    async def _listen(self, conn: psycopg.AsyncConnection[Any]) -> None:
        async for _ in conn.notifies():
            self._wake.set()

    async def _loop(self, listener: asyncio.Task[None]) -> None:
        last_recover = 0.0
        while not self._stopping.is_set():
            if listener.done():
                # The lock session is gone: our claims may be taken by others now, so stop claiming.
                raise RuntimeError(
                    f"the {self.what} worker lost its database session"
                ) from listener.exception()
            now = time.monotonic()
            if now - last_recover > RECOVER_EVERY_SECONDS:
                last_recover = now
                await self._recover()
            free = self.concurrency - len(self._inflight)
            full = False
            rows: list[dict[str, Any]] = []
            if free > 0:
                self._wake.clear()
                limit = min(free, CLAIM_BATCH)
                rows = await self._claim(limit)
                if rows:
                    await self._take(rows)
                full = len(rows) == limit
            if full or free <= 0:
                # More work is waiting: claim again once a whole batch fits.
                while len(self._inflight) > self.concurrency - CLAIM_BATCH and not self._stopping.is_set():
                    await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            timeout = await self._idle_timeout(checked=not rows)
            waiters = [asyncio.ensure_future(self._wake.wait()), listener]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            waiters[0].cancel()
            if self._wake.is_set():
                await asyncio.sleep(CLAIM_GATHER_SECONDS)

    async def _idle_timeout(self, checked: bool) -> float:
        """How long to sleep when idle: until the next retry falls due (looked up at most every
        NEXT_DUE_EVERY_SECONDS while rows keep arriving), at most IDLE_POLL_SECONDS."""
        now = time.monotonic()
        if checked or now - self._next_due_at > NEXT_DUE_EVERY_SECONDS:
            self._next_due_at = now
            due = await self._next_due()
            wait = IDLE_POLL_SECONDS if due is None else (due - datetime.now(UTC)).total_seconds()
            self._next_due_mono = now + max(0.01, min(IDLE_POLL_SECONDS, wait))
        return max(0.01, min(self._next_due_mono - now, NEXT_DUE_EVERY_SECONDS))
