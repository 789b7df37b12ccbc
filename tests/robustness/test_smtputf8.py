"""Non-ASCII email addresses: SMTPUTF8 where the relay offers it, a clear permanent failure where not.

Real aiosmtpd relays, one with SMTPUTF8 switched on and one without; the service sends through each.
An internationalized domain alone needs no SMTPUTF8: it travels in its ASCII (IDNA) form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings, start_app
from tests.email.support import MAIL_SETTINGS, Mail, Sink
from tests.email.test_transports import ses_server

__all__ = ["ses_server"]  # the moto SES fixture

OTP = {"otp": {"code": "112233", "expiresInMinutes": 5}}


@pytest.fixture(params=[True, False], ids=["relay-with-smtputf8", "relay-without"])
async def mail(request: Any, database_url: str, tmp_path: Path) -> AsyncIterator[Mail]:
    sink = Sink(smtp_options={"enable_SMTPUTF8": request.param})
    await sink.start()
    app = await start_app(make_settings(database_url, tmp_path, smtp_url=sink.url, **MAIL_SETTINGS))
    helper = Mail(app, sink)
    helper.smtputf8 = request.param  # type: ignore[attr-defined]
    yield helper
    await helper.close()
    await app.stop()
    await sink.stop()


async def _send(mail: Mail, user_id: str, email: str, name: str) -> str:
    r = await mail.service.put(f"/api/v1/users/{user_id}", json={"email": email, "name": name})
    assert r.status_code in (200, 201), r.text
    r = await mail.service.post(
        "/api/v1/events", json={"type": "OTPRequested", "recipientIds": [user_id], "data": OTP}
    )
    assert r.status_code == 202, r.text
    log_id: str = r.json()["deliveries"][0]["emailLogId"]
    return log_id


async def test_a_non_ascii_mailbox_uses_smtputf8_or_fails_permanently(mail: Mail) -> None:
    log_id = await _send(mail, "jorg", "jörg@bücher.example", "Jörg Ünal")
    if mail.smtputf8:  # type: ignore[attr-defined]
        entry = await mail.wait_status(log_id, "Sent")
        [caught] = await mail.sink.wait_for(1)
        # The domain in its IDNA form, the local part as UTF-8, under SMTPUTF8.
        assert caught.rcpt_tos == ["jörg@xn--bcher-kva.example"]
        assert "SMTPUTF8" in caught.mail_options
        assert caught.header("To") == "Jörg Ünal <jörg@xn--bcher-kva.example>"
        assert "112233" in caught.header("Subject")
    else:
        entry = await mail.wait_status(log_id, "Failed")
        # Permanent: one attempt, never retried, and the log says why in words an admin can act on.
        assert entry["attempts"] == 1
        assert entry["errorMessage"].startswith("553 5.6.7")
        assert "SMTPUTF8" in entry["errorMessage"]
        assert mail.sink.messages == []

    # An internationalized domain with an ASCII local part goes through either relay, as IDNA.
    log_id = await _send(mail, "ann", "ann@bücher.example", "Ann")
    await mail.wait_status(log_id, "Sent")
    caught = (await mail.sink.wait_for(1, predicate=lambda m: m.rcpt_tos[0].startswith("ann@")))[0]
    assert caught.rcpt_tos == ["ann@xn--bcher-kva.example"]
    assert "SMTPUTF8" not in caught.mail_options
    assert caught.header("To") == "Ann <ann@xn--bcher-kva.example>"


async def test_ses_refuses_a_non_ascii_local_part_permanently(
    database_url: str, tmp_path: Path, ses_server: Any
) -> None:
    app = await start_app(make_settings(database_url, tmp_path, **{**MAIL_SETTINGS, "email_provider": "ses"}))
    mail = Mail(app, Sink())
    try:
        ses_server.create_email_identity(EmailIdentity="tickets.test")
        entry = await mail.wait_status(await _send(mail, "jorg", "jörg@example.com", "Jörg"), "Failed")
        assert entry["attempts"] == 1 and entry["errorMessage"].startswith("553 5.6.7")
        assert "SMTPUTF8" in entry["errorMessage"]
        # An internationalized domain alone is fine: SES gets it as IDNA.
        entry = await mail.wait_status(await _send(mail, "ann", "ann@bücher.example", "Ann"), "Sent")
        assert entry["attempts"] == 1
    finally:
        # The moto server is shared: leave it as found (tests/email/test_transports.py needs no identity).
        ses_server.delete_email_identity(EmailIdentity="tickets.test")
        await mail.close()
        await app.stop()
