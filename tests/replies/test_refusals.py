"""Nothing forged, automatic, repeated or oversized gets in: each such mail is refused, recorded with its
reason, and never becomes a message or a 500."""

from __future__ import annotations

import os
from email.message import EmailMessage
from email.policy import SMTP

import aiosmtplib
import psycopg
import pytest

from tests.email.support import Mail
from tests.replies.support import (
    inbound,
    messages,
    new_ticket,
    raise_ticket_event,
    reply_outcome,
    reply_to,
    sample,
)


async def refused(mail: Mail, raw: bytes, reason: str) -> dict:
    outcome = await reply_outcome(mail, raw)
    assert (outcome["outcome"], outcome["reason"]) == ("Refused", reason), outcome
    assert outcome["chatMessageIds"] == []
    return outcome


async def test_a_forged_from_is_refused(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    await refused(
        mail, reply_to(email, "gmail_en_top_posted.eml", FROM="mallory@evil.test"), "sender_mismatch"
    )
    # The recipient's own address, but our MTA found the From domain's DMARC failing.
    forged = reply_to(email, "gmail_en_top_posted.eml").replace(
        b"Return-Path:",
        b"Authentication-Results: mx.tickets.test; dmarc=fail (p=none) header.from=example.com\r\nReturn-Path:",
        1,
    )
    await refused(mail, forged, "sender_mismatch")
    assert await messages(mail, ticket_id) == []


async def test_a_stolen_token_works_for_nobody_else_and_no_other_ticket(mail: Mail):
    ticket_a, (bob_email,) = await new_ticket(mail, "alice", "bob")
    ticket_b, (carol_email,) = await new_ticket(mail, "alice", "carol", title="Broken window")
    # Carol got hold of Bob's reply address: her own From is not its recipient.
    await refused(
        mail, reply_to(bob_email, "gmail_en_top_posted.eml", FROM="carol@example.com"), "sender_mismatch"
    )
    # Bob's signature on the id of Carol's email (another ticket): the signature does not match.
    bob_to, carol_to = bob_email.header("Reply-To"), carol_email.header("Reply-To")
    spliced = carol_to[: 6 + 32] + bob_to[6 + 32 : 6 + 48] + carol_to[6 + 48 :]
    assert spliced != carol_to
    outcome = await refused(mail, reply_to(bob_email, "gmail_en_top_posted.eml", TO=spliced), "bad_token")
    assert outcome["ticketId"] is None
    # One changed letter of the signature.
    tampered = bob_to[:40] + ("0" if bob_to[40] != "0" else "1") + bob_to[41:]
    await refused(mail, reply_to(bob_email, "gmail_en_top_posted.eml", TO=tampered), "bad_token")
    assert await messages(mail, ticket_a) == [] and await messages(mail, ticket_b) == []


async def test_an_expired_token_is_refused(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    async with await psycopg.AsyncConnection.connect(mail.app.settings.database_url, autocommit=True) as conn:
        await conn.execute("UPDATE email_logs SET created_at = now() - interval '181 days'")
    outcome = await refused(mail, reply_to(email, "gmail_en_top_posted.eml"), "expired_token")
    assert outcome["ticketId"] == ticket_id


async def test_someone_no_longer_in_the_ticket_cannot_reply(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    r = await mail.admin.delete(f"/api/v1/tickets/{ticket_id}/participants/bob")
    assert r.status_code == 204, r.text
    await refused(mail, reply_to(email, "gmail_en_top_posted.eml"), "not_participant")
    assert await messages(mail, ticket_id) == []


@pytest.mark.parametrize("name", ["out_of_office.eml", "vacation_no_headers.eml"])
async def test_out_of_office_replies_are_ignored(mail: Mail, name: str):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    await refused(mail, reply_to(email, name), "auto_reply")
    assert await messages(mail, ticket_id) == []


async def test_bulk_and_list_mail_is_ignored(mail: Mail):
    _, (email,) = await new_ticket(mail, "alice", "bob")
    for header in (
        b"Precedence: bulk",
        b"Precedence: list",
        b"List-Id: <team.lists.example.com>",
        b"X-Autoreply: yes",
    ):
        raw = reply_to(email, "gmail_en_top_posted.eml").replace(
            b"MIME-Version:", header + b"\r\nMIME-Version:", 1
        )
        await refused(mail, raw, "auto_reply")


async def test_our_own_mail_coming_back_is_a_loop(mail: Mail):
    ticket_id, _ = await new_ticket(mail, "alice", "bob")
    ours = await raise_ticket_event(mail, ticket_id, "bob")
    # A forwarding rule sends our email, as it is, to its own Reply-To.
    raw = ours.raw.replace(b"To: ", b"Delivered-To: " + ours.header("Reply-To").encode() + b"\r\nTo: ", 1)
    await refused(mail, raw, "loop")
    assert await messages(mail, ticket_id) == []


async def test_malformed_mime_is_refused_not_a_500(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    await refused(mail, reply_to(email, "malformed_mime.eml"), "malformed")
    for junk in (
        b"\x00\xff" * 100,
        b"Subject: no body at all",
        b'Content-Type: multipart/mixed; boundary="a"\r\n\r\n'
        + b'--a\r\nContent-Type: multipart/mixed; boundary="a"\r\n\r\n' * 40,
    ):
        raw = b"Delivered-To: " + email.header("Reply-To").encode() + b"\r\nFrom: bob@example.com\r\n" + junk
        r = await inbound(mail, raw)
        assert r.status_code == 200, r.text
        assert r.json()["reply"]["outcome"] == "Refused"
    assert await messages(mail, ticket_id) == []


async def test_a_20_mib_mail_is_refused_and_recorded(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    raw = reply_to(email, "gmail_en_top_posted.eml")
    big = raw.replace(
        b"--000000000000a1b2c3d4e5f60718--",
        b'--000000000000a1b2c3d4e5f60718\r\nContent-Type: application/octet-stream; name="huge.bin"\r\n'
        b'Content-Disposition: attachment; filename="huge.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + (b"A" * 76 + b"\r\n") * (20 * 1024 * 1024 // 78)
        + b"--000000000000a1b2c3d4e5f60718--",
    )
    assert len(big) > 20 * 1024 * 1024
    r = await inbound(mail, big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    (record,) = (await mail.admin.get("/api/v1/email/inbound", params={"outcome": "Refused"})).json()["items"]
    assert record["reason"] == "too_large" and record["sizeBytes"] == len(big)
    assert record["fromAddress"] == "bob@example.com" and record["toAddress"] == email.header("Reply-To")
    assert record["ticketId"] == ticket_id and record["userId"] == "bob"
    assert await messages(mail, ticket_id) == []


async def test_a_reply_with_nothing_left_is_refused(mail: Mail):
    _, (email,) = await new_ticket(mail, "alice", "bob")
    raw = sample("iphone_de_plain.eml", TO=email.header("Reply-To"), FROM="bob@example.com").replace(
        b"Danke, Dienstag passt. Ich bin ab 8 Uhr da.", b""
    )
    await refused(mail, raw, "empty")


async def test_the_listener_refuses_an_announced_oversize_mail_at_mail_from(mail: Mail):
    await new_ticket(mail, "alice", "bob")
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=mail.app.settings.inbound_smtp_port)
    async with client:
        await client.ehlo()
        assert "size" in client.esmtp_extensions
        size = 20 * 1024 * 1024
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused_at:
            await client.mail("bob@example.com", options=[f"SIZE={size}"])
        assert refused_at.value.code == 552
    (record,) = (await mail.admin.get("/api/v1/email/inbound")).json()["items"]
    assert (record["channel"], record["reason"], record["sizeBytes"]) == ("smtp", "too_large", size)
    assert record["fromAddress"] == "bob@example.com"


async def test_the_listener_records_an_oversize_mail_that_announced_no_size(mail: Mail):
    """aiosmtpd discards an oversized mail's data before answering 552; it is still recorded, with its
    headers and the bytes it sent, and the connection goes on to take the next mail."""
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    big = EmailMessage()
    big["From"] = "Bob Smith <bob@example.com>"
    big["To"] = email.header("Reply-To")
    big["Subject"] = "Re: " + email.header("Subject")
    big["Message-ID"] = "<big-unannounced@mail.example.com>"
    big.set_content("The photos of the tap.")
    big.add_attachment(os.urandom(8 * 1024 * 1024), maintype="image", subtype="jpeg", filename="tap.jpg")
    raw = big.as_bytes(policy=SMTP)
    limit = mail.app.settings.reply_max_bytes
    assert len(raw) > limit
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=mail.app.settings.inbound_smtp_port)
    async with client:
        await client.ehlo()
        await client.mail("bob@example.com")  # no SIZE=
        await client.rcpt(email.header("Reply-To"))
        with pytest.raises(aiosmtplib.SMTPDataError) as refused_at:
            await client.data(raw)
        assert refused_at.value.code == 552
        # The same connection still takes a mail of a fitting size.
        await client.sendmail(
            "bob@example.com", [email.header("Reply-To")], reply_to(email, "gmail_en_top_posted.eml")
        )
    # Found under its ticket: the reply address it was sent to names it.
    items = (await mail.admin.get("/api/v1/email/inbound", params={"ticketId": ticket_id})).json()["items"]
    assert [i["outcome"] for i in items] == ["Accepted", "Refused"]
    record = items[1]
    assert (record["channel"], record["reason"]) == ("smtp", "too_large")
    assert record["sizeBytes"] > limit and record["sizeBytes"] >= len(raw)
    assert record["fromAddress"] == "bob@example.com"
    assert record["toAddress"] == email.header("Reply-To").lower()
    assert record["messageId"] == "<big-unannounced@mail.example.com>"
    assert record["subject"] == "Re: " + email.header("Subject")
    assert len(await messages(mail, ticket_id)) == 1  # only the fitting reply's text
