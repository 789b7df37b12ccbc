"""Engine.IO (the transport under Socket.IO), trimmed for thousands of idle WebSocket connections.

Engine.IO's stock WebSocket socket keeps, for each connection, five asyncio tasks (the reader, a
task per pending read, the writer, a task per pending queue read, a sleeping ping task), two
timeout timers, a 3 KB `asyncio.Queue` and the handshake's request environ. Measured on this
machine that was about 10 KB of a 26 KB idle socket (tracemalloc, 1,000 connections). Here a
socket that opens directly as a WebSocket (what the React and Flutter clients do) keeps:

- its reader (the connection's own ASGI task) and one writer task, which sleeps while packets are
  written straight to the WebSocket (`Outbox`) and only works when the client reads slowly;
- an `Outbox` (a `LightQueue`, `realtime/queues.py`);
- two floats: when its next ping is due, and when its connection ends (the token's expiry). The
  server looks over every socket once a second (`EngineServer._look`) to send the pings that are
  due, close clients that stopped answering and end expired connections: no timer per socket.

Reads wait without a timeout: a client that stops answering pings is closed by the server's
look; `EngineSocket.close` then wakes the writer, which closes the
WebSocket, and the reader sees the disconnect. Clients that start with long-polling and
upgrade keep Engine.IO's own path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import engineio
from engineio import async_socket, exceptions, packet

from ticket_comms.realtime import patches
from ticket_comms.realtime.queues import LightQueue
from ticket_comms.realtime.websocket import WebSocketProtocol

log = logging.getLogger(__name__)


class Outbox(LightQueue):
    """A socket's packets to send. While its writer task is idle (nothing queued, nothing being
    sent), a packet is written to the WebSocket at once instead of waking the writer: fanning a
    chat message out to thousands of sockets then costs no task switch per recipient, and leaves
    no fresh waiter objects behind for the garbage collector (which counts them badly: every wake
    replaced a chain of live objects, and young collections grew to 100,000 objects and 50-100 ms
    pauses). Order is kept: once anything is queued, everything after it is queued too."""

    __slots__ = ("direct",)

    def __init__(self) -> None:
        super().__init__()
        self.direct: Callable[[str | bytes], bool] | None = None

    def put_nowait(self, item: Any) -> None:
        direct = self.direct
        waiter = self._waiter
        if (
            direct is not None
            and item is not None
            and not self._items
            and waiter is not None
            and not waiter.done()
            and direct(item.encode())
        ):
            return
        super().put_nowait(item)


class EngineSocket(async_socket.AsyncSocket):
    last_ping: float | None
    connected: bool
    # When the server's next look (EngineServer._look) sends this socket its ping (0: none due), and
    # when it ends the connection (None: never; the Socket.IO server sets the sign-in token's expiry).
    # Two floats instead of a loop timer each: a uvloop timer handle is about 600 bytes.
    next_ping: float = 0.0
    deadline: float | None = None

    def schedule_ping(self) -> None:
        # Only after the previous ping was answered (Engine.IO's rule); sent by the server's look.
        if self.last_ping:
            self.last_ping = None
            self.next_ping = time.time() + self.server.ping_interval

    def ping(self, now: float) -> None:
        self.next_ping = 0.0
        self.last_ping = now
        self.queue.put_nowait(packet.Packet(packet.PING))

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        await super().close(wait=wait, abort=abort, reason=reason)
        if self.closed:
            # Wake whoever waits on the outbox (the writer, or a pending long-poll): the connection
            # ends after what is already queued. Engine.IO's own waits had timeouts for this; and
            # after a ping timeout its CLOSE packet is never queued, so nothing else would wake them.
            self.queue.put_nowait(None)

    async def _upgrade_websocket(self, environ: dict[str, Any]) -> Any:
        # The upgrade was decided on these headers; from here on nothing reads them, and the environ
        # lives as long as the connection (about 1 KB of strings).
        patches.drop_headers(environ)
        return await super()._upgrade_websocket(environ)

    async def _websocket_handler(self, ws: Any) -> None:
        if self.connected:
            # An upgrade from long-polling: Engine.IO's own handshake and loop.
            await super()._websocket_handler(ws)
            return
        self.connected = True
        self.upgraded = True
        outbox = self.queue
        protocol = getattr(ws.asgi_send, "__self__", None)
        if isinstance(outbox, Outbox) and isinstance(protocol, WebSocketProtocol):
            outbox.direct = protocol.send_now
        writer = asyncio.ensure_future(self._write(ws))
        limit = self.server.max_http_buffer_size
        while True:
            try:
                data = await ws.wait()
            except Exception:
                break
            if data is None or len(data) > limit:
                break
            try:
                await self.receive(packet.Packet(encoded_packet=data))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                break
            except Exception:
                log.exception("could not handle a packet from %s", self.sid)
        self.queue.put_nowait(None)  # the writer stops at this marker
        await writer
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)

    async def _write(self, ws: Any) -> None:
        outbox: LightQueue = self.queue  # type: ignore[assignment]
        stop = False
        while not stop:
            for pkt in await outbox.get_all():
                if pkt is None:
                    stop = True
                    break
                try:
                    await ws.send(pkt.encode())
                except Exception:
                    stop = True
                    break
            # After close() has queued its CLOSE packet and it has been sent, the connection ends.
            stop = stop or self.closed
        if isinstance(outbox, Outbox):
            outbox.direct = None
        await ws.close()


# How often the server looks over its sockets (EngineServer._look: pings due, pings unanswered,
# deadlines passed): at most this, and at most a quarter of the ping interval and timeout. How many
# unanswered clients one look closes, so that a network failure dropping thousands of clients at once
# spreads their closing over several looks; and how many sockets it looks at between two yields.
LOOK_SECONDS = 1.0
CLOSES_PER_LOOK = 500
LOOK_SLICE = 1_000


class EngineServer(engineio.AsyncServer):
    """Engine.IO's server with light outboxes, `EngineSocket`s, and no body reader kept per socket.

    Engine.IO's ASGI request translation defines a class for every request (the body reader in
    its environ), and the environ lives as long as the connection. A WebSocket has no body, so the
    reader is dropped at once: about 2 KB less per connected socket. At once, not with the headers
    in `EngineSocket._upgrade_websocket`: a class is a reference cycle, and by then it has often
    outlived the young collections (measured: 3 KB more per socket when dropped there).
    What each override replaces upstream, and why: realtime/patches.py."""

    def __init__(self, *args: Any, **kwargs: Any):
        # Every server start checks the library versions and has Engine.IO create EngineSockets.
        patches.apply(EngineSocket)
        super().__init__(*args, **kwargs)
        translate = self._async["translate_request"]  # type: ignore[has-type]
        self._async = {**self._async, "translate_request": patches.drop_websocket_body_reader(translate)}  # type: ignore[has-type]

    # Called with a socket's sid once its deadline (`end_at`) has passed.
    on_deadline: Callable[[str], None] | None = None

    def create_queue(self, *args: Any, **kwargs: Any) -> Outbox:  # type: ignore[override]
        return Outbox()

    def end_at(self, sid: str, when: float) -> None:
        """End socket `sid`'s connection at `when` (time.time()): `on_deadline(sid)` is called then."""
        sock = self.sockets.get(sid)
        if sock is not None:
            sock.deadline = when

    async def _service_task(self) -> None:
        """Engine.IO's monitor of connected clients, as one look over every socket a second: it also
        sends the pings that are due and ends connections whose deadline has passed.

        Upstream looks at one socket at a time and waits ping_timeout / (number of sockets) between
        two, each wait an `asyncio.wait_for` on an event: with 8,000 sockets and a 20 s timeout, 400
        of them a second, each creating a task, two futures and a timer, all day long (cProfile under
        fan-out: 860 a second). And each socket kept a loop timer for its next ping, and one for its
        token's expiry (about 1.2 KB per socket). A look compares a few floats per socket; a ping or
        an expiry is at most one look late (pings are due every 25 s, and a client waits 45 s)."""
        self.service_task_event = stop = self.create_event()
        interval = min(LOOK_SECONDS, self.ping_timeout / 4, self.ping_interval / 4)
        while True:
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return  # the server is shutting down
            except TimeoutError:
                pass
            try:
                await self._look(time.time())
            except Exception:
                log.exception("the look over connected clients failed")

    async def _look(self, now: float) -> None:
        late = []
        for seen, sock in enumerate(list(self.sockets.values())):
            if seen and seen % LOOK_SLICE == 0:
                # A look over 10,000 sockets is about 5 ms: in slices, not one pause of the loop.
                await asyncio.sleep(0)
            if sock.closed:
                if self.sockets.get(sock.sid) is sock:
                    del self.sockets[sock.sid]  # as upstream: a socket closed without being removed
                continue
            if sock.closing:
                continue
            if sock.last_ping:
                if now - sock.last_ping > self.ping_timeout:
                    late.append(sock)
            elif sock.next_ping and sock.next_ping <= now:
                sock.ping(now)
            if sock.deadline is not None and sock.deadline <= now:
                sock.deadline = None
                if self.on_deadline is not None:
                    self.on_deadline(sock.sid)
        for sock in late[:CLOSES_PER_LOOK]:
            # Not aborted: a CLOSE packet tells a half-open client it is disconnected (as upstream).
            await sock.close(wait=False, abort=False, reason=self.reason.PING_TIMEOUT)
