"""Emails an admin sends by hand (a template test to oneself, a resend of a failed email) and the
email as its recipient got it, re-rendered for the log (secrets redacted)."""

from __future__ import annotations

from typing import Any

from tests.email.support import Mail

COMPLETED = {
    "ticket": {"id": "7", "title": "Leaking tap", "status": "Completed", "url": "https://t.example.com/t/7"},
    "actor": {"name": "Bob"},
}
OTP = {"otp": {"code": "482913", "expiresInMinutes": 10}}


def email_log(response: Any) -> str:
    assert response.status_code == 202, response.text
    return next(d["emailLogId"] for d in response.json()["deliveries"] if d["channel"] == "email")


def boss(mail: Mail) -> Any:
    return mail.client("boss", "admin", email="boss@example.com", name="Boss")


async def test_send_a_test_to_me_goes_through_the_outbox_and_is_logged(mail: Mail) -> None:
    admin = boss(mail)
    r = await admin.post("/api/v1/email/templates/TicketCompleted/test", json={"context": COMPLETED})
    assert r.status_code == 201, r.text
    assert r.json()["recipientEmail"] == "boss@example.com"
    log = await mail.wait_status(r.json()["emailLogId"], "Sent")
    assert log["templateName"] == "TicketCompleted" and log["recipientEmail"] == "boss@example.com"
    assert log["events"][0]["type"] == "queued" and log["events"][0]["detail"]["test"] is True
    caught = (await mail.sink.wait_for(1, predicate=lambda m: "boss@example.com" in m.rcpt_tos))[0]
    assert caught.message["Subject"] == "Completed: Leaking tap"


async def test_a_test_that_cannot_render_is_refused_before_queuing(mail: Mail) -> None:
    admin = boss(mail)
    r = await admin.post("/api/v1/email/templates/TicketCompleted/test", json={"context": {}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_variables"
    r = await admin.post("/api/v1/email/templates/layout/test", json={"context": {}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "layout_test"
    r = await admin.post("/api/v1/email/templates/Nope/test", json={"context": {}})
    assert r.status_code == 404
    assert (await mail.admin.get("/api/v1/email/logs")).json()["items"] == []
    member = mail.client("mallory", email="m@example.com")
    r = await member.post("/api/v1/email/templates/TicketCompleted/test", json={"context": COMPLETED})
    assert r.status_code == 403


async def test_a_failed_email_is_resent_as_a_new_linked_log(mail: Mail) -> None:
    await mail.users("carol")
    mail.sink.script("carol@example.com", "550 5.1.1 <carol@example.com>: Recipient address rejected")
    r = await mail.service.post(
        "/api/v1/events", json={"type": "TicketCompleted", "recipientIds": ["carol"], "data": COMPLETED}
    )
    first_id = email_log(r)
    await mail.wait_status(first_id, "Failed")
    admin = boss(mail)
    r = await admin.post(f"/api/v1/email/logs/{first_id}/resend")
    assert r.status_code == 201, r.text
    second = await mail.wait_status(r.json()["emailLogId"], "Sent")  # the script is used up: accepted now
    assert second["resentFrom"] == first_id
    first = await mail.log(first_id)
    assert (
        first["events"][-1]["type"] == "resent"
        and first["events"][-1]["detail"]["emailLogId"] == second["id"]
    )
    # A sent email is not resent; unknown ids are 404; members are refused.
    r = await admin.post(f"/api/v1/email/logs/{second['id']}/resend")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_resendable"
    assert (
        await admin.post("/api/v1/email/logs/00000000-0000-0000-0000-000000000000/resend")
    ).status_code == 404
    assert (await admin.post("/api/v1/email/logs/nope/resend")).status_code == 422
    assert (await mail.client("carol").post(f"/api/v1/email/logs/{first_id}/resend")).status_code == 403


async def test_resending_to_a_suppressed_address_or_an_otp_is_refused(mail: Mail, database_url: str) -> None:
    import psycopg

    await mail.users("carol", "dave")
    for who in ("carol@example.com", "dave@example.com"):
        mail.sink.script(who, "550 5.1.1 Recipient address rejected")
    r = await mail.service.post(
        "/api/v1/events", json={"type": "TicketCompleted", "recipientIds": ["carol"], "data": COMPLETED}
    )
    carol_log = email_log(r)
    r = await mail.service.post(
        "/api/v1/events", json={"type": "OTPRequested", "recipientIds": ["dave"], "data": OTP}
    )
    otp_log = email_log(r)
    await mail.wait_status(carol_log, "Failed")
    await mail.wait_status(otp_log, "Failed")
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO email_suppressions (email, reason, email_log_id) VALUES ('carol@example.com', 'Bounce', %s)",
            (carol_log,),
        )
    admin = boss(mail)
    r = await admin.post(f"/api/v1/email/logs/{carol_log}/resend")
    assert r.status_code == 409 and r.json()["error"]["code"] == "recipient_suppressed"
    assert "suppressed" in r.json()["error"]["message"]
    r = await admin.post(f"/api/v1/email/logs/{otp_log}/resend")
    assert r.status_code == 409 and r.json()["error"]["code"] == "secret_not_resendable"


async def test_the_content_is_the_email_as_sent_with_secrets_redacted(mail: Mail) -> None:
    await mail.users("carol")
    r = await mail.service.post(
        "/api/v1/events", json={"type": "OTPRequested", "recipientIds": ["carol"], "data": OTP}
    )
    otp_id = email_log(r)
    await mail.wait_status(otp_id, "Sent")
    admin = boss(mail)
    r = await admin.get(f"/api/v1/email/logs/{otp_id}/content")
    assert r.status_code == 200, r.text
    content = r.json()
    assert content["source"] == "rerendered"
    assert "482913" not in content["subject"] + content["html"] + content["text"]
    assert "[redacted]" in content["text"]
    log = await mail.log(otp_id)
    assert "482913" not in str(log)

    # The template as it was when sent, not as edited since.
    r = await mail.service.post(
        "/api/v1/events", json={"type": "TicketCompleted", "recipientIds": ["carol"], "data": COMPLETED}
    )
    done_id = email_log(r)
    await mail.wait_status(done_id, "Sent")
    sent_subject = (await admin.get(f"/api/v1/email/logs/{done_id}/content")).json()["subject"]
    assert sent_subject == "Completed: Leaking tap"
    try:
        assert (
            await admin.put(
                "/api/v1/email/templates/TicketCompleted", json={"subject": "Edited {{ ticket.title }}"}
            )
        ).status_code == 200
        again = (await admin.get(f"/api/v1/email/logs/{done_id}/content")).json()
        assert again["subject"] == "Completed: Leaking tap" and again["templateVersion"] == 1
    finally:
        assert (await admin.post("/api/v1/email/templates/TicketCompleted/reset")).status_code == 200
    assert (
        await admin.get("/api/v1/email/logs/00000000-0000-0000-0000-000000000000/content")
    ).status_code == 404
    assert (await mail.client("carol").get(f"/api/v1/email/logs/{done_id}/content")).status_code == 403
