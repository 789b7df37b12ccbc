"""Group commit for the outboxes (email logs, pushes): a sender's result is persisted before its send
counts as done, and results that finish while a write is running go together in the next write."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

R = TypeVar("R")

# Up to this many results per write; a write waits this long for more when few are pending, so a
# burst of sends finishing together shares one statement.
RESULT_BATCH = 500
FLUSH_GATHER_SECONDS = 0.004


class GroupCommit(Generic[R]):
    """`await put(result)` returns once `result` is in the database. A failed write is retried every
    second until it succeeds: the rows stay claimed by their worker meanwhile, so nobody else sends them."""

    def __init__(self, write: Callable[[list[R]], Awaitable[None]], what: str):
        self._write = write
        self._what = what
        self._pending: list[tuple[R, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def put(self, result: R) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((result, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            if len(self._pending) < RESULT_BATCH // 10:
                await asyncio.sleep(FLUSH_GATHER_SECONDS)
            batch, self._pending = self._pending[:RESULT_BATCH], self._pending[RESULT_BATCH:]
            while True:
                try:
                    await self._write([r for r, _ in batch])
                    break
                except Exception as exc:
                    log.warning(
                        f"could not record {self._what}; retrying", extra={"fields": {"error": str(exc)}}
                    )
                    await asyncio.sleep(1)
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
