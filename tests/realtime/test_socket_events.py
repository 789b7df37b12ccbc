"""Every client and server event of the Socket.IO contract, with real clients over WebSocket."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import socketio

from tests.conftest import RunningApp, make_settings, start_app
from tests.realtime.conftest import Connect, Http, make_ticket, open_socket, register
from ticket_comms.auth.tokens import mint
from ticket_comms.realtime import server as realtime_server


async def _refused(base_url: str, auth: Any, headers: dict[str, str] | None = None) -> list[Any]:
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []

    async def on_error(data: Any = None) -> None:
        errors.append(data)

    client.on("connect_error", on_error)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            base_url, auth=auth, headers=headers or {}, transports=["websocket"], wait_timeout=5
        )
    assert not client.connected
    if client.eio.http is not None:
        await client.eio.http.close()  # the refused client's HTTP session
    return errors


@pytest.mark.parametrize("case", ["none", "no_token", "not_a_string", "garbage", "wrong_secret", "expired"])
async def test_connect_refused_without_a_valid_token(app: RunningApp, case: str) -> None:
    other = app.settings.model_copy(update={"jwt_secret": "another-secret-" + "y" * 40})
    auth = {
        "none": None,
        "no_token": {},
        "not_a_string": {"token": 12345},
        "garbage": {"token": "not.a.jwt"},
        "wrong_secret": {"token": mint(other, "mallory")},
        "expired": {"token": mint(app.settings, "mallory", ttl_seconds=-30)},
    }[case]
    errors = await _refused(app.base_url, auth)
    assert errors and errors[0]["data"]["code"] == "unauthenticated", errors


async def test_a_token_that_expires_while_connected_ends_the_connection(app: RunningApp) -> None:
    sock = await open_socket(app.base_url, "alice", mint(app.settings, "alice", ttl_seconds=2))
    assert sock.client.connected
    error = await sock.wait("error", timeout=6)
    assert error["code"] == "token_expired"
    await asyncio.wait_for(sock.disconnected.wait(), 5)
    assert not sock.client.connected


async def test_socket_message_reaches_every_participant_socket_and_nobody_else(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    await register(as_user, "carol")
    alice_phone, alice_laptop, bob, carol = (
        await connect("alice"),
        await connect("alice"),
        await connect("bob"),
        await connect("carol"),
    )

    ack = await alice_phone.call(
        "sendMessage", {"ticketId": ticket, "content": "  hello  ", "clientId": "c-1"}
    )
    assert ack["ok"] is True, ack
    message = ack["message"]
    assert message["content"] == "hello" and message["senderId"] == "alice" and message["clientId"] == "c-1"
    for sock in (alice_phone, alice_laptop, bob):
        event = await sock.wait("newMessage")
        assert event == {"ticketId": ticket, "message": message}
    await asyncio.sleep(0.2)
    assert carol.got("newMessage") == []

    # Retrying the same clientId returns the first message and emits nothing new.
    again = await alice_phone.call("sendMessage", {"ticketId": ticket, "content": "hello", "clientId": "c-1"})
    assert again == {"ok": True, "message": message}
    await asyncio.sleep(0.2)
    assert len(bob.got("newMessage")) == 1


async def test_http_message_is_delivered_like_a_socket_one(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice, bob = await connect("alice"), await connect("bob")
    r = await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "over http"})
    assert r.status_code == 201
    for sock in (alice, bob):
        assert await sock.wait("newMessage") == {"ticketId": ticket, "message": r.json()}


async def test_message_updated_for_edit_reaction_and_delete(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    bob = await connect("bob")
    alice_http, bob_http = as_user("alice"), as_user("bob")
    sent = (await alice_http.post(f"/api/v1/tickets/{ticket}/messages", json={"content": "draft"})).json()
    base = f"/api/v1/tickets/{ticket}/messages/{sent['id']}"

    def updated(pred: Any) -> Any:
        return lambda d: d["message"]["id"] == sent["id"] and pred(d["message"])

    assert (await alice_http.patch(base, json={"content": "final"})).status_code == 200
    edit = await bob.wait("messageUpdated", updated(lambda m: m["content"] == "final"))
    assert edit["ticketId"] == ticket and edit["message"]["editedAt"]

    assert (await bob_http.put(f"{base}/reactions/👍")).status_code == 200
    await bob.wait("messageUpdated", updated(lambda m: m["reactions"] == {"👍": ["bob"]}))
    assert (await bob_http.delete(f"{base}/reactions/👍")).status_code == 200
    await bob.wait("messageUpdated", updated(lambda m: m["reactions"] == {} and m["content"] == "final"))

    assert (await alice_http.delete(base)).status_code == 204
    gone = await bob.wait("messageUpdated", updated(lambda m: m["deletedAt"] is not None))
    assert gone["message"]["content"] == "" and gone["message"]["attachment"] is None
    assert len(bob.got("messageUpdated")) == 4


async def test_mark_as_read_emits_messages_read(app: RunningApp, connect: Connect, as_user: Http) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice, bob = await connect("alice"), await connect("bob")
    for i in range(3):
        await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": f"m{i}"})
    start = 1  # the ticket has no System message at creation; alice's 3 messages are seq 1..3
    ack = await bob.call("markAsRead", {"ticketId": ticket, "upToSeq": start + 1})
    assert ack == {"ok": True, "lastReadSeq": start + 1}
    event = await alice.wait("messagesRead")
    assert event["ticketId"] == ticket and event["userId"] == "bob" and event["lastReadSeq"] == start + 1
    assert event["timestamp"]
    # The plain `ticketId` form reads everything; it never moves backwards.
    assert await bob.call("markAsRead", ticket) == {"ok": True, "lastReadSeq": 3}
    await alice.wait("messagesRead", lambda d: d["lastReadSeq"] == 3)
    assert await bob.call("markAsRead", {"ticketId": ticket, "upToSeq": 1}) == {"ok": True, "lastReadSeq": 3}
    # HTTP reads are broadcast the same way; a read mark that does not move emits nothing.
    r = await as_user("bob").post(f"/api/v1/tickets/{ticket}/read", json={})
    assert r.status_code == 200
    await asyncio.sleep(0.2)
    assert [e["lastReadSeq"] for e in alice.got("messagesRead")] == [2, 3]
    await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "m4"})
    assert (await as_user("bob").post(f"/api/v1/tickets/{ticket}/read", json={})).status_code == 200
    await alice.wait("messagesRead", lambda d: d["lastReadSeq"] == 4)


@pytest.fixture
def short_typing(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(realtime_server, "TYPING_TIMEOUT_SECONDS", 0.6)
    return 0.6


async def test_typing_reaches_the_others_only_and_expires(
    app: RunningApp, connect: Connect, as_user: Http, short_typing: float
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice, alice_other, bob = await connect("alice"), await connect("alice"), await connect("bob")
    assert await alice.call("typing", {"ticketId": ticket, "isTyping": True}) == {"ok": True}
    started = await bob.wait("userTyping")
    assert started == {"ticketId": ticket, "userId": "alice", "isTyping": True}
    # Silent for the timeout: reported stopped.
    stopped = await bob.wait("userTyping", lambda d: d["isTyping"] is False, timeout=short_typing + 3)
    assert stopped == {"ticketId": ticket, "userId": "alice", "isTyping": False}
    # Never echoed to the typer, on any of the typer's sockets.
    assert alice.got("userTyping") == [] and alice_other.got("userTyping") == []


async def test_typing_stops_explicitly_and_on_send(
    app: RunningApp, connect: Connect, as_user: Http, short_typing: float
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.call("typing", {"ticketId": ticket, "isTyping": True})
    await alice.call("typing", {"ticketId": ticket, "isTyping": False})
    await bob.wait_count("userTyping", 2)
    assert [e["isTyping"] for e in bob.got("userTyping")] == [True, False]
    bob.clear()
    await alice.call("typing", {"ticketId": ticket, "isTyping": True})
    await alice.call("sendMessage", {"ticketId": ticket, "content": "done typing"})
    await bob.wait_count("userTyping", 2)
    assert [e["isTyping"] for e in bob.got("userTyping")] == [True, False]
    await asyncio.sleep(short_typing + 0.3)
    assert len(bob.got("userTyping")) == 2  # the timer was cancelled: no second "stopped"


async def test_typing_is_throttled(app: RunningApp, connect: Connect, as_user: Http) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice, bob = await connect("alice"), await connect("bob")
    acks = await asyncio.gather(
        *[alice.call("typing", {"ticketId": ticket, "isTyping": True}) for _ in range(30)]
    )
    limited = [a for a in acks if not a["ok"]]
    assert limited and all(a["error"]["code"] == "rate_limited" for a in limited)
    assert sum(a["ok"] for a in acks) <= realtime_server.TYPING_EVENTS_PER_SECOND
    await asyncio.sleep(0.3)
    # Repeated "still typing" events are not re-broadcast.
    assert len(bob.got("userTyping")) == 1
    assert alice.client.connected
    assert (await alice.call("sendMessage", {"ticketId": ticket, "content": "still here"}))["ok"]


async def test_ticket_update_reaches_participants(app: RunningApp, connect: Connect, as_user: Http) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    bob = await connect("bob")
    # Only the assignee or an admin may change the status (API.md "Tickets").
    r = await as_user("boss", role="admin").patch(f"/api/v1/tickets/{ticket}", json={"status": "InProgress"})
    assert r.status_code == 200
    update = await bob.wait("ticketUpdate")
    assert update["ticketId"] == ticket and update["event"] == "updated"
    assert update["ticket"]["status"] == "InProgress"
    system = await bob.wait("newMessage")
    assert system["message"]["type"] == "System" and system["message"]["senderId"] is None


async def test_new_ticket_reaches_its_participants_connected_sockets(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    await register(as_user, "alice", "bob", "carol")
    bob, carol = await connect("bob"), await connect("carol")
    r = await as_user("alice").post("/api/v1/tickets", json={"title": "New", "participantIds": ["bob"]})
    ticket = r.json()["id"]
    created = await bob.wait("ticketUpdate")
    assert created["ticketId"] == ticket and created["event"] == "created"
    # bob's socket joined the room on creation: he receives the ticket's messages at once.
    await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "first"})
    await bob.wait("newMessage")
    await asyncio.sleep(0.2)
    assert carol.received == []


async def test_join_ticket_returns_the_latest_messages(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    for i in range(25):
        await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": f"m{i + 1}"})
    bob = await connect("bob")
    ack = await bob.call("joinTicket", ticket)
    assert ack["ok"] is True
    assert [m["seq"] for m in ack["messages"]] == list(range(6, 26))
    event = await bob.wait("messages")
    assert event == {"ticketId": ticket, "messages": ack["messages"]}
    # The object form works too.
    assert (await bob.call("joinTicket", {"ticketId": ticket}))["ok"]


async def test_admin_may_join_any_ticket_and_outsiders_may_not(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    admin, carol = await connect("root", "admin"), await connect("carol")
    assert (await admin.call("joinTicket", ticket))["ok"]
    await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "watched"})
    await admin.wait("newMessage")
    denied = await carol.call("joinTicket", ticket)
    assert denied == {"ok": False, "error": {"code": "ticket_not_found", "message": "Ticket not found."}}
    assert carol.got("messages") == []


async def test_leave_ticket_stops_that_socket_only(app: RunningApp, connect: Connect, as_user: Http) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    bob_phone, bob_laptop = await connect("bob"), await connect("bob")
    assert await bob_phone.call("leaveTicket", ticket) == {"ok": True}
    await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "after leave"})
    await bob_laptop.wait("newMessage")
    await asyncio.sleep(0.2)
    assert bob_phone.got("newMessage") == []
    # Joining again brings it back.
    assert (await bob_phone.call("joinTicket", ticket))["ok"]
    await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "back"})
    await bob_phone.wait("newMessage")


async def test_sync_catches_up_without_gaps_after_a_disconnect(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice, bob = await connect("alice"), await connect("bob")
    for i in range(5):
        assert (await alice.call("sendMessage", {"ticketId": ticket, "content": f"early {i}"}))["ok"]
    seen = await bob.wait_count("newMessage", 5)
    last_seen = max(e["message"]["seq"] for e in seen)
    await bob.client.disconnect()
    # While bob is away: socket sends, HTTP sends and a System message.
    for i in range(23):
        await alice.call("sendMessage", {"ticketId": ticket, "content": f"away {i}"})
    await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "http while away"})
    await as_user("boss", role="admin").patch(f"/api/v1/tickets/{ticket}", json={"status": "OnHold"})
    bob = await connect("bob")
    caught: list[dict[str, Any]] = []
    after = last_seen
    while True:
        ack = await bob.call("sync", {"ticketId": ticket, "afterSeq": after, "limit": 7})
        assert ack["ok"], ack
        caught += ack["messages"]
        if not ack["hasMore"]:
            break
        after = ack["messages"][-1]["seq"]
    seqs = [m["seq"] for m in caught]
    assert seqs == list(range(last_seen + 1, last_seen + 26))
    assert caught[-1]["type"] == "System"
    assert (await bob.call("sync", {"ticketId": ticket, "afterSeq": seqs[-1]})) == {
        "ok": True,
        "messages": [],
        "hasMore": False,
    }


NOT_A_TICKET = str(uuid.uuid4())
JUNK: list[tuple[str, Any]] = [
    ("joinTicket", None),
    ("joinTicket", 42),
    ("joinTicket", "not-a-uuid"),
    ("joinTicket", NOT_A_TICKET),
    ("joinTicket", {"ticket": "x"}),
    ("joinTicket", ["a", "b"]),
    ("leaveTicket", {"ticketId": 7}),
    ("sendMessage", None),
    ("sendMessage", "hello"),
    ("sendMessage", {"content": "no ticket"}),
    ("sendMessage", {"ticketId": "{TICKET}"}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "   "}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": 5}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": ["a"]}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "x" * 10_001}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "x" * 300_000}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "hi", "type": "Video"}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "hi", "type": "System"}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "hi", "attachmentId": "nope"}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "hi", "attachmentId": NOT_A_TICKET}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "hi", "replyToId": NOT_A_TICKET}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "hi", "clientId": ""}),
    ("sendMessage", {"ticketId": "{TICKET}", "content": "hi", "clientId": {"a": 1}}),
    ("sendMessage", {"ticketId": NOT_A_TICKET, "content": "hi"}),
    ("sendMessage", {"ticketId": "{OTHER}", "content": "hi"}),
    ("markAsRead", None),
    ("markAsRead", {"ticketId": "{TICKET}", "upToSeq": -1}),
    ("markAsRead", {"ticketId": "{TICKET}", "upToSeq": "many"}),
    ("markAsRead", {"ticketId": "{TICKET}", "upToSeq": 2**63 - 1}),
    ("markAsRead", {"ticketId": "{OTHER}"}),
    ("typing", {"ticketId": "{TICKET}"}),
    ("typing", {"ticketId": "{TICKET}", "isTyping": "very"}),
    ("typing", {"ticketId": "{OTHER}", "isTyping": True}),
    ("typing", "{TICKET}"),
    ("sync", {"ticketId": "{TICKET}"}),
    ("sync", {"ticketId": "{TICKET}", "afterSeq": -5}),
    ("sync", {"ticketId": "{TICKET}", "afterSeq": 0, "limit": 0}),
    ("sync", {"ticketId": "{TICKET}", "afterSeq": 0, "limit": 100_000}),
    ("sync", {"ticketId": "{OTHER}", "afterSeq": 0}),
    ("sync", {"ticketId": NOT_A_TICKET, "afterSeq": 0}),
    ("sync", 3.5),
]


def _fill(payload: Any, ticket: str, other: str) -> Any:
    if isinstance(payload, str):
        return payload.replace("{TICKET}", ticket).replace("{OTHER}", other)
    if isinstance(payload, dict):
        return {k: _fill(v, ticket, other) for k, v in payload.items()}
    return payload


async def test_junk_payloads_get_an_error_ack_and_the_connection_stays_up(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    other = await make_ticket(as_user, "carol", "dave")  # a ticket alice is not part of
    alice, carol = await connect("alice"), await connect("carol")
    for event, payload in JUNK:
        ack = await alice.call(event, _fill(payload, ticket, other))
        assert ack["ok"] is False, (event, payload, ack)
        assert set(ack["error"]) >= {"code", "message"}, ack
        assert ack["error"]["code"] in {
            "bad_payload",
            "validation_failed",
            "ticket_not_found",
            "content_empty",
            "content_too_long",
            "bad_attachment",
            "bad_reply_to",
        }, (event, payload, ack)
        assert alice.client.connected
    # Other people's tickets look exactly like unknown ones, and nothing leaked to their sockets.
    assert (await alice.call("sendMessage", {"ticketId": other, "content": "hi"}))["error"]["code"] == (
        "ticket_not_found"
    )
    await asyncio.sleep(0.2)
    assert carol.got("newMessage") == [] and carol.got("userTyping") == []
    # Nothing junk was stored, and the socket still works.
    ack = await alice.call("sendMessage", {"ticketId": ticket, "content": "real"})
    assert ack["ok"] and ack["message"]["seq"] == 1


async def test_unknown_events_and_extra_arguments_are_harmless(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice = await connect("alice")
    await alice.emit("noSuchEvent", {"x": 1})
    await alice.client.emit("sendMessage", ({"ticketId": ticket, "content": "two args"}, "extra"))
    await alice.wait("newMessage")
    assert alice.client.connected


async def test_errors_without_an_ack_arrive_as_error_events(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.emit("sendMessage", {"ticketId": ticket})
    assert await alice.wait("error") == {"code": "content_empty", "message": "content must not be empty"}
    await alice.emit("joinTicket", "not-a-uuid")
    error = await alice.wait("error", lambda e: e["code"] == "validation_failed")
    assert error["details"][0]["field"] == "ticketId"
    await alice.emit("sync", {"ticketId": str(uuid.uuid4()), "afterSeq": 0})
    await alice.wait("error", lambda e: e["code"] == "ticket_not_found")
    # A successful event without an ack does its work and sends nothing back but the broadcast.
    await alice.emit("sendMessage", {"ticketId": ticket, "content": "fire and forget"})
    await bob.wait("newMessage")
    assert len(alice.got("error")) == 3
    assert bob.got("error") == []


async def test_a_participant_added_while_connected_starts_receiving(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    await register(as_user, "carol")
    carol = await connect("carol")
    r = await as_user("alice").post(f"/api/v1/tickets/{ticket}/participants", json={"userId": "carol"})
    assert r.status_code == 201
    joined = await carol.wait("newMessage")
    assert joined["message"]["type"] == "System"
    await as_user("bob").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "welcome"})
    await carol.wait("newMessage", lambda d: d["message"]["content"] == "welcome")
    assert (await carol.call("sendMessage", {"ticketId": ticket, "content": "thanks"}))["ok"]


async def test_a_removed_participant_stops_receiving_at_once(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    alice, bob_phone, bob_laptop = await connect("alice"), await connect("bob"), await connect("bob")
    assert (await bob_phone.call("typing", {"ticketId": ticket, "isTyping": True}))["ok"]
    r = await as_user("boss", role="admin").delete(f"/api/v1/tickets/{ticket}/participants/bob")
    assert r.status_code == 204
    for sock in (bob_phone, bob_laptop):
        removed = await sock.wait("ticketUpdate")
        assert removed == {"ticketId": ticket, "ticket": None, "event": "removed"}
    # The System message announcing the removal reaches alice but not bob.
    await alice.wait("newMessage", lambda d: d["message"]["type"] == "System")
    await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": "bob is gone"})
    await alice.wait("newMessage", lambda d: d["message"]["content"] == "bob is gone")
    await asyncio.sleep(0.2)
    assert bob_phone.got("newMessage") == [] and bob_laptop.got("newMessage") == []
    for event, payload in [
        ("sendMessage", {"ticketId": ticket, "content": "let me in"}),
        ("typing", {"ticketId": ticket, "isTyping": True}),
        ("markAsRead", ticket),
        ("sync", {"ticketId": ticket, "afterSeq": 0}),
        ("joinTicket", ticket),
    ]:
        ack = await bob_phone.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "ticket_not_found", (event, ack)
    assert bob_phone.client.connected
    # And over HTTP too.
    assert (await as_user("bob").get(f"/api/v1/tickets/{ticket}/messages")).status_code == 404


async def test_same_origin_only_by_default(app: RunningApp) -> None:
    token = app.token("alice", name="Alice")
    # A browser page on another origin is refused at the handshake.
    await _refused(app.base_url, {"token": token}, {"Origin": "http://evil.example"})
    sock = await open_socket(app.base_url, "alice", token, headers={"Origin": app.base_url})
    assert sock.client.connected
    await sock.client.disconnect()
    # Long-polling gets no CORS grant for a foreign origin either.
    import httpx

    async with httpx.AsyncClient() as http:
        r = await http.get(
            f"{app.base_url}/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://evil.example"}
        )
        assert r.status_code == 400
        assert "access-control-allow-origin" not in r.headers


async def test_allowed_origins_are_configurable(database_url: str, tmp_path: Any) -> None:
    settings = make_settings(database_url, tmp_path, socketio_origins=["https://app.example"])
    running = await start_app(settings)
    try:
        token = running.token("alice")
        sock = await open_socket(running.base_url, "alice", token, headers={"Origin": "https://app.example"})
        assert sock.client.connected
        await sock.client.disconnect()
        await _refused(running.base_url, {"token": token}, {"Origin": running.base_url})
        await _refused(running.base_url, {"token": token}, {"Origin": "https://evil.example"})
    finally:
        await running.stop()
