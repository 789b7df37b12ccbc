"""What one send attempt's result means for its email: sent, failed for good, or tried again later.

Pure (no I/O), so every branch is unit-tested on its own (tests/email/test_retry_policy.py). Transient
failures (4xx, timeouts, refused connections) go back to `Pending` with exponential backoff
(EMAIL_RETRY_BASE_SECONDS doubling, capped at EMAIL_RETRY_MAX_SECONDS) until EMAIL_MAX_AGE_SECONDS
after the email was created; 5xx replies fail at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ticket_comms.email.outbox import Result
from ticket_comms.email.transports import SendResult


def retry_delay(settings: Any, attempts: int) -> float:
    return float(
        min(settings.email_retry_base_seconds * (2 ** max(0, attempts - 1)), settings.email_retry_max_seconds)
    )


def outcome(
    settings: Any, row: dict[str, Any], result: SendResult, subject: str | None, now: datetime
) -> Result:
    """What one attempt's result means for the log row."""
    if result.ok:
        return Result(
            row["id"],
            "Sent",
            subject,
            None,
            result.provider_message_id,
            None,
            {"type": "sent", "at": now.isoformat(), "detail": {"reply": result.reply}},
            now,
        )
    if result.permanent:
        return Result(
            row["id"],
            "Failed",
            subject,
            result.reply,
            None,
            None,
            {"type": "failed", "at": now.isoformat(), "detail": {"reply": result.reply}},
            now,
        )
    delay = retry_delay(settings, row["attempts"])
    retry_at = now + timedelta(seconds=delay)
    if retry_at - row["created_at"] > timedelta(seconds=settings.email_max_age_seconds):
        error = f"Gave up after {row['attempts']} attempts: {result.reply}"
        return Result(
            row["id"],
            "Failed",
            subject,
            error,
            None,
            None,
            {"type": "failed", "at": now.isoformat(), "detail": {"reply": result.reply, "gaveUp": True}},
            now,
        )
    return Result(
        row["id"],
        "Pending",
        subject,
        result.reply,
        None,
        retry_at,
        {
            "type": "deferred",
            "at": now.isoformat(),
            "detail": {"reply": result.reply, "retryAt": retry_at.isoformat()},
        },
        now,
    )


def withdrawn_result(log_id: UUID, reason: str, now: datetime) -> Result:
    """An email not sent because, since it was queued, its recipient stopped wanting it (`reason`)."""
    error = f"Not sent: {reason}."
    return Result(
        log_id,
        "Failed",
        None,
        error,
        None,
        None,
        {"type": "withdrawn", "at": now.isoformat(), "detail": {"reason": reason}},
        now,
    )
