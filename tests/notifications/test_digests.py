"""Chat messages are emailed as one digest per (ticket, recipient), only when still unread after the delay
(MESSAGE_EMAIL_DELAY_SECONDS, 1.5 s in these tests)."""

from __future__ import annotations

import asyncio

from tests.email.support import MAIL_SETTINGS, Mail

DELAY = MAIL_SETTINGS["message_email_delay_seconds"]


async def ticket(mail: Mail, *others: str) -> str:
    await mail.users("alice", *others)
    r = await mail.client("alice").post(
        "/api/v1/tickets", json={"title": "Leaking tap", "participantIds": list(others)}
    )
    assert r.status_code == 201, r.text
    await mail.sink.wait_for(len(others))  # TicketCreated emails
    mail.sink.messages.clear()
    return r.json()["id"]


async def say(mail: Mail, user: str, ticket_id: str, content: str) -> dict:
    r = await mail.client(user).post(f"/api/v1/tickets/{ticket_id}/messages", json={"content": content})
    assert r.status_code == 201, r.text
    return r.json()


def digests(mail: Mail) -> list:
    return [m for m in mail.sink.messages if "new message" in m.header("Subject")]


async def test_unread_messages_become_one_email(mail: Mail):
    ticket_id = await ticket(mail, "bob", "carol")
    await say(mail, "alice", ticket_id, "The tap is dripping again.")
    await say(mail, "alice", ticket_id, "Can someone come on Tuesday?")
    # Carol reads; Bob does not.
    assert (await mail.client("carol").post(f"/api/v1/tickets/{ticket_id}/read", json={})).status_code == 200
    await asyncio.sleep(DELAY * 0.5)
    assert digests(mail) == []  # not before the delay
    found = await mail.sink.wait_for(
        1, timeout=DELAY + 6, predicate=lambda m: "new message" in m.header("Subject")
    )
    await asyncio.sleep(DELAY + 0.5)
    assert len(digests(mail)) == 1
    email = found[0]
    assert email.rcpt_tos == ["bob@example.com"]
    assert email.header("Subject") == "2 new messages on Leaking tap"
    text = email.part("text/plain")
    assert "The tap is dripping again." in text and "Can someone come on Tuesday?" in text and "Alice" in text
    assert f"/tickets/{ticket_id}" in text
    logs = (await mail.admin.get("/api/v1/email/logs", params={"templateName": "MessageReceived"})).json()[
        "items"
    ]
    assert [entry["recipientId"] for entry in logs] == ["bob"]

    # The next unread message starts a new digest that covers only what is new.
    await say(mail, "carol", ticket_id, "Tuesday works, I'll bring a washer.")
    await mail.sink.wait_for(3, timeout=DELAY + 6, predicate=lambda m: "new message" in m.header("Subject"))
    await asyncio.sleep(DELAY)
    newest = [m for m in digests(mail) if m is not email]
    assert sorted(m.rcpt_tos[0] for m in newest) == ["alice@example.com", "bob@example.com"]
    bob_second = next(m for m in newest if m.rcpt_tos == ["bob@example.com"])
    assert bob_second.header("Subject") == "1 new message on Leaking tap"
    assert "dripping" not in bob_second.part("text/plain") and "washer" in bob_second.part("text/plain")


async def test_reading_in_time_cancels_the_digest(mail: Mail):
    ticket_id = await ticket(mail, "bob")
    await say(mail, "alice", ticket_id, "Quick question about the invoice.")
    await asyncio.sleep(DELAY / 3)
    r = await mail.client("bob").post(f"/api/v1/tickets/{ticket_id}/read", json={})
    assert r.status_code == 200
    await asyncio.sleep(DELAY * 2 + 1)
    assert digests(mail) == []
    row = await mail.app.ctx.db.fetch_one(
        "SELECT count(*) AS n FROM email_logs WHERE template_name = 'MessageReceived'"
    )
    assert row is not None and row["n"] == 0


async def test_system_messages_and_muted_tickets_are_never_digested(mail: Mail):
    ticket_id = await ticket(mail, "bob", "carol")
    carol = mail.client("carol")
    assert (
        await carol.patch(f"/api/v1/tickets/{ticket_id}/participants/me", json={"isMuted": True})
    ).status_code == 200
    # A status change posts a System message; it has its own email (TicketStatusChanged), no digest.
    assert (
        await mail.admin.patch(f"/api/v1/tickets/{ticket_id}", json={"status": "OnHold"})
    ).status_code == 200
    await say(mail, "alice", ticket_id, "Waiting for the part.")
    found = await mail.sink.wait_for(
        1, timeout=DELAY + 6, predicate=lambda m: "new message" in m.header("Subject")
    )
    await asyncio.sleep(DELAY)
    assert [m.rcpt_tos for m in digests(mail)] == [["bob@example.com"]]
    assert found[0].header("Subject") == "1 new message on Leaking tap"
    assert "changed the status" not in found[0].part("text/plain")


