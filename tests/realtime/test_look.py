"""The Engine.IO server's look over its sockets (realtime/engine.py EngineServer._look): it sends the
pings that are due, closes clients that left theirs unanswered (a bounded number per look), ends
connections past their deadline, and forgets sockets closed without being removed.

Real EngineSockets on a real EngineServer, without connections: what the look decides is all in the
sockets' state; tests/realtime/test_transport.py and test_socket_events.py drive the same look through
real clients (a silent client dropped, an expiring token)."""

from __future__ import annotations

import time

import pytest
from engineio import packet

from ticket_comms.realtime import engine


def _server_with(*sids: str) -> tuple[engine.EngineServer, list[engine.EngineSocket]]:
    server = engine.EngineServer(async_mode="asgi", ping_interval=25, ping_timeout=20)
    socks = [engine.EngineSocket(server, sid) for sid in sids]
    for sock in socks:
        sock.last_ping = None  # as after the handshake: no ping outstanding
        server.sockets[sock.sid] = sock
    return server, socks


async def test_due_pings_are_sent_and_connections_past_their_deadline_are_ended() -> None:
    server, (due, later) = _server_with("due", "later")
    now = time.time()
    due.next_ping, later.next_ping = now - 1, now + 10
    due.deadline, later.deadline = now - 1, now + 3600
    ended: list[str] = []
    server.on_deadline = ended.append

    await server._look(now)

    assert due.last_ping == now and due.next_ping == 0
    assert due.queue.get_nowait().packet_type == packet.PING and due.queue.empty()
    assert later.last_ping is None and later.queue.empty()
    assert ended == ["due"] and due.deadline is None and later.deadline == now + 3600
    # A pong schedules the next ping one interval later; nothing is sent before it is due.
    due.schedule_ping()
    assert due.last_ping is None and due.next_ping == pytest.approx(time.time() + 25, abs=1)
    await server._look(time.time())
    assert due.queue.empty() and ended == ["due"]


async def test_a_look_closes_a_bounded_number_of_silent_clients_and_forgets_closed_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "CLOSES_PER_LOOK", 2)
    server, socks = _server_with(*(f"s{i}" for i in range(5)))
    answered = engine.EngineSocket(server, "answered")
    server.sockets["answered"] = answered
    for sock in socks:
        sock.last_ping = time.time() - 21  # pinged, and not answered within the 20 s timeout
    answered.last_ping = time.time() - 5  # pinged, still within the timeout

    await server._look(time.time())
    assert sum(s.closed for s in socks) == 2 and not answered.closed

    await server._look(time.time())
    assert sum(s.closed for s in socks) == 4
    assert len(server.sockets) == 4  # the first two closed ones are forgotten, the next two on the next look
    assert not answered.closed


async def test_a_look_in_slices_reaches_every_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "LOOK_SLICE", 2)
    server, socks = _server_with(*(f"s{i}" for i in range(5)))
    now = time.time()
    for sock in socks:
        sock.next_ping = now - 1
    await server._look(now)
    assert all(sock.last_ping == now and not sock.queue.empty() for sock in socks)
