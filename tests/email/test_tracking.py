"""Delivery tracking: RFC 3464 reports at /email/inbound, SES events through signed SNS messages,
suppressions of hard-bounced and complaining addresses."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.email.support import Mail, self_signed
from ticket_comms.email import ses_webhook as tracking

OTP = {"otp": {"code": "246810", "expiresInMinutes": 5}}
PAYMENT = {"payment": {"amount": 12}}


def dsn(
    *,
    action: str,
    status: str,
    recipient: str,
    envid: str | None = None,
    message_id: str | None = None,
    diagnostic: str = "smtp; 250 2.0.0 ok",
) -> bytes:
    """A delivery status notification as a relay writes it (the subject says nothing useful)."""
    headers_part = ""
    if message_id:
        headers_part = (
            "--BOUNDARY\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: {message_id}\r\nSubject: =?utf-8?q?anything?=\r\nTo: {recipient}\r\n\r\n"
        )
    per_message = "Reporting-MTA: dns; mx.example.net\r\n"
    if envid:
        per_message += f"Original-Envelope-Id: {envid}\r\n"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: bounces@tickets.test\r\n"
        "Subject: [SPAM?] Returned mail: see transcript\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"\r\n\r\n'
        "--BOUNDARY\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n\r\n"
        "--BOUNDARY\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"{per_message}\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\nFinal-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nDiagnostic-Code: {diagnostic}\r\n\r\n"
        f"{headers_part}--BOUNDARY--\r\n"
    ).encode()


async def sent_otp(mail: Mail, user: str) -> dict:
    r = await mail.service.post(
        "/api/v1/events", json={"type": "OTPRequested", "recipientIds": [user], "data": OTP}
    )
    assert r.status_code == 202, r.text
    return await mail.wait_status(r.json()["deliveries"][0]["emailLogId"], "Sent")


async def sent_payment(mail: Mail, user: str) -> dict:
    r = await mail.service.post(
        "/api/v1/events", json={"type": "PaymentReceived", "recipientIds": [user], "data": PAYMENT}
    )
    assert r.status_code == 202, r.text
    return await mail.wait_status(r.json()["deliveries"][0]["emailLogId"], "Sent")


async def inbound(mail: Mail, raw: bytes, client=None):
    client = client or mail.service
    return await client.post("/api/v1/email/inbound", content=raw, headers={"Content-Type": "message/rfc822"})


async def test_dsn_success_marks_delivered_by_envid(mail: Mail):
    await mail.users("carol")
    log = await sent_otp(mail, "carol")
    r = await inbound(
        mail, dsn(action="delivered", status="2.0.0", recipient="carol@example.com", envid=log["id"])
    )
    assert r.status_code == 200, r.text
    assert r.json()["matched"] == [{"emailLogId": log["id"], "action": "delivered", "status": "Delivered"}]
    entry = await mail.log(log["id"])
    assert entry["status"] == "Delivered" and entry["deliveredAt"]
    assert entry["events"][-1]["type"] == "delivered" and entry["events"][-1]["detail"]["source"] == "dsn"
    stats = (await mail.admin.get("/api/v1/email/stats")).json()
    assert stats["delivered"] == 1 and stats["sent"] == 0


async def test_dsn_failure_bounces_by_message_id_and_suppresses(mail: Mail):
    await mail.users("carol", "dave")
    log = await sent_payment(mail, "carol")
    await sent_otp(mail, "dave")
    report = dsn(
        action="failed",
        status="5.1.1",
        recipient="carol@example.com",
        message_id=log["messageId"],
        diagnostic="smtp; 550 5.1.1 mailbox unavailable",
    )
    r = await inbound(mail, report)
    assert r.json()["matched"][0]["status"] == "Bounced"
    entry = await mail.log(log["id"])
    assert entry["status"] == "Bounced" and "5.1.1" in entry["errorMessage"]
    admin = mail.admin
    suppressed = (await admin.get("/api/v1/email/suppressions")).json()["items"]
    assert [(s["email"], s["reason"], s["emailLogId"]) for s in suppressed] == [
        ("carol@example.com", "Bounce", log["id"])
    ]
    # A suppressed address is not mailed again...
    r = await mail.service.post(
        "/api/v1/events", json={"type": "OTPRequested", "recipientIds": ["carol"], "data": OTP}
    )
    assert [d for d in r.json()["deliveries"] if d["channel"] == "email"] == [
        {"recipientId": "carol", "channel": "email", "status": "Suppressed"}
    ]
    # ...until an admin lifts it.
    assert (
        await mail.client("carol").delete("/api/v1/email/suppressions/carol@example.com")
    ).status_code == 403
    assert (await admin.delete("/api/v1/email/suppressions/CAROL@example.com")).status_code == 204
    assert (await admin.delete("/api/v1/email/suppressions/carol@example.com")).status_code == 404
    await sent_otp(mail, "carol")
    # dave's email was untouched.
    dave = (await admin.get("/api/v1/email/logs", params={"recipient": "dave@example.com"})).json()["items"][
        0
    ]
    assert dave["status"] == "Sent"


async def test_a_report_naming_only_a_recipient_changes_nothing(mail: Mail):
    """Anyone can write a report naming an address: without our ids or a signed bounce address it proves
    nothing, so it neither bounces the recipient's email nor suppresses the address."""
    await mail.users("carol")
    log = await sent_payment(mail, "carol")
    for action, status in (("delayed", "4.4.1"), ("failed", "5.1.1")):
        r = await inbound(mail, dsn(action=action, status=status, recipient="carol@example.com"))
        assert r.status_code == 200 and r.json() == {"isReport": True, "matched": []}
    entry = await mail.log(log["id"])
    assert entry["status"] == "Sent" and entry["events"][-1]["type"] == "sent"
    assert (await mail.admin.get("/api/v1/email/suppressions")).json()["items"] == []


