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
    log = await sent_otp(mail, "carol")
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


async def test_dsn_matched_by_original_recipient_when_nothing_else_survived(mail: Mail):
    await mail.users("carol")
    log = await sent_otp(mail, "carol")
    r = await inbound(mail, dsn(action="delayed", status="4.4.1", recipient="carol@example.com"))
    assert r.json()["matched"][0]["emailLogId"] == log["id"]
    entry = await mail.log(log["id"])
    assert entry["status"] == "Sent" and entry["events"][-1]["type"] == "delayed"


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
def sns_key():
    """A signing key and certificate standing in for SNS's (Amazon's certificate is fetched over https)."""
    key, cert = self_signed("sns.amazonaws.com")
    tracking._certificates[CERT_URL] = cert
    yield key
    tracking._certificates.pop(CERT_URL, None)


def signed(key, event: dict, *, version: str = "2") -> dict:
    message = {
        "Type": "Notification",
        "MessageId": "b7c5-1",
        "TopicArn": "arn:aws:sns:eu-west-1:1:ses-events",
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
    dave_log = await sent_otp(mail, "dave")
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
