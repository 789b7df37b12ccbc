"""Just before sending, the worker asks again whether the recipient still wants each queued email: an
unsubscribe, a mute or a suppression that came after the email was queued stops it (security mail still
goes)."""

from __future__ import annotations

import psycopg

from tests.conftest import make_settings, start_app
from tests.email.support import MAIL_SETTINGS, Mail
from ticket_comms import background


async def test_the_worker_rechecks_wishes_just_before_sending(database_url, tmp_path, sink):
    app = await start_app(
        make_settings(database_url, tmp_path, smtp_url=sink.url, **{**MAIL_SETTINGS, "worker": "off"})
    )
    sink.reset()
    mail = Mail(app, sink)
    worker = None
    try:
        await mail.users("alice", "carol", "dave", "erin", "frank")
        service = mail.service
        r = await mail.client("alice").post(
            "/api/v1/tickets", json={"title": "Leaking tap", "participantIds": ["erin", "frank"]}
        )
        assert r.status_code == 201, r.text
        ticket_id = r.json()["id"]
        queued: dict[tuple[str, str], str] = {}
        for body in (
            {
                "type": "PaymentReceived",
                "recipientIds": ["carol", "dave"],
                "data": {"payment": {"amount": 5}},
            },
            {"type": "PaymentReceived", "ticketId": ticket_id, "data": {"payment": {"amount": 7}}},
            {
                "type": "OTPRequested",
                "recipientIds": ["erin"],
                "data": {"otp": {"code": "1234", "expiresInMinutes": 5}},
            },
        ):
            r = await service.post("/api/v1/events", json=body)
            assert r.status_code == 202, r.text
            for d in r.json()["deliveries"]:
                if d["channel"] == "email":
                    assert d["status"] == "Pending", d
                    queued[(body["type"], d["recipientId"])] = d["emailLogId"]
        # After queuing, before any worker runs: carol unsubscribes, dave's address bounces, erin mutes.
        r = await mail.client("carol").put(
            "/api/v1/me/notification-preferences", json={"emailEvents": ["TicketCreated", "OTPRequested"]}
        )
        assert r.status_code == 200, r.text
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            await conn.execute(
                "INSERT INTO email_suppressions (email, reason) VALUES ('dave@example.com', 'Bounce')"
            )
        r = await mail.client("erin").patch(
            f"/api/v1/tickets/{ticket_id}/participants/me", json={"isMuted": True}
        )
        assert r.status_code == 200, r.text

        worker = background.build_worker(app.ctx, sink.url)
        worker.start()
        status = {key: await mail.wait_status(log_id, "Sent", "Failed") for key, log_id in queued.items()}
        assert {key: entry["status"] for key, entry in status.items()} == {
            ("PaymentReceived", "carol"): "Failed",
            ("PaymentReceived", "dave"): "Failed",
            ("PaymentReceived", "erin"): "Failed",
            ("PaymentReceived", "alice"): "Sent",
            ("PaymentReceived", "frank"): "Sent",
            ("OTPRequested", "erin"): "Sent",  # security mail ignores mutes
        }
        assert "switched these emails off" in status[("PaymentReceived", "carol")]["errorMessage"]
        assert "suppressed" in status[("PaymentReceived", "dave")]["errorMessage"]
        assert "muted" in status[("PaymentReceived", "erin")]["errorMessage"]
        assert status[("PaymentReceived", "carol")]["events"][-1]["type"] == "withdrawn"
        sent_to = sorted(m.rcpt_tos[0] for m in sink.messages if "payment" in m.header("Subject").lower())
        assert sent_to == ["alice@example.com", "frank@example.com"]
    finally:
        if worker is not None:
            await worker.stop()
        await mail.close()
        await app.stop()
