"""Sending pushes through the local push service: encryption, VAPID and headers as a real push service
checks them; the outbox's transaction discipline; and what each answer (201, 429 + Retry-After, 500,
404, 410, no answer) does to the push and the subscription."""

from __future__ import annotations

import asyncio
import time
import uuid
from email.utils import formatdate

import pytest

from tests.conftest import RunningApp
from tests.push.conftest import Push
from tests.push.service import PushService
from ticket_comms import claim_loop
from ticket_comms.push import delivery, outbox, sender


async def _ticket(app: RunningApp, title: str = "Leaking tap") -> str:
    async with app.client("agent", "admin") as agent:
        r = await agent.post("/api/v1/tickets", json={"title": title, "participantIds": []})
        assert r.status_code == 201, r.text
        return r.json()["id"]


def _item(
    user_id: str, ticket_id: str | None = None, type: str = "TicketAssigned", body: str = "Assigned to you"
):
    return outbox.for_notification(
        user_id, id=uuid.uuid4(), type=type, title="Ticket assigned", body=body, ticket_id=ticket_id
    )


async def test_a_push_arrives_encrypted_signed_and_with_its_headers(push: Push):
    sub, sub_id = await push.subscribe("alice")
    ticket_id = await _ticket(push.app)
    sent_before = await push.metric("push_sent_total")
    item = _item("alice", ticket_id)
    queued = await push.enqueue(item)
    assert list(queued) == ["alice"] and len(queued["alice"]) == 1

    [got] = await push.service.wait_for(1, sub)
    assert got.payload == {
        "id": item.payload["id"],
        "type": "TicketAssigned",
        "title": "Ticket assigned",
        "body": "Assigned to you",
        "ticketId": ticket_id,
        "url": f"/tickets/{ticket_id}",
    }
    assert got.headers["TTL"] == "86400" and got.headers["Urgency"] == "normal"
    assert got.headers["Topic"] == uuid.UUID(ticket_id).hex and len(got.headers["Topic"]) == 32
    assert got.claims["aud"] == push.service.origin
    assert 0 < got.claims["exp"] - time.time() <= 24 * 3600
    assert push.service.rejected == []

    entry = await push.wait_status(queued["alice"][0], "Sent")
    assert entry["attempts"] == 1 and entry["subscriptionId"] == sub_id and entry["sentAt"]
    assert [e["type"] for e in entry["events"]] == ["queued", "attempt", "sent"]
    assert entry["events"][-1]["detail"]["status"] == 201
    [device] = (await push.client("alice").get("/api/v1/me/push-subscriptions")).json()
    assert device["lastSuccessAt"] is not None
    assert await push.metric("push_sent_total") == sent_before + 1


async def test_every_device_of_the_user_gets_it_and_nobody_else(push: Push):
    phone, _ = await push.subscribe("alice")
    laptop, _ = await push.subscribe("alice")
    bobs, _ = await push.subscribe("bob")
    queued = await push.enqueue(_item("alice"), _item("carol"))
    assert set(queued) == {"alice"} and len(queued["alice"]) == 2  # carol has no device: nothing queued
    await push.service.wait_for(1, phone)
    await push.service.wait_for(1, laptop)
    await asyncio.sleep(0.3)
    assert push.service.to(bobs) == []
    # No ticket: no Topic, and a click opens the notifications page.
    assert "Topic" not in push.service.to(phone)[0].headers
    assert push.service.to(phone)[0].payload["url"] == "/notifications"


async def test_nothing_is_pushed_for_a_rolled_back_transaction(push: Push):
    sub, _ = await push.subscribe("alice")
    with pytest.raises(RuntimeError):
        async with push.app.ctx.db.transaction() as conn:
            await outbox.enqueue(conn, [_item("alice")])
            raise RuntimeError("the notification's transaction fails")
    await push.enqueue(_item("alice", body="the committed one"))
    [got] = await push.service.wait_for(1, sub)
    assert got.payload["body"] == "the committed one"
    await asyncio.sleep(0.5)
    assert len(push.service.to(sub)) == 1
    assert len(await push.deliveries()) == 1


