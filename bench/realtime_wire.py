"""A minimal Socket.IO v4 client speaking the wire protocol directly over one WebSocket.

Engine.IO v4 / Socket.IO v5 framing, text only: `0{open}` from the server, `40{auth}` to connect the
default namespace, `42[event, data]` events, `42<id>[...]` events wanting an ack answered by
`43<id>[ack]`, `2`/`3` ping/pong. It exists because python-socketio's client costs several times more
CPU per received event than the server does to send it, so a load generator built on it saturates
before the server; this one is a frame parser and nothing else. The tests use it too, to send frames
a well-behaved client never would.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

OnEvent = Callable[[str, Any], None]
OnAck = Callable[[int, Any], None]


class WireError(Exception):
    """The server refused the Socket.IO connection."""


class WireSocket:
    def __init__(self, ws: ClientConnection, on_event: OnEvent | None, on_ack: OnAck | None = None):
        self.ws = ws
        self.on_event = on_event
        # With on_ack set, acks go to it (a load generator needs no future per event).
        self.on_ack = on_ack
        self.sid: str | None = None
        self.closed = asyncio.Event()
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        base_url: str,
        token: str | None,
        *,
        on_event: OnEvent | None = None,
        on_ack: OnAck | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> WireSocket:
        url = base_url.replace("http", "ws", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        ws = await connect(
            url, additional_headers=headers, max_size=None, compression=None, open_timeout=timeout
        )
        sock = cls(ws, on_event, on_ack)
        try:
            opening = await asyncio.wait_for(ws.recv(), timeout)
            if not isinstance(opening, str) or not opening.startswith("0"):
                raise WireError(f"unexpected opening frame {opening!r}")
            auth = orjson.dumps({"token": token}).decode() if token is not None else ""
            await ws.send("40" + auth)
            while True:
                frame = await asyncio.wait_for(ws.recv(), timeout)
                if frame == "2":
                    await ws.send("3")
                    continue
                break
            if isinstance(frame, str) and frame.startswith("40"):
                sock.sid = orjson.loads(frame[2:])["sid"]
            elif isinstance(frame, str) and frame.startswith("44"):
                raise WireError(orjson.loads(frame[2:]))
            else:
                raise WireError(f"unexpected frame {frame!r}")
        except BaseException:
            await ws.close()
            raise
        sock._reader = asyncio.create_task(sock._read())
        return sock

    async def _read(self) -> None:
        ws = self.ws
        try:
            async for frame in ws:
                if not isinstance(frame, str):
                    continue
                kind = frame[:2]
                if kind == "42":
                    if self.on_event is not None:
                        body = orjson.loads(frame[2:])
                        self.on_event(body[0], body[1] if len(body) > 1 else None)
                elif frame == "2":
                    await ws.send("3")
                elif kind == "43":
                    bracket = frame.index("[")
                    if self.on_ack is not None:
                        body = orjson.loads(frame[bracket:])
                        self.on_ack(int(frame[2:bracket]), body[0] if body else None)
                        continue
                    future = self._acks.pop(int(frame[2:bracket]), None)
                    if future is not None and not future.done():
                        body = orjson.loads(frame[bracket:])
                        future.set_result(body[0] if body else None)
                elif kind == "41" or frame.startswith("1"):
                    break
        except Exception:
            pass
        finally:
            self.closed.set()
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(ConnectionError("socket closed"))

    async def send_raw(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def emit(self, event: str, data: Any = None) -> None:
        await self.ws.send("42" + orjson.dumps([event, data]).decode())

    async def emit_with_ack_id(self, ack_id: int, event: str, data: Any) -> None:
        """Send an event asking for an ack that will reach `on_ack` with this id."""
        await self.ws.send(f"42{ack_id}" + orjson.dumps([event, data]).decode())

    async def call(self, event: str, data: Any = None, timeout: float = 10.0) -> Any:
        ack_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self.ws.send(f"42{ack_id}" + orjson.dumps([event, data]).decode())
        return await asyncio.wait_for(future, timeout)

    async def close(self) -> None:
        try:
            await self.ws.send("41")
        except Exception:
            pass
        await self.ws.close()
        if self._reader is not None:
            await self._reader
