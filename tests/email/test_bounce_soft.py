"""Repeated soft bounces (4.x.x) to one address suppress it for a while (SOFT_BOUNCE_THRESHOLD within
SOFT_BOUNCE_WINDOW_SECONDS, for SOFT_BOUNCE_SUPPRESS_SECONDS), with a reason admins can read; the
suppression lifts itself."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from tests.email.support import Mail
from tests.email.test_tracking import dsn, inbound, sent_payment


async def soft_bounce(mail: Mail, log_id: str, action: str = "failed", status: str = "4.2.2") -> None:
    report = dsn(
        action=action,
        status=status,
        recipient="carol@example.com",
        envid=log_id,
        diagnostic="smtp; 452 4.2.2 Mailbox full",
    )
    r = await inbound(mail, report)
    assert r.status_code == 200 and r.json()["matched"], r.text


async def payment_delivery(mail: Mail) -> dict:
    r = await mail.service.post(
        "/api/v1/events",
        json={"type": "PaymentReceived", "recipientIds": ["carol"], "data": {"payment": {"amount": 1}}},
    )
    assert r.status_code == 202, r.text
    return next(d for d in r.json()["deliveries"] if d["channel"] == "email")


async def test_soft_bounces_past_the_threshold_suppress_for_a_while(mail: Mail):
    await mail.users("carol")
    threshold = mail.app.settings.soft_bounce_threshold
    logs = [await sent_payment(mail, "carol") for _ in range(threshold)]
    for log in logs[:-1]:
        await soft_bounce(mail, log["id"])
        await soft_bounce(mail, log["id"], action="delayed")  # the same email again: counted once
    assert (await mail.admin.get("/api/v1/email/suppressions")).json()["items"] == []
    assert (await payment_delivery(mail))["status"] == "Pending"

    await soft_bounce(mail, logs[-1]["id"])
    (suppression,) = (await mail.admin.get("/api/v1/email/suppressions")).json()["items"]
    assert suppression["email"] == "carol@example.com" and suppression["reason"] == "SoftBounce"
    assert f"{threshold} soft bounces" in suppression["detail"] and "4.2.2" in suppression["detail"]
    assert suppression["emailLogId"] == logs[-1]["id"]
    expires = datetime.fromisoformat(suppression["expiresAt"]) - datetime.fromisoformat(
        suppression["createdAt"]
    )
    assert abs(expires - timedelta(seconds=mail.app.settings.soft_bounce_suppress_seconds)) < timedelta(
        seconds=5
    )
    assert (await payment_delivery(mail))["status"] == "Suppressed"

    # Its time is up (as if SOFT_BOUNCE_SUPPRESS_SECONDS had passed).
    async with await psycopg.AsyncConnection.connect(mail.app.settings.database_url, autocommit=True) as conn:
        await conn.execute("UPDATE email_suppressions SET expires_at = now() - interval '1 second'")
    # Expired: it lifted itself; the address is mailed again and no longer listed.
    assert (await mail.admin.get("/api/v1/email/suppressions")).json()["items"] == []
    assert (await payment_delivery(mail))["status"] == "Pending"


async def test_a_hard_bounce_is_never_shortened_by_soft_ones(mail: Mail):
    await mail.users("carol")
    hard = await sent_payment(mail, "carol")
    r = await inbound(
        mail, dsn(action="failed", status="5.1.1", recipient="carol@example.com", envid=hard["id"])
    )
    assert r.json()["matched"][0]["status"] == "Bounced"
    async with await psycopg.AsyncConnection.connect(mail.app.settings.database_url, autocommit=True) as conn:
        for _ in range(mail.app.settings.soft_bounce_threshold):
            # Soft bounces of emails sent before the suppression.
            cur = await conn.execute(
                "INSERT INTO email_logs (id, template_name, recipient_email, message_id, status) "
                "VALUES (gen_random_uuid(), 'PaymentReceived', 'carol@example.com', gen_random_uuid()::text, 'Sent') "
                "RETURNING id"
            )
            (log_id,) = await cur.fetchone()
            await soft_bounce(mail, str(log_id))
    (suppression,) = (await mail.admin.get("/api/v1/email/suppressions")).json()["items"]
    assert (suppression["reason"], suppression["expiresAt"]) == ("Bounce", None)
