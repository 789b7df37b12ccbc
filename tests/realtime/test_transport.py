"""The trimmed WebSocket and Engine.IO transport (realtime/websocket.py, realtime/engine.py):
clients of every transport still work, silent clients are dropped, and an idle connection keeps
only what it was trimmed to."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from tests.conftest import RunningApp, make_settings, start_app
from tests.realtime.conftest import Connect, Http, make_ticket, open_socket
from ticket_comms.realtime.engine import EngineSocket
from ticket_comms.realtime.queues import LightQueue
from ticket_comms.realtime.websocket import WebSocketProtocol


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]])
async def test_long_polling_and_upgraded_clients_send_and_receive(
    app: RunningApp, connect: Connect, as_user: Http, transports: list[str]
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice = await connect("alice", transports=transports)
    bob = await connect("bob")
    if transports == ["polling", "websocket"]:
        await asyncio.sleep(0.5)  # let the upgrade finish; both transports carry events below
    ack = await alice.call("sendMessage", {"ticketId": ticket, "content": "over " + "+".join(transports)})
    assert ack["ok"] is True, ack
    await bob.wait("newMessage", lambda d: d["message"]["content"] == "over " + "+".join(transports))
    await bob.call("sendMessage", {"ticketId": ticket, "content": "back"})
    await alice.wait("newMessage", lambda d: d["message"]["content"] == "back")
    assert alice.client.transport() == transports[-1]


async def _open_raw(base_url: str, token: str) -> tuple[Any, dict[str, Any]]:
    """A WebSocket that speaks Engine.IO by hand, so the test decides whether pings are answered."""
    url = base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    ws = await ws_connect(url)
    opening = await asyncio.wait_for(ws.recv(), 5)
    assert isinstance(opening, str) and opening.startswith("0")
    await ws.send("40" + orjson.dumps({"token": token}).decode())
    connected = await asyncio.wait_for(ws.recv(), 5)
    assert isinstance(connected, str) and connected.startswith("40"), connected
    return ws, orjson.loads(opening[1:])


async def test_a_client_that_stops_answering_pings_is_disconnected(database_url: str, tmp_path: Any) -> None:
    running = await start_app(
        make_settings(database_url, tmp_path, socketio_ping_interval=1, socketio_ping_timeout=1)
    )
    try:
        token = running.token("alice", name="Alice")
        async with running.client("alice") as http:
            r = await http.post("/api/v1/tickets", json={"title": "Silent client", "participantIds": []})
            assert r.status_code == 201, r.text
            ticket = r.json()["id"]
        # A client that answers pings stays connected through several ping cycles.
        polite = await open_socket(running.base_url, "alice", token)
        # A client that never answers is closed after one interval plus the timeout.
        silent, opening = await _open_raw(running.base_url, token)
        assert opening["pingInterval"] == 1000 and opening["pingTimeout"] == 1000
        frames: list[str] = []
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(ConnectionClosed):
            while True:
                frames.append(await asyncio.wait_for(silent.recv(), 10))
        assert "2" in frames  # it was pinged
        assert loop.time() - started < 8
        # The server has let it go: a message reaches the polite socket and only it.
        assert len(running.asgi.engineio_server.eio.sockets) == 1  # type: ignore[attr-defined]
        assert polite.client.connected
        ack = await polite.call("sendMessage", {"ticketId": ticket, "content": "still here"})
        assert ack["ok"] is True
        await polite.client.disconnect()
    finally:
        await running.stop()


async def test_an_idle_connection_holds_one_writer_task_and_a_light_outbox(
    app: RunningApp, connect: Connect
) -> None:
    """What each of thousands of idle sockets keeps (docs/benchmarks.md, 10,000 idle sockets): its
    connection task, one writer task, no pending reads with timeouts, no sleeping ping task."""

    def transport_tasks() -> int:
        """Server-side tasks of connections (not the clients' own, which run in this loop too)."""
        per_connection = ("uvicorn/protocols/websockets/", "engineio/async_socket.py", "realtime/engine.py")
        count = 0
        for task in asyncio.all_tasks():
            code = getattr(task.get_coro(), "cr_code", None)
            if code is None or code.co_name == "_service_task":  # the server's one look, not a connection's
                continue
            if any(part in code.co_filename for part in per_connection):
                count += 1
        return count

    before = transport_tasks()
    socks = [await connect(f"idle{i}") for i in range(10)]
    await asyncio.sleep(0.2)
    assert transport_tasks() - before == 2 * len(socks)
    eio = app.asgi.engineio_server.eio  # type: ignore[attr-defined]
    for server_socket in eio.sockets.values():
        assert isinstance(server_socket, EngineSocket)
        assert isinstance(server_socket.queue, LightQueue)
        assert server_socket.queue.empty()
        # uvicorn's protocol keeps its attributes in slots, not in a dict of its own (websocket.py).
        protocol = server_socket.queue.direct.__self__
        assert isinstance(protocol, WebSocketProtocol) and vars(protocol) == {}
        # No timer of its own: the server's look sends its next ping and ends it when its token expires.
        assert 0 < server_socket.next_ping - time.time() <= eio.ping_interval
        assert server_socket.deadline is not None and server_socket.deadline > time.time()
    for sock in socks:
        await sock.client.disconnect()


class _StalledClient:
    """A WebSocket client that reads only when told to (websockets' sans-I/O protocol over a plain
    socket with a tiny receive buffer), so the server's transport has to push back."""

    def __init__(self, url: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.reader = reader
        self.writer = writer
        self.texts: list[str] = []

    @classmethod
    async def open(cls, app: RunningApp, token: str) -> _StalledClient:
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", app.settings.port))
        reader, writer = await asyncio.open_connection(sock=raw, limit=4096)
        client = cls(
            app.base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", reader, writer
        )
        client.protocol.send_request(client.protocol.connect())
        client._flush()
        await client.read_until(lambda texts: any(t.startswith("0") for t in texts))
        await client.send("40" + orjson.dumps({"token": token}).decode())
        await client.read_until(lambda texts: any(t.startswith("40") for t in texts))
        return client

    def _flush(self) -> None:
        self.writer.write(b"".join(self.protocol.data_to_send()))

    async def send(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self._flush()
        await self.writer.drain()

    async def read_until(self, done: Callable[[list[str]], bool], timeout: float = 10) -> None:
        async def read() -> None:
            while not done(self.texts):
                data = await self.reader.read(65536)
                assert data, "the server closed the connection"
                self.protocol.receive_data(data)
                for event in self.protocol.events_received():
                    if isinstance(event, Frame) and event.opcode == Opcode.TEXT:
                        text = event.data.decode()
                        if text == "2":
                            await self.send("3")
                        self.texts.append(text)

        await asyncio.wait_for(read(), timeout)

    def close(self) -> None:
        self.writer.close()


async def test_a_slow_reader_gets_every_message_in_order(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    """Packets go straight to the WebSocket while its transport takes them, and queue behind the
    writer once the client stops reading: nothing is lost or reordered across the switch."""
    ticket = await make_ticket(as_user, "alice", "bob")
    bob = await _StalledClient.open(app, app.token("bob"))
    alice = await connect("alice")
    total = 600
    content = "x" * 9_990
    for n in range(total):
        ack = await alice.call("sendMessage", {"ticketId": ticket, "content": f"{n:04d}{content}"})
        assert ack["ok"] is True, ack
    eio = app.asgi.engineio_server.eio  # type: ignore[attr-defined]
    assert max(s.queue.qsize() for s in eio.sockets.values()) > 0, "the transport never pushed back"

    def new_messages() -> list[int]:
        return [
            orjson.loads(t[2:])[1]["message"]["seq"] for t in bob.texts if t.startswith('42["newMessage"')
        ]

    # 6 MB through a pure-Python frame parser: generous, so a busy machine is not mistaken for a loss.
    await bob.read_until(lambda _: len(new_messages()) >= total, timeout=90)
    seqs = new_messages()
    assert seqs == sorted(seqs) and len(set(seqs)) == total
    bob.close()


def test_a_fan_out_frame_is_built_once_and_never_served_stale() -> None:
    from websockets.streams import StreamReader

    from ticket_comms.realtime import websocket

    def read(frame: bytes) -> tuple[Opcode, bytes]:
        reader = StreamReader()
        reader.feed_data(frame)
        parsed = _finish(Frame.parse(reader.read_exact, mask=False))
        return parsed.opcode, bytes(parsed.data)

    first = "".join(["42", '["newMessage",{"content":"héllo"}]'])
    other = "".join(["42", '["newMessage",{"content":"other"}]'])
    built = websocket._text_frame(first)
    assert websocket._text_frame(first) is built  # the same message: the same bytes, not rebuilt
    assert read(built) == (Opcode.TEXT, first.encode())
    assert read(websocket._text_frame(other)) == (Opcode.TEXT, other.encode())
    # An equal message that is another object is built again, and equal.
    again = "".join(["42", '["newMessage",{"content":"héllo"}]'])
    assert again is not first and read(websocket._text_frame(again)) == (Opcode.TEXT, first.encode())


def _finish(gen: Any) -> Any:
    """Drive a websockets sans-I/O parser generator to its return value."""
    try:
        while True:
            next(gen)
    except StopIteration as done:
        return done.value
