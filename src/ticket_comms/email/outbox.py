"""The email outbox: the `Pending` email log rows are the queue. Queue (in the event's statement), claim,
take back the claims of dead workers, and record results by group commit.

- The rows are written in the event's transaction (`queue_emails_cte`, part of notifications' one
  statement), claimed in batches (`FOR UPDATE SKIP LOCKED`, so several workers share the work) and
  marked with the claiming worker's id. A job queue with one job per email (procrastinate) measured
  about 340 no-op jobs/s on this machine, below the 500 emails/s target before any real work; a batch
  claim costs one statement for up to 100 emails.
- A claim is owned by a worker that holds a session advisory lock on its id. When the worker dies
  (even SIGKILL), PostgreSQL drops its session and the lock; any worker then sees the claim as orphaned
  and takes the email again, with the Message-ID stored at enqueue. So only an email whose SMTP
  transaction was in flight at the crash can be sent twice, and then as the same message.
- Results are written by a group commit: an email's result is persisted before its send counts as
  done, and results that finish while a write is in progress go together in the next write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from ticket_comms.claim_loop import recover_statement
from ticket_comms.database import Database
from ticket_comms.group_commit import GroupCommit

log = logging.getLogger(__name__)

# The channel a committed event NOTIFYs and workers LISTEN on: new email is waiting.
OUTBOX_CHANNEL = "email_outbox"
# Session advisory locks taken by workers: (WORKER_LOCK_CLASS, worker id).
WORKER_LOCK_CLASS = 726_100_431
# A result write waits this long for others to join it (group commit), when few are waiting.


def queue_emails_cte(event_cte: str) -> str:
    """The body of a CTE that queues one `Pending` email per recipient of the event CTE `event_cte`
    (columns `id`), in the event's own statement. Parameters: `type` (the template), `l_ids`,
    `l_users`, `l_emails`, `l_names`, `l_message_ids` (arrays, one element per email)."""
    return f"""
    INSERT INTO email_logs (id, event_id, template_name, recipient_id, recipient_email, recipient_name,
                            message_id, events)
    SELECT x.id, {event_cte}.id, %(type)s, x.user_id, x.email, x.name, x.message_id,
           jsonb_build_array(jsonb_build_object('type', 'queued', 'at', now(), 'detail', '{{}}'::jsonb))
    FROM {event_cte}, unnest(%(l_ids)s::uuid[], %(l_users)s::text[], %(l_emails)s::text[], %(l_names)s::text[],
                   %(l_message_ids)s::text[]) AS x(id, user_id, email, name, message_id)
    RETURNING id
    """


CLAIM = """
WITH due AS (
    SELECT id FROM email_logs
    WHERE status = 'Pending' AND claimed_by IS NULL AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE email_logs l
    SET claimed_by = %(worker)s, attempts = l.attempts + 1, updated_at = now(),
        events = l.events || jsonb_build_array(jsonb_build_object(
            'type', 'attempt', 'at', now(), 'detail', jsonb_build_object('attempt', l.attempts + 1)))
    FROM due, events e
    WHERE l.id = due.id AND e.id = l.event_id
    RETURNING l.id, l.event_id, l.template_name, l.recipient_id, l.recipient_email, l.recipient_name, l.message_id,
              l.attempts, l.created_at, e.type AS event_type, e.ticket_id, e.data
)
-- The current version of each template (and the layout), so unchanged ones are not read again.
SELECT c.*, t.updated_at AS template_version, lt.updated_at AS layout_version
FROM claimed c
LEFT JOIN email_templates t ON t.name = c.template_name
LEFT JOIN email_templates lt ON lt.name = %(layout)s
"""

# Claims held by workers whose session (and so advisory lock) is gone.
RECOVER = recover_statement("email_logs")

NEXT_DUE = "SELECT min(next_attempt_at) AS at FROM email_logs WHERE status = 'Pending' AND claimed_by IS NULL"

WRITE_RESULTS = """
UPDATE email_logs l
SET status = r.status, claimed_by = NULL, updated_at = now(),
    subject = coalesce(r.subject, l.subject),
    sent_at = CASE WHEN r.status = 'Sent' THEN r.at ELSE l.sent_at END,
    error_message = r.error,
    provider_message_id = coalesce(r.provider_id, l.provider_message_id),
    next_attempt_at = coalesce(r.next_at, l.next_attempt_at),
    events = l.events || jsonb_build_array(r.event)
FROM jsonb_to_recordset(%(results)s::jsonb)
     AS r(id uuid, status text, subject text, error text, provider_id text, next_at timestamptz, event jsonb,
          at timestamptz)
WHERE l.id = r.id AND l.claimed_by = %(worker)s
"""


@dataclass(slots=True)
class Result:
    log_id: UUID
    status: str
    subject: str | None
    error: str | None
    provider_id: str | None
    next_at: datetime | None
    event: dict[str, Any]
    at: datetime


def result_writer(db: Database, worker_id: int) -> GroupCommit[Result]:
    """The group commit of one worker's results (ticket_comms/group_commit.py)."""

    async def write(results: list[Result]) -> None:
        # One JSON document (orjson) rather than eight typed arrays: far less work per row on our side.
        document = orjson.dumps(
            [
                {
                    "id": r.log_id,
                    "status": r.status,
                    "subject": r.subject,
                    "error": r.error,
                    "provider_id": r.provider_id,
                    "next_at": r.next_at,
                    "event": r.event,
                    "at": r.at,
                }
                for r in results
            ]
        ).decode()
        async with db.connection() as conn:
            await conn.execute(WRITE_RESULTS, {"results": document, "worker": worker_id})

    return GroupCommit(write, "email results")


# The event's secret variables, replaced once no email of the event still needs them (none is Pending).
REDACT_EVENT = """
UPDATE events e SET data = jsonb_set(e.data, %(path)s::text[], to_jsonb(%(redacted)s::text))
WHERE e.id = %(event_id)s AND e.data #> %(path)s::text[] IS NOT NULL
  AND e.data #>> %(path)s::text[] IS DISTINCT FROM %(redacted)s
  AND NOT EXISTS (SELECT 1 FROM email_logs l WHERE l.event_id = e.id AND l.status = 'Pending')
"""


async def redact_event(db: Database, event_id: UUID, names: tuple[str, ...], redacted: str) -> None:
    """Replace the event's secret variables (dotted names) once its emails are done with them."""
    async with db.connection() as conn:
        for name in names:
            await conn.execute(
                REDACT_EVENT, {"event_id": event_id, "path": name.split("."), "redacted": redacted}
            )


async def claim(db: Database, worker_id: int, limit: int, layout: str) -> list[dict[str, Any]]:
    """Up to `limit` due emails, now claimed by `worker_id`, with their event and template versions."""
    return await db.fetch_all(CLAIM, {"limit": limit, "worker": worker_id, "layout": layout})


async def recover(db: Database) -> int:
    """Put back the claims of workers whose session is gone; how many."""
    rows = await db.fetch_all(RECOVER, {"cls": WORKER_LOCK_CLASS})
    if rows:
        log.warning(
            "took back emails claimed by a worker that stopped", extra={"fields": {"count": len(rows)}}
        )
    return len(rows)


async def next_due(db: Database) -> datetime | None:
    """When the earliest unclaimed `Pending` email falls due (None: nothing waits)."""
    row = await db.fetch_one(NEXT_DUE)
    return row["at"] if row else None