async def test_a_report_about_our_email_suppresses_only_its_own_recipient(mail: Mail):
    """A report quoting carol's Message-ID but naming dave (whom it was not sent to) changes nothing."""
    await mail.users("carol", "dave")
    log = await sent_payment(mail, "carol")
    report = dsn(action="failed", status="5.1.1", recipient="dave@example.com", message_id=log["messageId"])
    r = await inbound(mail, report)
    assert r.json() == {"isReport": True, "matched": []}
    assert (await mail.log(log["id"]))["status"] == "Sent"
    assert (await mail.admin.get("/api/v1/email/suppressions")).json()["items"] == []


async def test_a_report_to_the_signed_bounce_address_matches_its_email(mail: Mail):
    """Each email's envelope sender is `bounces+<log id><signature>@…`: a report sent back to it names the
    email; the same address with another signature, or another email's id, matches nothing."""
    await mail.users("carol")
    log = await sent_payment(mail, "carol")
    verp = next(m.mail_from for m in mail.sink.messages if m.header("Message-ID") == log["messageId"])
    assert verp.startswith("bounces+") and verp.endswith("@tickets.test")
    forged = (
        verp[: verp.index("@") - 1]
        + ("0" if verp[verp.index("@") - 1] != "0" else "1")
        + verp[verp.index("@") :]
    )
    report = dsn(action="failed", status="5.1.1", recipient="carol@example.com")
    r = await inbound(mail, report.replace(b"To: bounces@tickets.test", f"To: {forged}".encode()))
    assert r.json()["matched"] == []
    r = await inbound(mail, report.replace(b"To: bounces@tickets.test", f"To: {verp}".encode()))
    assert r.json()["matched"] == [{"emailLogId": log["id"], "action": "failed", "status": "Bounced"}]
    suppressed = (await mail.admin.get("/api/v1/email/suppressions")).json()["items"]
    assert [(s["email"], s["emailLogId"]) for s in suppressed] == [("carol@example.com", log["id"])]