async def test_deleted_messages_are_left_out(mail: Mail):
    ticket_id = await ticket(mail, "bob")
    first = await say(mail, "alice", ticket_id, "Wrong ticket, sorry")
    await say(mail, "alice", ticket_id, "The plumber arrives at 9.")
    r = await mail.client("alice").delete(f"/api/v1/tickets/{ticket_id}/messages/{first['id']}")
    assert r.status_code == 204
    found = await mail.sink.wait_for(
        1, timeout=DELAY + 6, predicate=lambda m: "new message" in m.header("Subject")
    )
    assert found[0].header("Subject") == "1 new message on Leaking tap"
    assert "Wrong ticket" not in found[0].part("text/plain")


async def test_a_message_sent_while_its_digest_is_built_is_still_emailed(mail: Mail):
    """The race, on purpose: the digest of message 1 is held mid-build (its event write waits on a lock this
    test holds on bob's user row), message 2 is sent meanwhile, then the build finishes. Message 2 must get
    a digest of its own; before the fix the build cleared the digest after message 2 had skipped it."""
    import psycopg

    ticket_id = await ticket(mail, "bob")
    await say(mail, "alice", ticket_id, "First: the tap drips.")
    url = mail.app.ctx.db.url
    async with (
        await psycopg.AsyncConnection.connect(url) as holder,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as probe,
    ):
        await holder.execute("SELECT 1 FROM users WHERE id = 'bob' FOR UPDATE")
        # Wait until the sweeper's build of bob's digest is blocked writing its event.
        for _ in range(200):
            cur = await probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%%INSERT INTO events%%'"
            )
            row = await cur.fetchone()
            if row and row[0]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the digest build never reached its event write")
        second = asyncio.create_task(say(mail, "alice", ticket_id, "Second: now it floods."))
        await asyncio.sleep(0.5)  # the send runs while the build is held
        await holder.rollback()  # let the build finish
        await second
    first = await mail.sink.wait_for(1, timeout=10, predicate=lambda m: "new message" in m.header("Subject"))
    assert "First: the tap drips." in first[0].part("text/plain")
    found = await mail.sink.wait_for(
        2, timeout=DELAY + 8, predicate=lambda m: "new message" in m.header("Subject")
    )
    assert "Second: now it floods." in found[1].part("text/plain")


async def _copies_of(mail: Mail, text: str) -> dict[str, int]:
    found = {}
    for table in ("events", "notifications"):
        row = await mail.app.ctx.db.fetch_one(
            f"SELECT count(*) AS n FROM {table} WHERE data::text LIKE %s", (f"%{text}%",)
        )
        assert row is not None
        found[table] = row["n"]
    return found


async def test_a_deleted_message_leaves_no_copy_of_its_text(mail: Mail):
    ticket_id = await ticket(mail, "bob")
    secret = await say(mail, "alice", ticket_id, "The door code is 4321.")
    await say(mail, "alice", ticket_id, "See you at nine.")
    await mail.sink.wait_for(1, timeout=DELAY + 6, predicate=lambda m: "new message" in m.header("Subject"))
    assert await _copies_of(mail, "4321") == {"events": 1, "notifications": 1}

    r = await mail.client("alice").delete(f"/api/v1/tickets/{ticket_id}/messages/{secret['id']}")
    assert r.status_code == 204
    assert await _copies_of(mail, "4321") == {"events": 0, "notifications": 0}
    # The other message is still quoted; the deleted one keeps its place, marked deleted.
    assert await _copies_of(mail, "See you at nine.") == {"events": 1, "notifications": 1}
    notes = (await mail.client("bob").get("/api/v1/me/notifications")).json()["items"]
    quoted = next(n for n in notes if n["type"] == "MessageReceived")["data"]["messages"]
    assert [m.get("deleted", False) for m in quoted] == [True, False]
    assert "4321" not in str(notes)

    # Deleted before its digest is due: the digest never quotes it.
    mail.sink.messages.clear()
    pin = await say(mail, "alice", ticket_id, "My PIN is 9876.")
    await say(mail, "alice", ticket_id, "Ignore that.")
    r = await mail.client("alice").delete(f"/api/v1/tickets/{ticket_id}/messages/{pin['id']}")
    assert r.status_code == 204
    email = (
        await mail.sink.wait_for(
            1, timeout=DELAY + 6, predicate=lambda m: "new message" in m.header("Subject")
        )
    )[0]
    assert "9876" not in email.part("text/plain") and "Ignore that." in email.part("text/plain")
    assert await _copies_of(mail, "9876") == {"events": 0, "notifications": 0}
