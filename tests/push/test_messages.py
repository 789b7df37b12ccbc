"""Chat-message pushes: one push per ticket to a participant who has not read a message after
PUSH_MESSAGE_DELAY_SECONDS (1.5 s here), covering every unread message; reading in time cancels it;
muted tickets, push switched off and the sender get nothing.

The messages are sent through the API, whose one statement schedules the push with the message."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.push.conftest import Push


async def _setup(push: Push, *, title: str = "Boiler repair") -> tuple[str, Any]:
    agent = push.client("agent", "admin")
    await push.client("bob").get("/api/v1/me")
    r = await agent.post("/api/v1/tickets", json={"title": title, "participantIds": ["bob"]})
    assert r.status_code == 201, r.text
    sub, _ = await push.subscribe("bob")
    return r.json()["id"], sub


async def _send(push: Push, sender: str, ticket_id: str, content: str) -> dict[str, Any]:
    r = await push.client(sender, "admin" if sender == "agent" else None).post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"content": content}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _schedules(push: Push) -> list[dict[str, Any]]:
    return await push.app.ctx.db.fetch_all("SELECT * FROM push_message_schedules")


async def test_an_unread_message_is_pushed_once_after_the_delay(push: Push):
    ticket_id, sub = await _setup(push)
    agents, _ = await push.subscribe("agent")
    first = await _send(push, "agent", ticket_id, "We will come on Tuesday")
    await _send(push, "agent", ticket_id, "Between 9 and 11")
    [got] = await push.service.wait_for(1, sub, timeout=10)
    assert got.payload["type"] == "MessageReceived"
    assert got.payload["title"] == "Boiler repair"
    assert got.payload["body"] == "2 new messages · Agent: Between 9 and 11"
    assert got.payload["url"] == f"/tickets/{ticket_id}?message={first['id']}"
    assert got.payload["ticketId"] == ticket_id
    assert got.headers["Topic"] == ticket_id.replace("-", "")
    [schedule] = await _schedules(push)
    assert schedule["due_at"] is None and schedule["last_pushed_seq"] >= 2
    await asyncio.sleep(2)
    assert len(push.service.to(sub)) == 1  # once, not once per message
    assert push.service.to(agents) == []  # never to the sender

    # A later message is pushed again, covering only what is new.
    await _send(push, "agent", ticket_id, "Actually 10 to 12")
    pushes = await push.service.wait_for(2, sub, timeout=10)
    assert pushes[-1].payload["body"] == "Agent: Actually 10 to 12"


async def test_reading_in_time_cancels_the_push(push: Push):
    ticket_id, sub = await _setup(push)
    message = await _send(push, "agent", ticket_id, "Are you home tomorrow?")
    r = await push.client("bob").post(f"/api/v1/tickets/{ticket_id}/read", json={"upToSeq": message["seq"]})
    assert r.status_code == 200, r.text
    await asyncio.sleep(2.5)
    assert push.service.to(sub) == []
    [schedule] = await _schedules(push)
    assert schedule["due_at"] is None  # cancelled, nothing pending
    assert await push.deliveries() == []


async def test_muted_ticket_push_off_and_no_device_schedule_nothing(push: Push):
    ticket_id, sub = await _setup(push)
    carol = push.client("carol")
    await carol.get("/api/v1/me")
    r = await push.client("agent", "admin").post(
        f"/api/v1/tickets/{ticket_id}/participants", json={"userId": "carol"}
    )
    assert r.status_code in (200, 201), r.text
    r = await push.client("bob").put("/api/v1/me/notification-preferences", json={"pushEnabled": False})
    assert r.status_code == 200, r.text
    await _send(push, "agent", ticket_id, "Hello")
    assert await _schedules(push) == []  # bob turned push off; carol has no device

    r = await push.client("bob").put("/api/v1/me/notification-preferences", json={"pushEnabled": True})
    assert r.status_code == 200, r.text
    r = await push.client("bob").patch(f"/api/v1/tickets/{ticket_id}/participants/me", json={"isMuted": True})
    assert r.status_code == 200, r.text
    await _send(push, "agent", ticket_id, "Hello again")
    assert await _schedules(push) == []
    await asyncio.sleep(2)
    assert push.service.to(sub) == []


async def test_muting_after_the_message_cancels_the_pending_push(push: Push):
    ticket_id, sub = await _setup(push)
    await _send(push, "agent", ticket_id, "Your quote is ready")
    r = await push.client("bob").patch(f"/api/v1/tickets/{ticket_id}/participants/me", json={"isMuted": True})
    assert r.status_code == 200, r.text
    await asyncio.sleep(2.5)
    assert push.service.to(sub) == []
    [schedule] = await _schedules(push)
    assert schedule["due_at"] is None
