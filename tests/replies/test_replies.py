"""Replies from real mail clients (samples/) become the recipient's chat message in the ticket, in real time
for everyone there, with quotes, headers, signatures and footers stripped and attachments kept."""

from __future__ import annotations

import asyncio

import aiosmtplib
import pytest

from tests.email.support import Mail
from tests.realtime.conftest import open_socket
from tests.replies.support import messages, new_ticket, reply_outcome, reply_to

# sample -> (words that must arrive, words that must not)
CLIENTS = {
    "gmail_en_top_posted.eml": (
        ["Thanks, Tuesday works for me. I'll leave the key with the concierge."],
        ["wrote:", "dripping", "Open the ticket"],
    ),
    "outlook_desktop_en.eml": (
        ["Yes, please come at 10. The side entrance is open."],
        ["Kind regards", "From:", "Sent:", "dripping", "cid:"],
    ),
    "outlook_web_en_html_only.eml": (
        [
            "Could you also check the radiator in the café? It makes a noise.",
            "* ground floor",
            "floor plan (https://example.com/floorplan)",
        ],
        ["<", "From:", "dripping", "* * *"],
    ),
    "apple_mail_en_image.eml": (["Here is a photo of the drip under the sink."], ["wrote:", "dripping"]),
    "iphone_de_plain.eml": (
        ["Danke, Dienstag passt. Ich bin ab 8 Uhr da."],
        ["iPhone", "schrieb", "tropft"],
    ),
    "android_gmail_inline.eml": (
        # Inline answers keep the lines they answer: without them the answers make no sense.
        [
            "> Can someone come on Tuesday?\n\nYes, I can come at 10.",
            "> Should I buy a new washer?\n\nNo, I have one in the van.",
        ],
        ["Sent from my Galaxy", "no-reply@tickets.test"],
    ),
}


@pytest.mark.parametrize("name", sorted(CLIENTS))
async def test_a_reply_from_a_mail_client_lands_in_the_ticket(mail: Mail, name: str):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    outcome = await reply_outcome(mail, reply_to(email, name))
    assert outcome["outcome"] == "Accepted", outcome
    assert outcome["ticketId"] == ticket_id and outcome["userId"] == "bob"
    found = await messages(mail, ticket_id)
    texts = [m for m in found if m["type"] == "Text"]
    assert len(texts) == 1 and texts[0]["senderId"] == "bob"
    content = texts[0]["content"]
    wanted, unwanted = CLIENTS[name]
    for words in wanted:
        assert words in content, content
    for words in unwanted:
        assert words not in content, content
    assert [str(m["id"]) for m in found] == outcome["chatMessageIds"]


async def test_an_image_attachment_becomes_an_image_message(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    outcome = await reply_outcome(mail, reply_to(email, "apple_mail_en_image.eml"))
    assert outcome["outcome"] == "Accepted" and len(outcome["chatMessageIds"]) == 2
    text, image = await messages(mail, ticket_id)
    assert text["type"] == "Text" and image["type"] == "Image" and image["senderId"] == "bob"
    attachment = image["attachment"]
    assert attachment["fileName"] == "IMG_0412.jpeg" and attachment["contentType"] == "image/jpeg"
    assert (attachment["width"], attachment["height"]) == (64, 48)
    download = await mail.client("alice").get(attachment["url"])
    assert download.status_code == 200 and download.content[:3] == b"\xff\xd8\xff"


async def test_the_signature_logo_of_outlook_is_not_an_attachment(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    outcome = await reply_outcome(mail, reply_to(email, "outlook_desktop_en.eml"))
    assert len(outcome["chatMessageIds"]) == 1
    assert [m["type"] for m in await messages(mail, ticket_id)] == ["Text"]


async def test_everyone_in_the_ticket_sees_the_reply_in_real_time(mail: Mail):
    ticket_id, emails = await new_ticket(mail, "alice", "bob", "carol")
    bob_email = next(e for e in emails if e.rcpt_tos == ["bob@example.com"])
    app = mail.app
    sockets = [
        await open_socket(app.base_url, u, app.token(u, name=u.title(), email=f"{u}@example.com"))
        for u in ("alice", "carol")
    ]
    try:
        await reply_outcome(mail, reply_to(bob_email, "gmail_en_top_posted.eml"))
        for sock in sockets:
            event = await sock.wait("newMessage", lambda m: m.get("ticketId") == ticket_id)
            message = event["message"]
            assert message["senderId"] == "bob" and message["content"].startswith("Thanks, Tuesday works")
    finally:
        for sock in sockets:
            await sock.client.disconnect()


async def test_a_repeated_delivery_creates_nothing_new(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    raw = reply_to(email, "gmail_en_top_posted.eml", MESSAGE_ID="<CAFx=once@mail.gmail.com>")
    first = await reply_outcome(mail, raw)
    again = await reply_outcome(mail, raw)
    assert first["outcome"] == "Accepted" and again["outcome"] == "Duplicate"
    assert again["chatMessageIds"] == []
    assert len(await messages(mail, ticket_id)) == 1


async def test_the_inbound_smtp_listener_takes_replies(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    raw = reply_to(email, "iphone_de_plain.eml")
    await aiosmtplib.send(
        raw,
        sender="bob@example.com",
        recipients=[email.header("Reply-To")],
        hostname="127.0.0.1",
        port=mail.app.settings.inbound_smtp_port,
    )
    (message,) = await messages(mail, ticket_id)
    assert message["content"] == "Danke, Dienstag passt. Ich bin ab 8 Uhr da."
    listed = (await mail.admin.get("/api/v1/email/inbound")).json()["items"]
    assert listed[0]["channel"] == "smtp" and listed[0]["outcome"] == "Accepted"


async def test_two_deliveries_at_once_make_one_message(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    raw = reply_to(email, "apple_mail_en_image.eml", MESSAGE_ID="<twice@icloud.example>")
    outcomes = await asyncio.gather(*(reply_outcome(mail, raw) for _ in range(4)))
    assert sorted(o["outcome"] for o in outcomes) == ["Accepted", "Duplicate", "Duplicate", "Duplicate"]
    assert [m["type"] for m in await messages(mail, ticket_id)] == ["Text", "Image"]