async def test_otp_push_says_a_code_was_sent_but_never_carries_it(push: Push):
    sub, _ = await push.subscribe("alice")
    await push.enqueue(
        outbox.for_notification(
            "alice",
            id=uuid.uuid4(),
            type="OTPRequested",
            title="Your code is 493817",
            body="Use 493817 to sign in",
            ticket_id=None,
        )
    )
    [got] = await push.service.wait_for(1, sub)
    assert "493817" not in repr(got.payload)
    assert got.payload["title"] == "Verification code"
    assert got.payload["body"] == "A verification code was sent to your email."
    assert got.headers["Urgency"] == "high" and got.headers["TTL"] == "600"
    [stored] = await push.deliveries()
    assert "493817" not in repr(stored)


async def test_429_waits_for_retry_after_then_sends(push: Push):
    sub, _ = await push.subscribe("alice")
    push.service.script(sub, (429, {"Retry-After": "1"}))
    [push_id] = (await push.enqueue(_item("alice")))["alice"]
    entry = await push.wait_status(push_id, "Sent")
    first, second = [at for token, at in push.service.requests if token == sub.token]
    assert second - first >= 0.95  # Retry-After: 1, not the 0.2 s backoff
    assert entry["attempts"] == 2
    deferred = [e for e in entry["events"] if e["type"] == "deferred"]
    assert len(deferred) == 1 and deferred[0]["detail"]["status"] == 429
    assert deferred[0]["detail"]["retryAfter"] == 1
    assert len(push.service.to(sub)) == 1


async def test_5xx_and_no_answer_are_retried_with_backoff(push: Push):
    sub, _ = await push.subscribe("alice")
    retried_before = await push.metric("push_retried_total")
    push.service.script(sub, 500, 503)
    [push_id] = (await push.enqueue(_item("alice")))["alice"]
    entry = await push.wait_status(push_id, "Sent")
    assert entry["attempts"] == 3
    times = [at for token, at in push.service.requests if token == sub.token]
    # 0.2 s, then 0.4 s (doubling).
    assert times[1] - times[0] >= 0.19 and times[2] - times[1] >= 0.39
    assert [e["detail"].get("status") for e in entry["events"] if e["type"] == "deferred"] == [500, 503]
    assert await push.metric("push_retried_total") == retried_before + 2


async def test_a_hanging_push_service_does_not_stall_the_others(push: Push):
    stuck = PushService(vapid_key=push.service.vapid_key)
    await stuck.start()
    try:
        healthy, _ = await push.subscribe("alice")
        # 300 pushes to a push service that never answers (more than one origin's share of slots)...
        users = [f"hung{i:03d}" for i in range(300)]
        stuck.hang.update(s.token for s in await push.subscribe_many(users, stuck))
        await push.enqueue(*[_item(u) for u in users])
        deadline = time.monotonic() + 10
        while len(stuck.requests) < sender.PER_ORIGIN_SENDING and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        # ...then one to a healthy service: it goes through at once, long before the hung ones time out.
        started = time.monotonic()
        await push.enqueue(_item("alice"))
        await push.service.wait_for(1, healthy, timeout=5)
        assert time.monotonic() - started < 3
        # At most PER_ORIGIN_SENDING requests went to the hanging service, and the worker took no more
        # of its pushes than its share; the rest wait in the outbox, unclaimed.
        assert len(stuck.requests) == sender.PER_ORIGIN_SENDING
        async with push.app.ctx.db.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) FILTER (WHERE claimed_by IS NOT NULL) AS claimed, count(*) AS pending "
                "FROM push_outbox WHERE status = 'Pending' AND user_id LIKE 'hung%'"
            )
            counts = await cur.fetchone()
        assert counts is not None and counts["pending"] == 300
        assert (
            sender.PER_ORIGIN_SENDING
            < counts["claimed"]
            <= sender.PER_ORIGIN_IN_HAND + claim_loop.CLAIM_BATCH
        )
        # Unanswered requests time out (PUSH_TIMEOUT_SECONDS = 5 here) and are retried later.
        hung = (await push.deliveries(userId="hung000"))[0]
        deadline = time.monotonic() + 15
        while not any(e["type"] == "deferred" for e in hung["events"]):
            assert time.monotonic() < deadline, hung
            await asyncio.sleep(0.2)
            hung = (await push.deliveries(userId="hung000"))[0]
        assert "no answer" in next(e for e in hung["events"] if e["type"] == "deferred")["detail"]["reply"]
    finally:
        await stuck.stop()


