"""Events to emails end to end: a real SMTP server receives each event type's email, with its headers and
parts; retries on 4xx, failure on 5xx, the outbox's rollback, idempotency, logs and stats."""

from __future__ import annotations

import asyncio
import re
from uuid import UUID

import pytest

from tests.email.support import Mail
from ticket_comms.notifications import events as notifications

EXTERNAL_EVENTS = {
    "QuoteCreated": {
        "quote": {"number": "Q-1042", "total": 1250.5, "currency": "AED", "url": "https://x.test/q"}
    },
    "QuoteApproved": {"quote": {"number": "Q-1042", "total": 1250.5}},
    "QuoteDeclined": {"quote": {"number": "Q-1042", "total": 1250.5}},
    "InvoiceGenerated": {"invoice": {"number": "INV-77", "total": 3400, "dueDate": "2026-12-15"}},
    "PaymentReceived": {"payment": {"amount": 3400, "currency": "USD", "reference": "PAY-9"}},
    "OTPRequested": {"otp": {"code": "482913", "expiresInMinutes": 10}},
}


def check_email(caught, *, to: str, log: dict, unsubscribe: bool = True) -> None:
    assert caught.rcpt_tos == [to]
    # The envelope sender is the BOUNCE_ADDRESS default tagged with this email's signed log id (VERP).
    assert re.fullmatch(rf"bounces\+{UUID(log['id']).hex}[0-9a-f]{{16}}@tickets\.test", caught.mail_from)
    message = caught.message
    assert message["From"] == "Tickets <no-reply@tickets.test>"
    assert to in message["To"]
    assert message["Subject"]
    # The log keeps the subject, with any one-time code redacted (the email itself carries it).
    assert log["subject"] == message["Subject"].replace("482913", "[redacted]")
    assert message["Message-ID"] == log["messageId"] == f"<{log['id']}@tickets.test>"
    assert message.get_content_type() == "multipart/alternative"
    text, html = caught.part("text/plain"), caught.part("text/html")
    assert text.strip() and "<html" in html.lower()
    # RFC 3461 DSN requested, with the log id as ENVID.
    assert f"ENVID={log['id']}".upper() in caught.mail_options
    assert "NOTIFY=SUCCESS,FAILURE" in caught.rcpt_options
    if unsubscribe:
        assert re.fullmatch(
            r"<http://127\.0\.0\.1:\d+/api/v1/email/unsubscribe\?token=[^>]+>", message["List-Unsubscribe"]
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    else:
        assert message["List-Unsubscribe"] is None


async def test_every_external_event_type_is_emailed(mail: Mail):
    await mail.users("carol")
    for event_type, data in EXTERNAL_EVENTS.items():
        r = await mail.service.post(
            "/api/v1/events", json={"type": event_type, "recipientIds": ["carol"], "data": data}
        )
        assert r.status_code == 202, r.text
        body = r.json()
        email_delivery = [d for d in body["deliveries"] if d["channel"] == "email"]
        assert email_delivery == [
            {
                "recipientId": "carol",
                "channel": "email",
                "status": "Pending",
                "emailLogId": email_delivery[0]["emailLogId"],
            }
        ]
        log = await mail.wait_status(email_delivery[0]["emailLogId"], "Sent")
        caught = mail.sink.to("carol@example.com")[-1]
        check_email(caught, to="carol@example.com", log=log, unsubscribe=event_type != "OTPRequested")
        assert log["templateName"] == event_type and log["attempts"] == 1 and log["sentAt"]
        assert [e["type"] for e in log["events"]] == ["queued", "attempt", "sent"]
        assert log["providerMessageId"].startswith("Q")
    otp = mail.sink.to("carol@example.com")[-1]
    assert "482913" in otp.header("Subject") and "482913" in otp.part("text/plain")
    invoice = next(m for m in mail.sink.messages if "INV-77" in m.header("Subject"))
    assert "3,400.00" in invoice.header("Subject")
    assert len(mail.sink.messages) == len(EXTERNAL_EVENTS)


async def test_ticket_events_reach_the_other_participants(mail: Mail):
    await mail.users("alice", "bob", "carol")
    alice = mail.client("alice")
    r = await alice.post("/api/v1/tickets", json={"title": "Leaking tap", "participantIds": ["bob"]})
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]
    created = await mail.sink.wait_for(1)
    assert created[0].rcpt_tos == ["bob@example.com"]  # the actor (alice) is not emailed
    assert "Leaking tap" in created[0].header("Subject")
    assert f"/tickets/{ticket_id}" in created[0].part("text/plain")

    # An admin assigns (not a participant, so every participant hears of it); the assignee works it.
    r = await mail.admin.patch(f"/api/v1/tickets/{ticket_id}", json={"assigneeId": "carol"})
    assert r.status_code == 200, r.text
    assigned = await mail.sink.wait_for(4)  # alice, bob and carol (who became a participant)
    assert sorted(m.rcpt_tos[0] for m in assigned[1:]) == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
    ]
    carol = mail.client("carol")
    r = await carol.patch(f"/api/v1/tickets/{ticket_id}", json={"status": "InProgress"})
    assert r.status_code == 200, r.text
    changed = await mail.sink.wait_for(6)
    assert all("in progress" in m.header("Subject").lower() for m in changed[4:])

    r = await carol.patch(f"/api/v1/tickets/{ticket_id}", json={"status": "Completed"})
    assert r.status_code == 200, r.text
    done = await mail.sink.wait_for(10)  # TicketStatusChanged + TicketCompleted, to alice and bob
    logs = await mail.settled(10)
    by_template: dict[str, int] = {}
    for entry in logs:
        assert entry["status"] == "Sent"
        by_template[entry["templateName"]] = by_template.get(entry["templateName"], 0) + 1
    assert by_template == {
        "TicketCreated": 1,
        "TicketAssigned": 3,
        "TicketStatusChanged": 4,
        "TicketCompleted": 2,
    }
    assert any(m.header("Subject").startswith("Completed") for m in done)


