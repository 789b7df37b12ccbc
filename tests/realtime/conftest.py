"""Real Socket.IO clients (python-socketio's AsyncClient over WebSocket) against the served app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import socketio

from tests.conftest import RunningApp

Predicate = Callable[[Any], bool]


class Sock:
    """One connected client that records every server event it receives, in order."""

    def __init__(self, client: socketio.AsyncClient, user_id: str):
        self.client = client
        self.user_id = user_id
        self.received: list[tuple[str, Any]] = []
        self.disconnected = asyncio.Event()
        self._changed = asyncio.Condition()

    async def record(self, event: str, *args: Any) -> None:
        self.received.append((event, args[0] if len(args) == 1 else list(args)))
        async with self._changed:
            self._changed.notify_all()

    def got(self, event: str, where: Predicate | None = None) -> list[Any]:
        return [d for e, d in self.received if e == event and (where is None or where(d))]

    async def wait(self, event: str, where: Predicate | None = None, timeout: float = 5.0) -> Any:
        async def first() -> Any:
            async with self._changed:
                while True:
                    found = self.got(event, where)
                    if found:
                        return found[0]
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(first(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.user_id} got no {event!r}; received {self.received!r}") from None

    async def wait_count(
        self, event: str, count: int, where: Predicate | None = None, timeout: float = 10.0
    ) -> list:
        async def enough() -> list[Any]:
            async with self._changed:
                while len(self.got(event, where)) < count:
                    await self._changed.wait()
                return self.got(event, where)

        try:
            return await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            have = len(self.got(event, where))
            raise AssertionError(f"{self.user_id} got {have} of {count} {event!r}") from None

    async def call(self, event: str, data: Any = None, timeout: float = 10.0) -> Any:
        return await self.client.call(event, data, timeout=timeout)

    async def emit(self, event: str, data: Any = None) -> None:
        await self.client.emit(event, data)

    def clear(self) -> None:
        self.received.clear()


async def open_socket(base_url: str, user_id: str, token: str | None, **connect: Any) -> Sock:
    client = socketio.AsyncClient(reconnection=False)
    sock = Sock(client, user_id)
    client.on("*", sock.record)

    async def on_disconnect(*_: Any) -> None:
        sock.disconnected.set()

    client.on("disconnect", on_disconnect)
    auth = {"token": token} if token is not None else None
    connect.setdefault("transports", ["websocket"])
    await client.connect(base_url, auth=auth, socketio_path="socket.io", wait_timeout=10, **connect)
    return sock


Connect = Callable[..., Awaitable[Sock]]


@pytest.fixture
async def connect(app: RunningApp) -> AsyncIterator[Connect]:
    """`await connect("alice")` → a connected Sock for alice (token with name and email claims)."""
    socks: list[Sock] = []

    async def make(
        user_id: str, role: str | None = None, *, target: RunningApp | None = None, **kw: Any
    ) -> Sock:
        running = target or app
        token = running.token(user_id, role, name=user_id.title(), email=f"{user_id}@example.com")
        sock = await open_socket(running.base_url, user_id, token, **kw)
        socks.append(sock)
        return sock

    yield make
    for sock in socks:
        if sock.client.connected:
            await sock.client.disconnect()


Http = Callable[..., httpx.AsyncClient]


async def register(as_user: Http, *user_ids: str) -> None:
    for user_id in user_ids:
        r = await as_user(user_id).get("/api/v1/me")
        assert r.status_code == 200, r.text


async def make_ticket(as_user: Http, creator: str, *others: str, title: str = "Leaking tap") -> str:
    await register(as_user, creator, *others)
    r = await as_user(creator).post("/api/v1/tickets", json={"title": title, "participantIds": list(others)})
    assert r.status_code == 201, r.text
    return r.json()["id"]
