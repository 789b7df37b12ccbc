"""A queue and a flag for what every connected socket holds for its whole life.

An `asyncio.Queue` allocates four deques when it is created (about 3.3 KB, measured with
tracemalloc) and an `asyncio.Event` one (about 0.9 KB). Each socket held two queues (uvicorn's
inbox of received frames, Engine.IO's outbox of packets to send) and an event (uvicorn's
"writable"): a quarter of an idle socket's memory. These keep nothing while empty.

Each queue has one consumer (the socket's reader, or its writer); the flag may have many waiters.
"""

from __future__ import annotations

import asyncio
from typing import Any


class LightQueue:
    """The part of `asyncio.Queue` that uvicorn's WebSocket protocol and Engine.IO's socket use."""

    __slots__ = ("_items", "_joined", "_unfinished", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._unfinished = 0
        self._joined: asyncio.Future[None] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        self._unfinished += 1
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        items = self._items
        if not items:
            raise asyncio.QueueEmpty
        item = items.pop(0)
        if not items:
            self._items = None
        return item

    async def get(self) -> Any:
        await self._wait_for_items()
        return self.get_nowait()

    async def get_all(self) -> list[Any]:
        """Everything queued, waiting for at least one item; the items count as taken and done."""
        await self._wait_for_items()
        items = self._items or []
        self._items = None
        for _ in items:
            self.task_done()
        return items

    async def _wait_for_items(self) -> None:
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("LightQueue has one consumer")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def task_done(self) -> None:
        if self._unfinished > 0:
            self._unfinished -= 1
        if self._unfinished == 0 and self._joined is not None and not self._joined.done():
            self._joined.set_result(None)

    async def join(self) -> None:
        if self._unfinished == 0:
            return
        if self._joined is None or self._joined.done():
            self._joined = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._joined)


class Flag:
    """`asyncio.Event` without the deque it creates up front."""

    __slots__ = ("_set", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._set = value
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if self._set:
            return
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
