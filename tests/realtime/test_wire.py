"""Frames a well-behaved client never sends, written straight onto the WebSocket."""

from __future__ import annotations

import asyncio

import pytest
from bench.realtime_wire import WireError, WireSocket

from tests.conftest import RunningApp
from tests.realtime.conftest import Http, make_ticket


@pytest.mark.parametrize(
    "frame",
    ['42["sendMessage",{', '42{"a":1}', "42[]", "4x", "9", b"\x00\x01binary", '42[5,{"ticketId":1}]'],
)
async def test_malformed_frames_leave_the_connection_up(
    app: RunningApp, as_user: Http, frame: str | bytes
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    events: list[tuple[str, object]] = []
    sock = await WireSocket.open(
        app.base_url, app.token("alice"), on_event=lambda e, d: events.append((e, d))
    )
    try:
        await sock.send_raw(frame)
        ack = await sock.call("sendMessage", {"ticketId": ticket, "content": "still here"})
        assert ack["ok"] is True, ack
        assert not sock.closed.is_set()
        if frame in ('42["sendMessage",{', '42{"a":1}', "42[]", "4x"):
            assert ("error", {"code": "bad_packet", "message": "The packet is malformed."}) in events
    finally:
        await sock.close()


async def test_integers_beyond_64_bits_get_a_validation_error(app: RunningApp, as_user: Http) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    sock = await WireSocket.open(app.base_url, app.token("alice"))
    try:
        await sock.send_raw(f'421["markAsRead",{{"ticketId":"{ticket}","upToSeq":{2**70}}}]')
        future = asyncio.get_running_loop().create_future()
        sock._acks[1] = future
        ack = await asyncio.wait_for(future, 5)
        assert ack["ok"] is False and ack["error"]["code"] == "validation_failed"
    finally:
        await sock.close()


async def test_frames_over_the_size_limit_close_the_connection(app: RunningApp, as_user: Http) -> None:
    """Like Node's socket.io (maxHttpBufferSize 1e6): a frame over 1 MB is not read; the client is cut off.

    Payloads under the limit but over what the contract allows get an error ack (see the junk test)."""
    ticket = await make_ticket(as_user, "alice", "bob")
    sock = await WireSocket.open(app.base_url, app.token("alice"))
    await sock.emit("sendMessage", {"ticketId": ticket, "content": "y" * 2_000_000})
    await asyncio.wait_for(sock.closed.wait(), 5)
    await sock.close()
    r = await as_user("alice").get(f"/api/v1/tickets/{ticket}/messages")
    assert r.json()["items"] == []


async def test_refused_connection_answers_connect_error(app: RunningApp) -> None:
    with pytest.raises(WireError) as refused:
        await WireSocket.open(app.base_url, "nope")
    assert refused.value.args[0]["data"]["code"] == "unauthenticated"
