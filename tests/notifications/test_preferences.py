"""Preferences, mutes, the OTP override, in-app notifications (list, read, socket) and one-click unsubscribe."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from tests.email.support import Mail
from tests.realtime.conftest import open_socket
from ticket_comms.catalogue import EVENT_TYPES
from ticket_comms.errors import BadRequest

QUOTE = {"quote": {"number": "Q-7", "total": 99}}
OTP = {"otp": {"code": "135790", "expiresInMinutes": 5}}


async def raise_event(mail: Mail, event_type: str, data: dict, **extra) -> dict:
    r = await mail.service.post("/api/v1/events", json={"type": event_type, "data": data, **extra})
    assert r.status_code == 202, r.text
    return r.json()


def delivery(result: dict, user: str, channel: str) -> dict:
    return next(d for d in result["deliveries"] if d["recipientId"] == user and d["channel"] == channel)


async def test_preferences_default_on_and_validate(mail: Mail):
    carol = mail.client("carol")
    r = await carol.get("/api/v1/me/notification-preferences")
    assert r.status_code == 200
    assert r.json() == {
        "emailEnabled": True,
        "pushEnabled": True,
        "chatEnabled": True,
        "emailEvents": list(EVENT_TYPES),
    }
    r = await carol.put(
        "/api/v1/me/notification-preferences", json={"emailEvents": ["TicketCreated", "Nope"]}
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["unknown"] == ["Nope"]
    r = await carol.put("/api/v1/me/notification-preferences", json={"emailEnabled": "yes"})
    assert r.status_code == 422
    r = await carol.put(
        "/api/v1/me/notification-preferences",
        json={"emailEvents": ["QuoteApproved", "TicketCreated"], "pushEnabled": False},
    )
    assert r.status_code == 200
    assert r.json() == {
        "emailEnabled": True,
        "pushEnabled": False,
        "chatEnabled": True,
        "emailEvents": ["TicketCreated", "QuoteApproved"],
    }
    assert (await carol.get("/api/v1/me/notification-preferences")).json() == r.json()
    assert (await mail.app.client().get("/api/v1/me/notification-preferences")).status_code == 401


async def test_preferences_decide_delivery_and_otp_is_always_emailed(mail: Mail):
    await mail.users("carol")
    carol = mail.client("carol")
    await carol.put("/api/v1/me/notification-preferences", json={"emailEvents": ["QuoteApproved"]})
    result = await raise_event(mail, "QuoteCreated", QUOTE, recipientIds=["carol"])
    assert delivery(result, "carol", "email")["status"] == "Disabled"
    assert delivery(result, "carol", "inApp")["status"] == "Created"
    approved = await raise_event(mail, "QuoteApproved", QUOTE, recipientIds=["carol"])
    assert delivery(approved, "carol", "email")["status"] == "Pending"
    # Sent before the switch below: the worker re-checks preferences just before sending (test_recheck.py).
    await mail.wait_status(delivery(approved, "carol", "email")["emailLogId"], "Sent")
    await carol.put("/api/v1/me/notification-preferences", json={"emailEnabled": False, "chatEnabled": False})
    off = await raise_event(mail, "QuoteApproved", QUOTE, recipientIds=["carol"])
    assert delivery(off, "carol", "email")["status"] == "Disabled"
    assert delivery(off, "carol", "inApp")["status"] == "Disabled"
    otp = await raise_event(mail, "OTPRequested", OTP, recipientIds=["carol"])
    assert delivery(otp, "carol", "email")["status"] == "Pending"
    # The code is never shown in-app; the push (carol has no device here) would only say a code was sent.
    assert [d["channel"] for d in otp["deliveries"]] == ["email", "push"]
    assert delivery(otp, "carol", "push")["status"] == "NoDevice"
    await mail.sink.wait_for(2)
    await asyncio.sleep(0.3)
    subjects = [m.header("Subject") for m in mail.sink.messages]
    assert len(subjects) == 2 and "Q-7 approved" in subjects[0] and "135790" in subjects[1]


async def test_muted_ticket_gets_nothing_but_otp(mail: Mail):
    await mail.users("alice", "bob")
    alice, bob = mail.client("alice"), mail.client("bob")
    ticket_id = (
        await alice.post("/api/v1/tickets", json={"title": "Broken AC", "participantIds": ["bob"]})
    ).json()["id"]
    await mail.sink.wait_for(1)  # TicketCreated to bob
    assert (
        await bob.patch(f"/api/v1/tickets/{ticket_id}/participants/me", json={"isMuted": True})
    ).status_code == 200
    # The creator changes the status as an admin (a plain creator may only cancel).
    r = await mail.client("alice", "admin").patch(f"/api/v1/tickets/{ticket_id}", json={"status": "OnHold"})
    assert r.status_code == 200
    result = await raise_event(
        mail,
        "InvoiceGenerated",
        {"invoice": {"number": "I-1", "total": 5}},
        ticketId=ticket_id,
        actorId="alice",
    )
    assert delivery(result, "bob", "email")["status"] == "Muted"
    assert delivery(result, "bob", "inApp")["status"] == "Muted"
    otp = await raise_event(mail, "OTPRequested", OTP, ticketId=ticket_id, recipientIds=["bob"])
    assert delivery(otp, "bob", "email")["status"] == "Pending"
    await mail.sink.wait_for(2)
    await asyncio.sleep(0.5)
    assert [m.header("Subject").split()[0] for m in mail.sink.messages] == ["New", "135790"]
    notes = (await bob.get("/api/v1/me/notifications")).json()
    assert [n["type"] for n in notes["items"]] == ["TicketCreated"]


async def test_in_app_notifications_list_read_and_socket(mail: Mail):
    await mail.users("carol")
    sock = await open_socket(mail.app.base_url, "carol", mail.app.token("carol", name="Carol"))
    try:
        first = await raise_event(mail, "QuoteCreated", QUOTE, recipientIds=["carol"])
        pushed = await sock.wait("notification")
        assert pushed["id"] == delivery(first, "carol", "inApp")["notificationId"]
        assert (
            pushed["type"] == "QuoteCreated" and pushed["title"] == "Quote ready" and "Q-7" in pushed["body"]
        )
        assert pushed["data"]["quote"]["number"] == "Q-7" and pushed["createdAt"]
        for _ in range(4):
            await raise_event(mail, "PaymentReceived", {"payment": {"amount": 10}}, recipientIds=["carol"])
        await sock.wait_count("notification", 5)
    finally:
        await sock.client.disconnect()
    carol = mail.client("carol")
    page = (await carol.get("/api/v1/me/notifications", params={"limit": 3})).json()
    assert page["unread"] == 5 and len(page["items"]) == 3 and page["nextCursor"]
    assert [n["type"] for n in page["items"]] == ["PaymentReceived"] * 3 and page["items"][0][
        "readAt"
    ] is None
    rest = (
        await carol.get("/api/v1/me/notifications", params={"limit": 3, "cursor": page["nextCursor"]})
    ).json()
    assert [n["type"] for n in rest["items"]] == ["PaymentReceived", "QuoteCreated"] and rest[
        "nextCursor"
    ] is None
    r = await carol.post("/api/v1/me/notifications/read", json={"ids": [rest["items"][1]["id"]]})
    assert r.json() == {"updated": 1, "unread": 4}
    r = await carol.post("/api/v1/me/notifications/read")
    assert r.json() == {"updated": 4, "unread": 0}
    assert (await carol.get("/api/v1/me/notifications")).json()["unread"] == 0
    # Others' notifications are not visible or markable.
    other = mail.client("dave")
    assert (await other.get("/api/v1/me/notifications")).json()["items"] == []
    assert (await carol.get("/api/v1/me/notifications", params={"cursor": "zz"})).status_code == 400
    assert (await carol.post("/api/v1/me/notifications/read", json={"ids": ["nope"]})).status_code == 422


async def test_one_click_unsubscribe(mail: Mail):
    await mail.users("carol")
    await raise_event(mail, "QuoteCreated", QUOTE, recipientIds=["carol"])
    caught = (await mail.sink.wait_for(1))[0]
    link = caught.header("List-Unsubscribe").strip("<>")
    assert link in caught.part("text/plain")  # the footer link is the same signed URL
    parts = urlsplit(link)
    path = f"{parts.path}?{parts.query}"
    web = mail.app.client()  # no login: the signed link is the authority
    page = await web.get(path)
    assert page.status_code == 200 and "<form" in page.text and "quote created" in page.text.lower()
    prefs = (await mail.client("carol").get("/api/v1/me/notification-preferences")).json()
    assert "QuoteCreated" in prefs["emailEvents"]  # opening the page changes nothing
    forged = path.replace("token=", "token=x")
    assert (await web.post(forged, data={"List-Unsubscribe": "One-Click"})).status_code == 400
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await web.post(tampered, data={"List-Unsubscribe": "One-Click"})).status_code == 400
    assert (await web.get(forged)).status_code == 400
    r = await web.post(path, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "unsubscribed" in r.text.lower()
    assert (await web.post(path, data={"List-Unsubscribe": "One-Click"})).status_code == 200  # idempotent
    prefs = (await mail.client("carol").get("/api/v1/me/notification-preferences")).json()
    assert "QuoteCreated" not in prefs["emailEvents"] and "QuoteApproved" in prefs["emailEvents"]
    result = await raise_event(mail, "QuoteCreated", QUOTE, recipientIds=["carol"])
    assert delivery(result, "carol", "email")["status"] == "Disabled"
    await raise_event(mail, "QuoteApproved", QUOTE, recipientIds=["carol"])
    await mail.sink.wait_for(2)
    assert "approved" in mail.sink.messages[1].header("Subject")


def test_unsubscribe_tokens_are_signed_with_the_signing_secret_not_the_jwt_secret(tmp_path) -> None:
    from ticket_comms.config import Settings
    from ticket_comms.email import links

    base = {
        "data_dir": tmp_path,
        "public_base_url": "https://tickets.example.com",
        "jwt_jwks_url": "https://idp.example.com/jwks",
    }
    one = Settings(_env_file=None, signing_secret="s" * 48, **base)  # type: ignore[call-arg]
    token = links.unsubscribe_token(one, "alice", "MessageReceived")
    # The JWT secret keeps its public built-in value when JWKS is used: it must not be the key.
    other_signing = Settings(_env_file=None, signing_secret="t" * 48, **base)  # type: ignore[call-arg]
    with pytest.raises(BadRequest):
        links.read_unsubscribe_token(other_signing, token)
    other_jwt = Settings(_env_file=None, signing_secret="s" * 48, jwt_secret="j" * 48, **base)  # type: ignore[call-arg]
    assert links.read_unsubscribe_token(other_jwt, token) == ("alice", "MessageReceived")