async def test_missing_variables_are_a_422_and_nothing_is_queued(mail: Mail):
    await mail.users("carol")
    r = await mail.service.post(
        "/api/v1/events",
        json={"type": "QuoteCreated", "recipientIds": ["carol"], "data": {"quote": {"total": 10}}},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["missing"] == ["quote.number"]
    r = await mail.service.post("/api/v1/events", json={"type": "NoSuchEvent", "recipientIds": ["carol"]})
    assert r.status_code == 422
    r = await mail.service.post(
        "/api/v1/events",
        json={"type": "QuoteCreated", "recipientIds": ["nobody"], "data": EXTERNAL_EVENTS["QuoteCreated"]},
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["userIds"] == ["nobody"]
    assert (await mail.admin.get("/api/v1/email/logs")).json()["items"] == []
    # Who may raise events: admins and services only.
    r = await mail.client("carol").post(
        "/api/v1/events",
        json={"type": "OTPRequested", "recipientIds": ["carol"], "data": EXTERNAL_EVENTS["OTPRequested"]},
    )
    assert r.status_code == 403
    r = await mail.app.client().post("/api/v1/events", json={})
    assert r.status_code == 401
    await asyncio.sleep(0.3)
    assert mail.sink.messages == []


async def test_idempotency_key_sends_once(mail: Mail):
    await mail.users("carol")
    event = {
        "type": "PaymentReceived",
        "recipientIds": ["carol"],
        "data": EXTERNAL_EVENTS["PaymentReceived"],
        "idempotencyKey": "payment-9",
    }
    first = await mail.service.post("/api/v1/events", json=event)
    again = await asyncio.gather(*(mail.service.post("/api/v1/events", json=event) for _ in range(5)))
    assert first.status_code == 202
    assert all(r.status_code == 202 and r.json() == first.json() for r in again)
    await mail.sink.wait_for(1)
    await asyncio.sleep(0.5)
    assert len(mail.sink.messages) == 1
    assert len((await mail.admin.get("/api/v1/email/logs")).json()["items"]) == 1


async def test_a_rolled_back_transaction_sends_nothing(mail: Mail):
    await mail.users("carol", "dave")
    ctx = mail.app.ctx

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with ctx.db.transaction() as conn:
            await notifications.raise_event(
                conn, ctx, type="OTPRequested", recipient_ids=["carol"], data=EXTERNAL_EVENTS["OTPRequested"]
            )
            raise Boom()
    async with ctx.db.transaction() as conn:
        result, _ = await notifications.raise_event(
            conn, ctx, type="OTPRequested", recipient_ids=["dave"], data=EXTERNAL_EVENTS["OTPRequested"]
        )
    await mail.wait_status(result["deliveries"][0]["emailLogId"], "Sent")
    await asyncio.sleep(0.3)
    assert [m.rcpt_tos for m in mail.sink.messages] == [["dave@example.com"]]
    row = await ctx.db.fetch_one(
        "SELECT count(*) AS n FROM email_logs WHERE recipient_email = 'carol@example.com'"
    )
    assert row is not None and row["n"] == 0


async def test_a_451_is_retried_with_backoff_then_sent(mail: Mail):
    await mail.users("carol")
    mail.sink.script("carol@example.com", "451 4.7.1 Greylisted, try again later", "421 4.3.2 Busy")
    r = await mail.service.post(
        "/api/v1/events",
        json={"type": "OTPRequested", "recipientIds": ["carol"], "data": EXTERNAL_EVENTS["OTPRequested"]},
    )
    log_id = r.json()["deliveries"][0]["emailLogId"]
    log = await mail.wait_status(log_id, "Sent", timeout=20)
    assert log["attempts"] == 3
    kinds = [e["type"] for e in log["events"]]
    assert kinds == ["queued", "attempt", "deferred", "attempt", "deferred", "attempt", "sent"]
    deferred = [e for e in log["events"] if e["type"] == "deferred"]
    assert "451 4.7.1 Greylisted" in deferred[0]["detail"]["reply"]
    assert len(mail.sink.refused) == 2 and len(mail.sink.to("carol@example.com")) == 1
    # Every attempt carried the same Message-ID (the one stored at enqueue).
    assert mail.sink.to("carol@example.com")[0].header("Message-ID") == log["messageId"]


async def test_a_550_fails_at_once_with_the_reply(mail: Mail):
    await mail.users("carol")
    mail.sink.script("carol@example.com", "550 5.1.1 <carol@example.com>: Recipient address rejected")
    r = await mail.service.post(
        "/api/v1/events",
        json={"type": "OTPRequested", "recipientIds": ["carol"], "data": EXTERNAL_EVENTS["OTPRequested"]},
    )
    log = await mail.wait_status(r.json()["deliveries"][0]["emailLogId"], "Failed")
    assert log["attempts"] == 1
    assert log["errorMessage"].startswith("550 5.1.1")
    assert mail.sink.messages == []


async def test_logs_filters_pagination_and_stats(mail: Mail):
    await mail.users("carol", "dave")
    mail.sink.script("dave@example.com", "554 5.7.1 Rejected")
    ids = []
    for user in ("carol", "carol", "carol", "dave"):
        r = await mail.service.post(
            "/api/v1/events",
            json={"type": "QuoteApproved", "recipientIds": [user], "data": EXTERNAL_EVENTS["QuoteApproved"]},
        )
        ids.append(r.json()["deliveries"][0]["emailLogId"])
    for log_id in ids[:3]:
        await mail.wait_status(log_id, "Sent")
    await mail.wait_status(ids[3], "Failed")
    admin = mail.admin
    page = (await admin.get("/api/v1/email/logs", params={"limit": 2})).json()
    assert len(page["items"]) == 2 and page["nextCursor"]
    rest = (await admin.get("/api/v1/email/logs", params={"limit": 2, "cursor": page["nextCursor"]})).json()
    assert len(rest["items"]) == 2 and rest["nextCursor"] is None
    assert {i["id"] for i in page["items"] + rest["items"]} == set(ids)
    failed = (await admin.get("/api/v1/email/logs", params={"status": "Failed"})).json()["items"]
    assert [i["id"] for i in failed] == [ids[3]]
    carol = (await admin.get("/api/v1/email/logs", params={"recipient": "CAROL@example.com"})).json()["items"]
    assert len(carol) == 3
    assert (await admin.get("/api/v1/email/logs", params={"templateName": "QuoteCreated"})).json()[
        "items"
    ] == []
    assert (await admin.get("/api/v1/email/logs", params={"status": "Nope"})).status_code == 422
    assert (await admin.get("/api/v1/email/logs", params={"cursor": "!!"})).status_code == 400
    stats = (await admin.get("/api/v1/email/stats")).json()
    assert stats == {
        "total": 4,
        "pending": 0,
        "sent": 3,
        "delivered": 0,
        "bounced": 0,
        "failed": 1,
        **{"opened": 0, "clicked": 0, "openRate": 0.0, "clickRate": 0.0},  # no template is tracked
    }
    daily = (
        await admin.get("/api/v1/email/stats", params={"daily": "true", "from": "2020-01-01T00:00:00Z"})
    ).json()
    assert len(daily["daily"]) == 1 and daily["daily"][0]["total"] == 4
    future = (await admin.get("/api/v1/email/stats", params={"from": "2999-01-01T00:00:00Z"})).json()
    assert future["total"] == 0
    assert (await admin.get("/api/v1/email/stats", params={"from": "yesterday"})).status_code == 422
    member = mail.client("carol")
    assert (await member.get("/api/v1/email/logs")).status_code == 403
    assert (await member.get("/api/v1/email/stats")).status_code == 403
    assert (await member.get(f"/api/v1/email/logs/{ids[0]}")).status_code == 403
    assert (await admin.get("/api/v1/email/logs/00000000-0000-0000-0000-000000000000")).status_code == 404


async def test_hostile_event_input_is_a_4xx(mail: Mail):
    await mail.users("carol")
    service = mail.service
    otp = EXTERNAL_EVENTS["OTPRequested"]
    cases = [
        ({"type": "OTPRequested", "recipientIds": ["carol"], "data": "not an object"}, 422),
        ({"type": "OTPRequested", "ticketId": "not-a-uuid", "data": otp}, 422),
        ({"type": "OTPRequested", "ticketId": "00000000-0000-0000-0000-000000000000", "data": otp}, 404),
        ({"type": "OTPRequested", "data": otp}, 422),
        ({"type": "OTPRequested", "recipientIds": "carol", "data": otp}, 422),
        ({"type": "OTPRequested", "recipientIds": ["carol"], "data": otp, "idempotencyKey": "k" * 201}, 422),
        ({"type": "OTPRequested", "recipientIds": [f"u{i}" for i in range(1001)], "data": otp}, 422),
        ({"type": "", "recipientIds": ["carol"], "data": otp}, 422),
        ({"type": {"$ne": 1}, "recipientIds": ["carol"], "data": otp}, 422),
    ]
    for body, status in cases:
        r = await service.post("/api/v1/events", json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"]["code"]
    r = await service.post("/api/v1/events", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    # A ticket with nobody else to tell: accepted, nothing to deliver.
    ticket = (await mail.client("carol").post("/api/v1/tickets", json={"title": "Solo"})).json()
    r = await service.post(
        "/api/v1/events",
        json={
            "type": "QuoteApproved",
            "ticketId": ticket["id"],
            "actorId": "carol",
            "data": EXTERNAL_EVENTS["QuoteApproved"],
        },
    )
    assert r.status_code == 202 and r.json()["deliveries"] == []
    await asyncio.sleep(0.3)
    assert mail.sink.messages == []


async def test_template_edits_apply_to_the_next_email(mail: Mail):
    await mail.users("carol")
    event = {"type": "QuoteApproved", "recipientIds": ["carol"], "data": EXTERNAL_EVENTS["QuoteApproved"]}
    first = await mail.service.post("/api/v1/events", json=event)
    await mail.wait_status(first.json()["deliveries"][0]["emailLogId"], "Sent")
    admin = mail.admin
    try:
        r = await admin.put(
            "/api/v1/email/templates/QuoteApproved", json={"subject": "Approved! {{ quote.number }}"}
        )
        assert r.status_code == 200, r.text
        second = await mail.service.post("/api/v1/events", json=event)
        log = await mail.wait_status(second.json()["deliveries"][0]["emailLogId"], "Sent")
        assert log["subject"] == "Approved! Q-1042"
        assert [m.header("Subject") for m in mail.sink.messages][-1] == "Approved! Q-1042"
        r = await admin.put("/api/v1/email/templates/QuoteApproved", json={"isActive": False})
        assert r.status_code == 200
        third = await mail.service.post("/api/v1/events", json=event)
        assert [d["status"] for d in third.json()["deliveries"] if d["channel"] == "email"] == [
            "TemplateInactive"
        ]
    finally:
        # Templates survive the per-test cleanup: put the shipped one back.
        assert (await admin.post("/api/v1/email/templates/QuoteApproved/reset")).status_code == 200
