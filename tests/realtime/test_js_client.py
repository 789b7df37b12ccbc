"""The official JavaScript socket.io-client (npm, pinned in tests/realtime/js) against the server."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import RunningApp
from tests.realtime.conftest import Http, make_ticket

HARNESS = Path(__file__).parent / "js"


@pytest.fixture(scope="session")
def js_harness() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("Node.js and npm are required for the socket.io-client test")
    installed = HARNESS / "node_modules" / "socket.io-client" / "package.json"
    if not installed.exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HARNESS, check=True, timeout=300)
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
