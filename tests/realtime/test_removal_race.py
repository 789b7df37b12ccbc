"""A removed participant loses the ticket's room at once, even when a join or a connect overlaps the removal."""

from __future__ import annotations

import asyncio

from tests.conftest import RunningApp
from tests.realtime.conftest import Connect, Http, Sock, make_ticket, register

ROUNDS = 30


async def _join_until(sock: Sock, ticket: str, done: asyncio.Event) -> None:
    # Joins keep coming until the removal has been answered, so some overlap its commit.
    while not done.is_set():
        await sock.call("joinTicket", ticket)


async def _nothing_reaches(watchers: list[Sock], alice: Sock, as_user: Http, ticket: str, text: str) -> None:
    r = await as_user("alice").post(f"/api/v1/tickets/{ticket}/messages", json={"content": text})
    assert r.status_code == 201, r.text
    await alice.wait("newMessage", lambda d: d["message"]["content"] == text)
    await asyncio.sleep(0.05)
    for sock in watchers:
        leaked = sock.got("newMessage", lambda d: d["message"]["content"] == text)
        assert leaked == [], f"a removed participant received {text!r} after the removal"


async def test_joins_racing_the_removal_never_put_the_socket_back_in_the_room(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    admin = as_user("boss", role="admin")
    alice, bob = await connect("alice"), await connect("bob")
    for round_ in range(ROUNDS):
        if round_:
            r = await admin.post(f"/api/v1/tickets/{ticket}/participants", json={"userId": "bob"})
            assert r.status_code == 201, r.text
        done = asyncio.Event()
        joiners = [asyncio.create_task(_join_until(bob, ticket, done)) for _ in range(3)]
        await asyncio.sleep(0.005 * (round_ % 5))
        r = await admin.delete(f"/api/v1/tickets/{ticket}/participants/bob")
        assert r.status_code == 204, r.text
        done.set()
        await asyncio.gather(*joiners)
        await _nothing_reaches([bob], alice, as_user, ticket, f"after removal {round_}")


async def test_connects_racing_the_removal_never_keep_the_room(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    ticket = await make_ticket(as_user, "alice", "bob")
    await register(as_user, "bob")
    admin = as_user("boss", role="admin")
    alice = await connect("alice")
    socks: list[Sock] = []
    for round_ in range(ROUNDS // 3):
        if round_:
            r = await admin.post(f"/api/v1/tickets/{ticket}/participants", json={"userId": "bob"})
            assert r.status_code == 201, r.text
        connecting = [asyncio.create_task(connect("bob")) for _ in range(3)]
        await asyncio.sleep(0.01 * (round_ % 4))
        r = await admin.delete(f"/api/v1/tickets/{ticket}/participants/bob")
        assert r.status_code == 204, r.text
        socks.extend(await asyncio.gather(*connecting))
        await _nothing_reaches(socks, alice, as_user, ticket, f"after removal {round_}")
