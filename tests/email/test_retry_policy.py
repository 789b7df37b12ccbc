"""What one send attempt's result means (retry_policy.outcome): sent, failed for good, or retried with
exponential backoff until the email is too old. Pure, so tested without a database or a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import uuid4

from ticket_comms.email.retry_policy import outcome, retry_delay
from ticket_comms.email.transports import SendResult

SETTINGS = SimpleNamespace(
    email_retry_base_seconds=30, email_retry_max_seconds=600, email_max_age_seconds=3600
)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def row(attempts: int = 1, age_seconds: float = 0) -> dict:
    return {"id": uuid4(), "attempts": attempts, "created_at": NOW - timedelta(seconds=age_seconds)}


def test_backoff_doubles_from_the_base_and_stops_at_the_cap():
    assert [retry_delay(SETTINGS, n) for n in (0, 1, 2, 3, 4, 5, 6)] == [30, 30, 60, 120, 240, 480, 600]


def test_a_sent_email_records_the_reply_and_the_provider_id():
    r = outcome(SETTINGS, row(), SendResult(True, reply="250 ok", provider_message_id="p-1"), "Hi", NOW)
    assert (r.status, r.subject, r.error, r.provider_id, r.next_at) == ("Sent", "Hi", None, "p-1", None)
    assert r.event == {"type": "sent", "at": NOW.isoformat(), "detail": {"reply": "250 ok"}}


def test_a_permanent_failure_fails_at_once():
    r = outcome(SETTINGS, row(), SendResult(False, permanent=True, reply="550 no such user"), None, NOW)
    assert (r.status, r.error, r.next_at) == ("Failed", "550 no such user", None)
    assert r.event["type"] == "failed"


def test_a_transient_failure_is_retried_after_the_backoff():
    r = outcome(SETTINGS, row(attempts=3), SendResult(False, reply="451 try later"), "Hi", NOW)
    assert r.status == "Pending"
    assert r.next_at == NOW + timedelta(seconds=120)
    assert r.event == {
        "type": "deferred",
        "at": NOW.isoformat(),
        "detail": {"reply": "451 try later", "retryAt": (NOW + timedelta(seconds=120)).isoformat()},
    }


def test_a_transient_failure_past_the_maximum_age_gives_up():
    r = outcome(SETTINGS, row(attempts=7, age_seconds=3500), SendResult(False, reply="451 later"), None, NOW)
    assert r.status == "Failed"
    assert r.error == "Gave up after 7 attempts: 451 later"
    assert r.event["detail"] == {"reply": "451 later", "gaveUp": True}
