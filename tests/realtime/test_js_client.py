"""The official JavaScript socket.io-client (npm, pinned in tests/realtime/js) against the server."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunningApp
from tests.realtime.conftest import Http, make_ticket

HARNESS = Path(__file__).parent / "js"


@pytest.fixture(scope="session")
async def js_harness() -> Path:
    """The npm packages of tests/realtime/js, installed once per session.

    `npm ci` runs as a subprocess awaited on the event loop, never synchronously: the session's
    app under test is served by this same loop, and a fixture that blocked it (tens of seconds on
    a fresh clone) would stall every connection of the tests around it.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("Node.js and npm are required for the socket.io-client tests")
    installed = HARNESS / "node_modules" / "socket.io-client" / "package.json"
    if not installed.exists():
        proc = await asyncio.create_subprocess_exec(
            npm,
            "ci",
            "--no-audit",
            "--no-fund",
            cwd=HARNESS,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 300)
        assert proc.returncode == 0, out.decode()
    return HARNESS


async def test_full_exchange_with_the_official_js_client(
    app: RunningApp, as_user: Http, js_harness: Path
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "earlier"})
    env = {
        **os.environ,
        "BASE_URL": app.base_url,
        "TOKEN_A": app.token("alice", name="Alice"),
        "TOKEN_B": app.token("bob", name="Bob"),
        "TICKET": ticket,
    }
    proc = await asyncio.create_subprocess_exec(
        "node", str(js_harness / "exchange.mjs"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["ok"], seen.get("failure")

    assert seen["refused"]["data"]["code"] == "unauthenticated"
    assert seen["transport"] == "websocket"  # started on polling, upgraded
    assert seen["join"]["ok"] and [m["content"] for m in seen["join"]["messages"]] == ["earlier"]
    assert seen["messagesEvent"] == {"ticketId": ticket, "messages": seen["join"]["messages"]}
    assert seen["typingAck"] == {"ok": True}
    assert seen["userTyping"] == {"ticketId": ticket, "userId": "alice", "isTyping": True}
    message = seen["sendAck"]["message"]
    assert (
        seen["sendAck"]["ok"] and message["content"] == "Hello from socket.io-client" and message["seq"] == 2
    )
    assert seen["bobNewMessage"] == {"ticketId": ticket, "message": message}
    assert seen["aliceNewMessage"] == {"ticketId": ticket, "message": message}
    assert seen["typingStopped"] == {"ticketId": ticket, "userId": "alice", "isTyping": False}
    assert seen["readAck"] == {"ok": True, "lastReadSeq": 2}
    assert seen["messagesRead"]["userId"] == "bob" and seen["messagesRead"]["lastReadSeq"] == 2
    assert seen["errorEvent"]["code"] == "content_empty"
    assert [m["seq"] for m in seen["syncAck"]["messages"]] == [1, 2] and seen["syncAck"]["hasMore"] is False


# Exchanges run side by side, and rounds each: a few hundred connections that start on long-polling
# and upgrade to WebSocket while the exchange's live events are already flowing. No round starts after
# the deadline, so that an overloaded machine still finishes in bounded time (it then does fewer).
STRESS_WORKERS = 8
STRESS_ROUNDS = 30
STRESS_DEADLINE_SECONDS = 25


async def test_no_live_event_is_missed_across_hundreds_of_upgrading_connections(
    app: RunningApp, as_user: Http, js_harness: Path
) -> None:
    """Every `userTyping`, `newMessage` and `messagesRead` reaches the official client, under CPU load,
    however the polling -> WebSocket upgrade interleaves with them (issue 17)."""
    pairs = []
    for worker in range(STRESS_WORKERS):
        alice, bob = f"stress-alice-{worker}", f"stress-bob-{worker}"
        ticket = await make_ticket(as_user, alice, bob)
        pairs.append(
            {"ticket": ticket, "tokenA": app.token(alice, name="A"), "tokenB": app.token(bob, name="B")}
        )
    env = {
        **os.environ,
        "BASE_URL": app.base_url,
        "PAIRS": json.dumps(pairs),
        "ROUNDS": str(STRESS_ROUNDS),
        "DEADLINE_MS": str(STRESS_DEADLINE_SECONDS * 1000),
    }
    # Both cores busy, as on a loaded CI machine: the interleavings that could lose events become likely.
    burn = "import time\nend = time.monotonic() + 90\nwhile time.monotonic() < end: pass"
    burners = [await asyncio.create_subprocess_exec(sys.executable, "-c", burn) for _ in range(2)]
    try:
        proc = await asyncio.create_subprocess_exec(
            "node", str(js_harness / "stress.mjs"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), STRESS_DEADLINE_SECONDS + 40)
    finally:
        for burner in burners:
            burner.kill()
            await burner.wait()
    assert proc.returncode == 0, err.decode()
    seen = json.loads(out.decode().strip().splitlines()[-1])
    print(f"stress: {seen['rounds']} exchanges, {seen['upgraded']} upgraded, misses {seen['misses']}")
    assert seen["rounds"] >= STRESS_WORKERS
    assert seen["misses"] == {
        "newMessage": 0,
        "userTyping": 0,
        "messagesRead": 0,
        "typingStopped": 0,
        "ack": 0,
        "connect": 0,
    }, seen["failures"]
    # The connections did upgrade: the rounds exercised the transport switch, not polling alone.
    assert seen["upgraded"] == seen["rounds"]