@pytest.mark.parametrize("status", [404, 410])
async def test_a_gone_subscription_is_removed(push: Push, status: int):
    sub, sub_id = await push.subscribe("alice")
    other, other_id = await push.subscribe("alice")
    expired_before = await push.metric("push_expired_total")
    push.service.script(sub, status)
    queued = (await push.enqueue(_item("alice")))["alice"]
    entries = [await push.wait_status(i, "Sent", "Expired") for i in queued]
    gone = next(e for e in entries if e["status"] == "Expired")
    assert gone["errorMessage"] and str(status) in gone["errorMessage"]
    assert gone["subscriptionId"] is None  # the subscription no longer exists
    devices = (await push.client("alice").get("/api/v1/me/push-subscriptions")).json()
    assert [d["id"] for d in devices] == [other_id]
    assert await push.metric("push_expired_total") == expired_before + 1
    # Nothing more is sent to it.
    await push.enqueue(_item("alice"))
    await push.service.wait_for(2, other)
    assert len([t for t, _ in push.service.requests if t == sub.token]) == 1
    assert sub_id not in {d["subscriptionId"] for d in await push.deliveries()}


async def test_a_huge_answer_is_not_read_whole(push: Push):
    sub, _ = await push.subscribe("alice")
    push.service.script(sub, (400, {}, b"x" * 5_000_000))
    [push_id] = (await push.enqueue(_item("alice")))["alice"]
    entry = await push.wait_status(push_id, "Failed")
    assert entry["errorMessage"].startswith("400 Bad Request: xxx") and len(entry["errorMessage"]) < 400


def test_retry_after_is_seconds_or_an_http_date():
    now = 1_800_000_000.0
    assert delivery.retry_after_seconds("120", now) == 120
    assert delivery.retry_after_seconds("99999", now) == delivery.MAX_RETRY_AFTER_SECONDS
    assert delivery.retry_after_seconds(formatdate(now + 30, usegmt=True), now) == 30
    assert delivery.retry_after_seconds(formatdate(now - 30, usegmt=True), now) == 0
    assert delivery.retry_after_seconds("soon", now) is None
    assert delivery.retry_after_seconds(None, now) is None


async def test_other_refusals_fail_at_once(push: Push):
    sub, _ = await push.subscribe("alice")
    failed_before = await push.metric("push_failed_total")
    push.service.script(sub, 403)
    [push_id] = (await push.enqueue(_item("alice")))["alice"]
    entry = await push.wait_status(push_id, "Failed")
    assert entry["attempts"] == 1 and entry["errorMessage"].startswith("403")
    assert await push.metric("push_failed_total") == failed_before + 1
    assert len((await push.client("alice").get("/api/v1/me/push-subscriptions")).json()) == 1


async def test_pushes_queued_for_a_removed_subscription_are_cancelled(push: Push):
    _, sub_id = await push.subscribe("alice")
    # The device is removed before the worker gets to the push (here: in the same transaction).
    async with push.app.ctx.db.transaction() as conn:
        queued = await outbox.enqueue(conn, [_item("alice")])
        await conn.execute("DELETE FROM push_subscriptions WHERE id = %s", (sub_id,))
    entry = await push.wait_status(queued["alice"][0], "Cancelled")
    assert entry["subscriptionId"] is None and entry["attempts"] == 1
    assert push.service.requests == []


async def test_admins_list_deliveries_by_user_and_status(push: Push):
    await push.subscribe("alice")
    await push.subscribe("bob")
    queued = await push.enqueue(_item("alice"), _item("bob"))
    await push.wait_status(queued["alice"][0], "Sent")
    await push.wait_status(queued["bob"][0], "Sent")
    assert [d["userId"] for d in await push.deliveries(userId="bob")] == ["bob"]
    assert len(await push.deliveries(status="Sent")) == 2
    assert await push.deliveries(status="Pending") == []
    page = await push.admin.get("/api/v1/push/deliveries", params={"limit": 1})
    assert len(page.json()["items"]) == 1 and page.json()["nextCursor"]
    rest = await push.admin.get(
        "/api/v1/push/deliveries", params={"limit": 1, "cursor": page.json()["nextCursor"]}
    )
    assert rest.json()["items"][0]["id"] != page.json()["items"][0]["id"]
    r = await push.admin.get("/api/v1/push/deliveries", params={"status": "Nope"})
    assert r.status_code == 422
    r = await push.client("alice").get("/api/v1/push/deliveries")
    assert r.status_code == 403
