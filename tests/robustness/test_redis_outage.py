"""Redis dies and comes back under two `serve` processes: no crash, fan-out recovers, nothing is lost.

What a client sees while Redis is down: its socket stays connected; events of its own process still
arrive live; events from the other process do not (Redis carried them), and the HTTP/socket calls
that produce them still succeed (everything is persisted first). When Redis returns, live delivery
across processes resumes by itself within seconds, a membership change made during the outage is
applied, and `sync` (afterSeq) returns exactly what the socket missed, no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningApp
from tests.realtime.conftest import Connect, Http, connect, make_ticket, register
from tests.realtime.test_multiprocess import RedisServer, _http, _pair

__all__ = ["connect"]  # the fixture, shared with the realtime tests

# Long enough for python-socketio's stock listener to have backed off to 8 s between resubscriptions.
OUTAGE_SECONDS = 8.0


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


async def _delivered_within(sock: object, post: object, deadline: float) -> float:
    """Post probes until one reaches `sock` live; the seconds that took."""
    started = time.monotonic()
    while True:
        r = await post()  # type: ignore[operator]
        assert r.status_code == 201, r.text
        seq = r.json()["seq"]
        try:
            await sock.wait("newMessage", lambda d, s=seq: d["message"]["seq"] == s, timeout=0.5)  # type: ignore[attr-defined]
            return time.monotonic() - started
        except AssertionError:
            if time.monotonic() > deadline:
                raise


async def test_fan_out_survives_a_redis_outage(
    database_url: str, tmp_path: Path, own_redis: RedisServer, connect: Connect, as_user: Http
) -> None:
    a, b = await _pair(database_url, tmp_path, own_redis.url)
    try:
        await _outage(a, b, own_redis, connect, as_user)
    finally:
        await a.stop()
        await b.stop()


async def _outage(a: RunningApp, b: RunningApp, redis: RedisServer, connect: Connect, as_user: Http) -> None:
    ticket = await make_ticket(_http(a, as_user), "alice", "bob")
    await register(as_user, "carol")
    alice_on_a = await connect("alice", target=a)
    bob_on_b = await connect("bob", target=b)
    carol_on_b = await connect("carol", target=b)
    http_a = _http(a, as_user)("alice")

    async def post(content: str = "probe") -> object:
        return await http_a.post(f"/api/v1/tickets/{ticket}/messages", json={"content": content})

    r = await post("before")
    await bob_on_b.wait("newMessage", lambda d: d["message"]["content"] == "before")
    last_seen = r.json()["seq"]

    redis.stop()
    down_until = time.monotonic() + OUTAGE_SECONDS
    during = []
    for i in range(3):
        r = await post(f"during {i}")
        assert r.status_code == 201, r.text  # persisted and answered, Redis or not
        during.append(r.json()["seq"])
        # The sender's own process still delivers live to its sockets.
        await alice_on_a.wait("newMessage", lambda d, s=during[-1]: d["message"]["seq"] == s)
    # A participant added during the outage (carol's socket is on the other process).
    r = await http_a.post(f"/api/v1/tickets/{ticket}/participants", json={"userId": "carol"})
    assert r.status_code == 201, r.text
    # Both processes stay up and ready (Redis is not needed to serve a process's own sockets).
    for app in (a, b):
        ready = await _http(app, as_user)("alice").get("/readyz")
        assert ready.status_code == 200, ready.text
    await asyncio.sleep(max(0.0, down_until - time.monotonic()))
    assert not bob_on_b.got("newMessage", lambda d: d["message"]["content"].startswith("during"))
    redis.start()

    # Live delivery across processes resumes by itself (the listener resubscribes within seconds).
    recovered = await _delivered_within(bob_on_b, post, time.monotonic() + 30)
    # Reported, not asserted (timings belong in bench/): with the stock listener's doubling backoff
    # this was up to 60 s after a long outage; realtime/manager.py caps it.
    print(f"\ncross-process delivery resumed {recovered:.1f} s after Redis came back")
    # The membership change made during the outage reached carol's process: she gets new messages.
    await _delivered_within(carol_on_b, post, time.monotonic() + 10)

    # No socket was disconnected by the outage.
    assert not any(s.disconnected.is_set() for s in (alice_on_a, bob_on_b, carol_on_b))
    # What bob missed live, sync returns: every message once, in order, no gap.
    ack = await bob_on_b.call("sync", {"ticketId": ticket, "afterSeq": last_seen})
    assert ack["ok"] and not ack["hasMore"]
    seqs = [m["seq"] for m in ack["messages"]]
    assert seqs == list(range(last_seen + 1, last_seen + 1 + len(seqs)))
    assert set(during) <= set(seqs)
    live = [d["message"]["seq"] for d in bob_on_b.got("newMessage")]
    assert len(live) == len(set(live))  # nothing delivered twice
