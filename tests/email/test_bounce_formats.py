"""Bounces that do not follow RFC 3464 (old Postfix "Undelivered Mail Returned to Sender", qmail, Exim,
Exchange) are recognised with flufl.bounce; they change only the email they prove to be about."""

from __future__ import annotations

import pytest

from tests.email.support import Caught, Mail
from tests.email.test_tracking import PAYMENT, inbound


async def payment_email(mail: Mail, user: str) -> tuple[dict, Caught]:
    await mail.users(user)
    r = await mail.service.post(
        "/api/v1/events", json={"type": "PaymentReceived", "recipientIds": [user], "data": PAYMENT}
    )
    assert r.status_code == 202, r.text
    log = await mail.wait_status(r.json()["deliveries"][0]["emailLogId"], "Sent")
    (caught,) = mail.sink.to(f"{user}@example.com")
    return log, caught


def returned(caught: Caught) -> str:
    """The original's headers as these formats paste them into their text."""
    head = caught.raw.split(b"\r\n\r\n", 1)[0].decode()
    return "\r\n".join(line for line in head.split("\r\n") if not line.startswith((" ", "\t")))


def postfix_plain(to: str, rcpt: str, original: str) -> str:
    return (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        f"To: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="B1"\r\n\r\n'
        "--B1\r\nContent-Description: Notification\r\nContent-Type: text/plain\r\n\r\n"
        "This is the Postfix program at host mx.example.net.\r\n\r\n"
        "I'm sorry to have to inform you that the message returned\r\n"
        "below could not be delivered to one or more destinations.\r\n\r\n"
        "\t\t\tThe Postfix program\r\n\r\n"
        f"<{rcpt}>: host mx.example.com[192.0.2.7] said: 550 5.1.1\r\n"
        "    <{rcpt}>: Recipient address rejected: User unknown (in reply to RCPT TO command)\r\n\r\n"
        "--B1\r\nContent-Description: Undelivered Message Headers\r\nContent-Type: text/plain\r\n\r\n"
        f"{original}\r\n--B1--\r\n"
    )


def qmail(to: str, rcpt: str, original: str) -> str:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        f"To: {to}\r\nSubject: failure notice\r\n\r\n"
        "Hi. This is the qmail-send program at mx.example.net.\r\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        f"<{rcpt}>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
        "--- Below this line is a copy of the message.\r\n\r\n"
        f"{original}\r\n\r\n(body)\r\n"
    )


def exim(to: str, rcpt: str, original: str) -> str:
    return (
        "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\n"
        f"To: {to}\r\nSubject: Mail delivery failed: returning message to sender\r\n"
        f"X-Failed-Recipients: {rcpt}\r\nAuto-Submitted: auto-replied\r\n\r\n"
        "This message was created automatically by mail delivery software.\r\n\r\n"
        "A message that you sent could not be delivered to one or more of its\r\n"
        "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        f"  {rcpt}\r\n    SMTP error from remote mail server after RCPT TO:<{rcpt}>:\r\n"
        "    550 5.1.1 User unknown\r\n\r\n"
        "------ This is a copy of the message, including all the headers. ------\r\n\r\n"
        f"{original}\r\n"
    )


def exchange(to: str, rcpt: str, original: str) -> str:
    return (
        "From: System Administrator <postmaster@corp.example.com>\r\n"
        f"To: {to}\r\nSubject: Undeliverable: 7 received\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="X"\r\n\r\n'
        "--X\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "Your message\r\n\r\n  Subject: Payment received\r\n  Sent: 03/12/2026 09:20\r\n\r\n"
        "did not reach the following recipient(s):\r\n\r\n"
        f"{rcpt} on 03/12/2026 09:20\r\n"
        "            The e-mail account does not exist at the organization this message was sent to.\r\n"
        "            <mx.corp.example.com #5.1.1>\r\n\r\n"
        "MSEXCH:IMS:CORP:EXAMPLE:MX1 0 (000C05A6) Unknown Recipient\r\n\r\n"
        "--X\r\nContent-Type: text/rfc822-headers\r\n\r\n"  # not message/delivery-status: not RFC 3464
        f"{original}\r\n--X--\r\n"
    )


@pytest.mark.parametrize("make", [postfix_plain, qmail, exim, exchange])
async def test_an_old_style_bounce_to_the_signed_address_bounces_its_email(mail: Mail, make):
    log, caught = await payment_email(mail, "carol")
    r = await inbound(mail, make(caught.mail_from, "carol@example.com", "X-Mailer: elsewhere").encode())
    assert r.status_code == 200, r.text
    assert r.json()["isReport"] is True and r.json()["matched"][0]["status"] == "Bounced"
    entry = await mail.log(log["id"])
    assert entry["status"] == "Bounced"
    assert entry["events"][-1]["detail"]["source"] == "flufl.bounce"
    suppressed = (await mail.admin.get("/api/v1/email/suppressions")).json()["items"]
    assert [(s["email"], s["reason"], s["expiresAt"]) for s in suppressed] == [
        ("carol@example.com", "Bounce", None)
    ]


@pytest.mark.parametrize("make", [qmail, exim, exchange])
async def test_an_old_style_bounce_quoting_our_headers_finds_its_email(mail: Mail, make):
    log, caught = await payment_email(mail, "carol")
    raw = make("bounces@tickets.test", "carol@example.com", returned(caught)).encode()
    r = await inbound(mail, raw)
    assert r.json()["matched"][0]["emailLogId"] == log["id"]
    assert (await mail.log(log["id"]))["status"] == "Bounced"


async def test_an_old_style_bounce_proves_nothing_by_addresses_alone(mail: Mail):
    log, caught = await payment_email(mail, "carol")
    # Neither our signed address nor our ids: the address it names is no proof.
    r = await inbound(mail, exim("bounces@tickets.test", "carol@example.com", "Subject: hi").encode())
    assert r.json() == {"isReport": True, "matched": []}
    # Our signed address, but a bounce about somebody else.
    r = await inbound(mail, qmail(caught.mail_from, "dave@example.com", "").encode())
    assert r.json()["matched"] == []
    assert (await mail.log(log["id"]))["status"] == "Sent"
    assert (await mail.admin.get("/api/v1/email/suppressions")).json()["items"] == []
