"""Two `serve` instances on one Redis and one database act as one Socket.IO server.

Redis: TEST_REDIS_URL (scripts/with-services.sh sets it) for the fan-out tests; the outage test
needs a Redis it may stop and restart, so it always starts its own. A Redis that cannot be started
fails the test: a skipped multi-process test is not a pass.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import RunningApp, free_port, make_settings, start_app
from tests.realtime.conftest import Connect, Http, make_ticket, register


class RedisServer:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (scripts/with-services.sh installs it)")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


async def _pair(database_url: str, tmp: Path, redis_url: str) -> tuple[RunningApp, RunningApp]:
    a = await start_app(make_settings(database_url, tmp / "a", redis_url=redis_url))
    b = await start_app(make_settings(database_url, tmp / "b", redis_url=redis_url))
    return a, b


@pytest.fixture
async def pair(
    database_url: str, tmp_path: Path, redis_url: str
) -> AsyncIterator[tuple[RunningApp, RunningApp]]:
    a, b = await _pair(database_url, tmp_path, redis_url)
    yield a, b
    await a.stop()
    await b.stop()


def _http(app: RunningApp, as_user: Http) -> Http:
    """as_user against another instance: same tokens (same secret), another base URL."""

    def make(user_id: str, role: str | None = None, **claims: Any) -> Any:
        client = as_user(user_id, role, **claims)
        client.base_url = app.base_url  # type: ignore[assignment]
        return client

    return make


async def test_events_cross_processes(
    pair: tuple[RunningApp, RunningApp], connect: Connect, as_user: Http
) -> None:
    a, b = pair
    ticket = await make_ticket(_http(a, as_user), "alice", "bob")
    alice_on_a, alice_on_b, bob_on_b = (
        await connect("alice", target=a),
        await connect("alice", target=b),
        await connect("bob", target=b),
    )

    ack = await alice_on_a.call("sendMessage", {"ticketId": ticket, "content": "from A"})
    assert ack["ok"], ack
    for sock in (alice_on_a, alice_on_b, bob_on_b):
        assert (await sock.wait("newMessage"))["message"] == ack["message"]

    assert (await bob_on_b.call("markAsRead", ticket)) == {"ok": True, "lastReadSeq": 1}
    await alice_on_a.wait("messagesRead", lambda d: d["userId"] == "bob")

    r = await _http(b, as_user)("bob").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "via B"})
    assert r.status_code == 201
    await alice_on_a.wait("newMessage", lambda d: d["message"]["content"] == "via B")

    # Typing is never echoed to the typer's sockets, on whichever process they are.
    assert (await alice_on_b.call("typing", {"ticketId": ticket, "isTyping": True}))["ok"]
    await bob_on_b.wait("userTyping")
    await asyncio.sleep(0.3)
    assert alice_on_a.got("userTyping") == [] and alice_on_b.got("userTyping") == []

    r = await _http(a, as_user)("boss", "admin").patch(
        f"/api/v1/tickets/{ticket}", json={"status": "Assigned"}
    )
    assert r.status_code == 200
    await bob_on_b.wait("ticketUpdate")


async def test_membership_changes_cross_processes(
    pair: tuple[RunningApp, RunningApp], connect: Connect, as_user: Http
) -> None:
    a, b = pair
    ticket = await make_ticket(_http(a, as_user), "alice", "bob")
    await register(as_user, "carol")
    carol_on_b, bob_on_b, alice_on_b = (
        await connect("carol", target=b),
        await connect("bob", target=b),
        await connect("alice", target=b),
    )

    r = await _http(a, as_user)("alice").post(
        f"/api/v1/tickets/{ticket}/participants", json={"userId": "carol"}
    )
    assert r.status_code == 201
    # The membership change travels before the System message that announces it.
    joined = await carol_on_b.wait("newMessage")
    assert joined["message"]["type"] == "System" and "Carol" in joined["message"]["content"]
    assert (await carol_on_b.call("sendMessage", {"ticketId": ticket, "content": "hi from carol"}))["ok"]

    r = await _http(a, as_user)("boss", "admin").delete(f"/api/v1/tickets/{ticket}/participants/bob")
    assert r.status_code == 204
    assert (await bob_on_b.wait("ticketUpdate"))["event"] == "removed"
    await alice_on_b.wait("newMessage", lambda d: "removed" in d["message"]["content"])
    await _http(a, as_user)("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "after bob"})
    await alice_on_b.wait("newMessage", lambda d: d["message"]["content"] == "after bob")
    await asyncio.sleep(0.2)
    assert [e["message"]["content"] for e in bob_on_b.got("newMessage")] == [
        "Alice added Carol",
        "hi from carol",
    ]


async def test_redis_outage_loses_nothing_persisted(
    database_url: str, tmp_path: Path, private_redis: RedisServer, connect: Connect, as_user: Http
) -> None:
    a, b = await _pair(database_url, tmp_path, private_redis.url)
    try:
        ticket = await make_ticket(_http(a, as_user), "alice", "bob")
        bob_on_b = await connect("bob", target=b)
        http_a = _http(a, as_user)("alice")
        r = await http_a.post(f"/api/v1/tickets/{ticket}/messages", json={"content": "before"})
        await bob_on_b.wait("newMessage")
        last_seen = r.json()["seq"]

        private_redis.stop()
        sent = []
        for i in range(5):
            r = await http_a.post(f"/api/v1/tickets/{ticket}/messages", json={"content": f"during {i}"})
            assert r.status_code == 201, r.text  # persisted and answered, Redis or not
            sent.append(r.json())
        private_redis.start()

        # Delivery across processes resumes once both processes have resubscribed.
        deadline = time.monotonic() + 20
        while True:
            r = await http_a.post(f"/api/v1/tickets/{ticket}/messages", json={"content": "probe"})
            sent.append(r.json())
            try:
                await bob_on_b.wait(
                    "newMessage", lambda d, s=r.json()["seq"]: d["message"]["seq"] == s, timeout=1
                )
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
        # What the socket missed while Redis was down, it gets back with sync: no gap, no duplicate.
        ack = await bob_on_b.call("sync", {"ticketId": ticket, "afterSeq": last_seen})
        assert ack["ok"] and not ack["hasMore"]
        assert [m["seq"] for m in ack["messages"]] == [m["seq"] for m in sent]
        assert [m["seq"] for m in ack["messages"]] == list(range(last_seen + 1, last_seen + 1 + len(sent)))
    finally:
        await a.stop()
        await b.stop()