async def test_one_report_never_suppresses_security_mail(mail: Mail):
    """A bounce of an OTPRequested email is recorded, but the address stays mailable: the next code goes,
    and the timeline tells admins the suppression was skipped."""
    await mail.users("carol")
    log = await sent_otp(mail, "carol")
    report = dsn(action="failed", status="5.1.1", recipient="carol@example.com", envid=log["id"])
    r = await inbound(mail, report)
    assert r.json()["matched"][0]["status"] == "Bounced"
    assert (await mail.admin.get("/api/v1/email/suppressions")).json()["items"] == []
    entry = await mail.log(log["id"])
    assert [e["type"] for e in entry["events"]][-2:] == ["bounced", "suppression_skipped"]
    await sent_otp(mail, "carol")


async def test_malformed_ids_in_a_report_are_ignored_not_a_500(mail: Mail):
    await mail.users("carol")
    log = await sent_payment(mail, "carol")
    for bad in ("<<<@@>", "<\x00@x>", "<" + "a" * 5000 + "@x>", "(comment only)"):
        report = dsn(action="failed", status="5.1.1", recipient="carol@example.com", message_id=bad)
        r = await inbound(mail, report)
        assert r.status_code == 200, (bad, r.text)
        assert r.json() == {"isReport": True, "matched": []}
    assert (await mail.log(log["id"]))["status"] == "Sent"


async def test_a_report_with_thousands_of_parts_is_not_parsed_on_the_loop(mail: Mail):
    """20,000 parts froze every request for seconds; past MAX_PARTS it is not a report we read."""
    parts = "".join("--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(20_000))
    raw = (
        'From: x@example.net\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; boundary="B"\r\n\r\n'
        f"{parts}--B--\r\n"
    ).encode()
    r = await inbound(mail, raw)
    assert r.status_code == 200 and r.json() == {"isReport": False, "matched": []}
    # A genuine report about carol's email, padded past the bound, is not read (nor applied) either.
    await mail.users("carol")
    log = await sent_payment(mail, "carol")
    report = dsn(action="failed", status="5.1.1", recipient="carol@example.com", envid=log["id"])
    padding_parts = "".join("--BOUNDARY\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(150))
    padded = report.replace(b"--BOUNDARY--", padding_parts.encode() + b"--BOUNDARY--")
    r = await inbound(mail, padded)
    assert r.status_code == 200 and r.json() == {"isReport": False, "matched": []}
    assert (await mail.log(log["id"]))["status"] == "Sent"
    nested = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(30))
    r = await inbound(mail, f"From: x@example.net\r\nMIME-Version: 1.0\r\n{nested}\r\nx\r\n".encode())
    assert r.status_code == 200 and r.json()["isReport"] is False


async def test_inbound_checks_caller_type_and_content(mail: Mail):
    await mail.users("carol")
    report = dsn(action="delivered", status="2.0.0", recipient="carol@example.com")
    assert (await inbound(mail, report, mail.client("carol"))).status_code == 403
    assert (await inbound(mail, report, mail.app.client())).status_code == 401
    r = await mail.service.post(
        "/api/v1/email/inbound", content=report, headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 415
    r = await inbound(mail, b"From: someone@example.com\r\nSubject: Re: your ticket\r\n\r\nThanks!\r\n")
    assert r.status_code == 200 and r.json() == {"isReport": False, "matched": []}
    r = await inbound(mail, b"\x00\xff garbage")
    assert r.status_code == 200 and r.json()["isReport"] is False


CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"


@pytest.fixture
def sns_key(mail: Mail):
    """A signing key and certificate standing in for SNS's (Amazon's certificate is fetched over https),
    in the app's own certificate cache."""
    key, cert = self_signed("sns.amazonaws.com")
    certificates = mail.app.ctx.sns_certificates
    assert certificates is not None
    certificates.cache[CERT_URL] = cert
    yield key
    certificates.cache.pop(CERT_URL, None)


def signed(
    key, event: dict, *, version: str = "2", topic: str = "arn:aws:sns:eu-west-1:1:ses-events"
) -> dict:
    message = {
        "Type": "Notification",
        "MessageId": "b7c5-1",
        "TopicArn": topic,
        "Message": json.dumps(event),
        "Timestamp": "2026-11-25T10:00:00.000Z",
        "SignatureVersion": version,
        "SigningCertURL": CERT_URL,
    }
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
    signature = key.sign(tracking.canonical_sns_string(message), padding.PKCS1v15(), algorithm)
    message["Signature"] = base64.b64encode(signature).decode()
    return message


async def test_ses_events_through_signed_sns(mail: Mail, sns_key):
    await mail.users("carol", "dave")
    carol_log = await sent_otp(mail, "carol")
    dave_log = await sent_payment(mail, "dave")
    web = mail.app.client()  # SNS has no token: the signature is the authentication
    # SES knows the email by its own id; ours is in the headers it reports.
    delivery = {
        "eventType": "Delivery",
        "mail": {
            "messageId": "ses-0001",
            "headers": [{"name": "Message-ID", "value": carol_log["messageId"]}],
        },
        "delivery": {"recipients": ["carol@example.com"]},
    }
    r = await web.post("/api/v1/email/webhooks/ses", json=signed(sns_key, delivery))
    assert r.status_code == 200, r.text
    assert r.json()["matched"] == carol_log["id"]
    assert (await mail.log(carol_log["id"]))["status"] == "Delivered"
    bounce = {
        "notificationType": "Bounce",
        "mail": {"messageId": "x", "headers": [{"name": "Message-ID", "value": dave_log["messageId"]}]},
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "dave@example.com"}],
        },
    }
    r = await web.post("/api/v1/email/webhooks/ses", json=signed(sns_key, bounce, version="1"))
    assert r.status_code == 200, r.text
    assert (await mail.log(dave_log["id"]))["status"] == "Bounced"
    suppressed = (await mail.admin.get("/api/v1/email/suppressions")).json()["items"]
    assert [s["email"] for s in suppressed] == ["dave@example.com"]
    # Forged or altered messages are refused and change nothing.
    tampered = signed(sns_key, delivery)
    tampered["Message"] = tampered["Message"].replace("Delivery", "Bounce")
    assert (await web.post("/api/v1/email/webhooks/ses", json=tampered)).status_code == 403
    elsewhere = signed(sns_key, delivery)
    elsewhere["SigningCertURL"] = "https://evil.example.com/cert.pem"
    assert (await web.post("/api/v1/email/webhooks/ses", json=elsewhere)).status_code == 403
    assert (await web.post("/api/v1/email/webhooks/ses", content=b"not json")).status_code == 400
    assert (await web.post("/api/v1/email/webhooks/ses", json={"Type": "Nope"})).status_code == 400
    assert (await mail.log(carol_log["id"]))["status"] == "Delivered"


