"""Pushes from the notification pipeline: events raised by `POST /events` and by ticket changes reach the
recipient's devices when their preferences allow (`pushEnabled`, ticket not muted), with `push` rows in
`deliveries`; never twice for one event; an OTP push never carries the code."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.push.conftest import Push

QUOTE = {"quote": {"number": "Q-7", "total": 1200, "currency": "AED"}}
OTP = {"otp": {"code": "135790", "expiresInMinutes": 10}}


async def _users(push: Push, *user_ids: str) -> None:
    service = push.client("billing", "service")
    for user_id in user_ids:
        r = await service.put(
            f"/api/v1/users/{user_id}", json={"email": f"{user_id}@example.com", "name": user_id.title()}
        )
        assert r.status_code in (200, 201), r.text


async def _raise(push: Push, type: str, data: dict[str, Any], **body: Any) -> dict[str, Any]:
    r = await push.client("billing", "service").post(
        "/api/v1/events", json={"type": type, "data": data, **body}
    )
    assert r.status_code == 202, r.text
    return r.json()


def _delivery(result: dict[str, Any], user: str, channel: str) -> dict[str, Any]:
    return next(d for d in result["deliveries"] if d["recipientId"] == user and d["channel"] == channel)


async def test_an_event_is_pushed_to_every_device_of_recipients_who_allow_it(push: Push):
    await _users(push, "alice", "bob", "carol")
    phone, _ = await push.subscribe("alice")
    laptop, _ = await push.subscribe("alice")
    carols, _ = await push.subscribe("carol")
    r = await push.client("carol").put("/api/v1/me/notification-preferences", json={"pushEnabled": False})
    assert r.status_code == 200
    result = await _raise(push, "QuoteCreated", QUOTE, recipientIds=["alice", "bob", "carol"])
    assert _delivery(result, "alice", "push")["status"] == "Pending"
    assert _delivery(result, "bob", "push")["status"] == "NoDevice"
    assert _delivery(result, "carol", "push")["status"] == "Disabled"

    [on_phone] = await push.service.wait_for(1, phone)
    [on_laptop] = await push.service.wait_for(1, laptop)
    note = _delivery(result, "alice", "inApp")["notificationId"]
    assert on_phone.payload == on_laptop.payload
    assert on_phone.payload["id"] == note  # the same id as the in-app notification
    listed = (await push.client("alice").get("/api/v1/me/notifications")).json()["items"]
    assert on_phone.payload["title"] == listed[0]["title"] and on_phone.payload["body"] == listed[0]["body"]
    assert on_phone.payload["url"] == "/notifications" and on_phone.payload["type"] == "QuoteCreated"
    sent = await push.deliveries(eventId=result["eventId"])
    assert len(sent) == 2 and {d["userId"] for d in sent} == {"alice"}
    await asyncio.sleep(0.5)
    assert push.service.to(carols) == []


async def test_a_repeated_event_is_never_pushed_twice(push: Push):
    await _users(push, "alice")
    phone, _ = await push.subscribe("alice")
    first = await _raise(
        push, "PaymentReceived", {"payment": {"amount": 50}}, recipientIds=["alice"], idempotencyKey="pay-1"
    )
    again = await _raise(
        push, "PaymentReceived", {"payment": {"amount": 50}}, recipientIds=["alice"], idempotencyKey="pay-1"
    )
    assert again["eventId"] == first["eventId"]
    await push.service.wait_for(1, phone)
    await asyncio.sleep(1)
    assert len(push.service.to(phone)) == 1


async def test_otp_is_pushed_without_its_code(push: Push):
    await _users(push, "alice")
    phone, _ = await push.subscribe("alice")
    result = await _raise(push, "OTPRequested", OTP, recipientIds=["alice"])
    assert _delivery(result, "alice", "push")["status"] == "Pending"
    assert not [d for d in result["deliveries"] if d["channel"] == "inApp"]
    [got] = await push.service.wait_for(1, phone)
    assert "135790" not in repr(got.payload) and "135790" not in repr(await push.deliveries())
    assert got.payload["body"] == "A verification code was sent to your email."
    assert got.payload["id"] == result["eventId"]  # no in-app notification: the event's id
    assert got.headers["Urgency"] == "high"


async def test_ticket_events_are_pushed_per_ticket_and_muting_stops_them(push: Push):
    await _users(push, "agent", "bob")
    phone, _ = await push.subscribe("bob")
    agent = push.client("agent", "admin")
    r = await agent.post("/api/v1/tickets", json={"title": "Broken AC", "participantIds": ["bob"]})
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]
    [created] = await push.service.wait_for(1, phone)
    assert created.payload["type"] == "TicketCreated" and created.payload["ticketId"] == ticket_id
    assert created.payload["url"] == f"/tickets/{ticket_id}"
    assert created.headers["Topic"] == ticket_id.replace("-", "")

    r = await push.client("bob").patch(f"/api/v1/tickets/{ticket_id}/participants/me", json={"isMuted": True})
    assert r.status_code == 200, r.text
    result = await _raise(
        push,
        "InvoiceGenerated",
        {"invoice": {"number": "I-1", "total": 5}},
        ticketId=ticket_id,
        actorId="agent",
    )
    assert _delivery(result, "bob", "push")["status"] == "Muted"
    await asyncio.sleep(1)
    assert len(push.service.to(phone)) == 1


async def test_a_chat_message_is_pushed_through_the_message_path_only(push: Push):
    await _users(push, "agent", "bob")
    phone, _ = await push.subscribe("bob")
    agent = push.client("agent", "admin")
    ticket_id = (
        await agent.post("/api/v1/tickets", json={"title": "Leak", "participantIds": ["bob"]})
    ).json()["id"]
    await push.service.wait_for(1, phone)  # TicketCreated
    r = await agent.post(f"/api/v1/tickets/{ticket_id}/messages", json={"content": "On my way"})
    assert r.status_code == 201, r.text
    pushes = await push.service.wait_for(2, phone, timeout=10)
    assert pushes[-1].payload["type"] == "MessageReceived"
    assert pushes[-1].payload["body"] == "Agent: On my way"
    # The email digest for chat messages (MessageReceived events) is not pushed a second time.
    result = await _raise(push, "MessageReceived", {"messages": []}, ticketId=ticket_id, recipientIds=["bob"])
    assert not [d for d in result["deliveries"] if d["channel"] == "push"]
    await asyncio.sleep(1)
    assert len(push.service.to(phone)) == 2