async def test_inbound_smtp_listener_takes_reports(database_url, tmp_path, sink):
    import aiosmtplib

    from tests.conftest import free_port, make_settings, start_app
    from tests.email.support import MAIL_SETTINGS

    port = free_port()
    app = await start_app(
        make_settings(database_url, tmp_path, smtp_url=sink.url, inbound_smtp_port=port, **MAIL_SETTINGS)
    )
    sink.reset()
    mail = Mail(app, sink)
    try:
        await mail.users("carol")
        log = await sent_otp(mail, "carol")
        report = dsn(action="delivered", status="2.0.0", recipient="carol@example.com", envid=log["id"])
        await aiosmtplib.send(
            report,
            sender="mailer-daemon@mx.example.net",
            recipients=["bounces@tickets.test"],
            hostname="127.0.0.1",
            port=port,
        )
        entry = await mail.wait_status(log["id"], "Delivered")
        assert entry["deliveredAt"]
    finally:
        await mail.close()
        await app.stop()


async def test_ses_events_only_from_our_topics_and_only_for_the_emails_recipient(mail: Mail, sns_key):
    await mail.users("carol")
    log = await sent_payment(mail, "carol")
    web = mail.app.client()
    bounce = {
        "notificationType": "Bounce",
        "mail": {"messageId": "x", "headers": [{"name": "Message-ID", "value": log["messageId"]}]},
        "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": []},
    }
    # A validly signed message of someone else's topic is refused (SES_TOPIC_ARNS), changing nothing.
    other = signed(sns_key, bounce, topic="arn:aws:sns:eu-west-1:666:not-ours")
    r = await web.post("/api/v1/email/webhooks/ses", json=other)
    assert r.status_code == 403 and r.json()["error"]["code"] == "unknown_topic"
    assert (await mail.log(log["id"]))["status"] == "Sent"
    # ...and its subscription is never confirmed (refused before any request to the SubscribeURL).
    confirm = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "c-1",
        "Token": "t",
        "TopicArn": "arn:aws:sns:eu-west-1:666:not-ours",
        "Message": "confirm",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
        "Timestamp": "2026-11-25T10:00:00.000Z",
        "SignatureVersion": "2",
        "SigningCertURL": CERT_URL,
    }
    confirm["Signature"] = base64.b64encode(
        sns_key.sign(tracking.canonical_sns_string(confirm), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    r = await web.post("/api/v1/email/webhooks/ses", json=confirm)
    assert r.status_code == 403 and r.json()["error"]["code"] == "unknown_topic"
    # Our topic, but the bounce names other addresses: the email bounces, nobody is suppressed.
    bounce["bounce"]["bouncedRecipients"] = [{"emailAddress": "eve@example.com"}]
    r = await web.post("/api/v1/email/webhooks/ses", json=signed(sns_key, bounce))
    assert r.status_code == 200, r.text
    assert (await mail.admin.get("/api/v1/email/suppressions")).json()["items"] == []


async def test_inbound_smtp_listener_takes_only_bounce_mail_from_its_networks(database_url, tmp_path, sink):
    import aiosmtplib

    from tests.conftest import free_port, make_settings, start_app
    from tests.email.support import MAIL_SETTINGS

    port = free_port()
    app = await start_app(
        make_settings(
            database_url,
            tmp_path,
            smtp_url=sink.url,
            inbound_smtp_port=port,
            **{**MAIL_SETTINGS, "inbound_smtp_networks": ["127.0.0.0/8"]},
        )
    )
    report = dsn(action="delivered", status="2.0.0", recipient="carol@example.com")
    try:
        # Only the bounce address (plain or signed) is a mailbox here: no open relay, no other inbox.
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await aiosmtplib.send(
                report,
                sender="x@example.net",
                recipients=["carol@example.com"],
                hostname="127.0.0.1",
                port=port,
            )
    finally:
        await app.stop()
    other_port = free_port()
    app = await start_app(
        make_settings(
            database_url,
            tmp_path,
            smtp_url=sink.url,
            inbound_smtp_port=other_port,
            **{**MAIL_SETTINGS, "inbound_smtp_networks": ["10.0.0.0/8"]},
        )
    )
    try:
        # From outside INBOUND_SMTP_NETWORKS (here: loopback is not listed), nothing is accepted.
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await aiosmtplib.send(
                report,
                sender="mailer-daemon@mx.example.net",
                recipients=["bounces@tickets.test"],
                hostname="127.0.0.1",
                port=other_port,
            )
        assert refused.value.code == 554
    finally:
        await app.stop()


async def test_one_time_codes_are_not_kept_once_the_email_is_sent(mail: Mail):
    """The code reaches the mailbox, but not the email log an admin reads nor the stored event data."""
    import psycopg

    await mail.users("carol")
    log = await sent_otp(mail, "carol")
    code = OTP["otp"]["code"]
    email = next(m for m in mail.sink.messages if m.header("Message-ID") == log["messageId"])
    assert code in email.header("Subject") and code in email.part("text/plain")
    entry = await mail.log(log["id"])
    assert code not in json.dumps(entry)
    assert entry["subject"].startswith("[redacted] is your")
    async with await psycopg.AsyncConnection.connect(mail.app.ctx.db.url) as conn:
        cur = await conn.execute("SELECT data FROM events")
        stored = [row[0] for row in await cur.fetchall()]
    assert stored and all(code not in json.dumps(d) for d in stored)
    assert stored[0]["otp"] == {"code": "[redacted]", "expiresInMinutes": 5}
