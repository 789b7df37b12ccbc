"""The email worker: drains `Pending` email logs, renders and sends them, records every attempt; and
sends the chat-message digests that fall due.

Why it is built this way (docs/architecture.md has the measurements):
- The email log rows ARE the outbox: written in the event's transaction, claimed here in batches
  (`FOR UPDATE SKIP LOCKED`, so several workers share the work) and marked with the claiming worker's
  id. A job queue with one job per email (procrastinate) measured about 340 no-op jobs/s on this
  machine, below the 500 emails/s target before any real work; a batch claim costs one statement for
  up to 100 emails.
- Digests need no job either: the `message_digests` row written with the chat message says when one
  is due, and the sweeper here sends it then (a job per digest serialised chat sends on the job
  queue's NOTIFY lock).
- A claim is owned by a worker that holds a session advisory lock on its id. When the worker dies
  (even SIGKILL), PostgreSQL drops its session and the lock; any worker then sees the claim as orphaned
  and takes the email again, with the Message-ID stored at enqueue. So only an email whose SMTP
  transaction was in flight at the crash can be sent twice, and then as the same message.
- Results are written by a group commit: an email's result is persisted before its send counts as
  done, and results that finish while a write is in progress go together in the next write.
- Transient failures (4xx, timeouts, refused connections) go back to `Pending` with exponential
  backoff (EMAIL_RETRY_BASE_SECONDS doubling, capped at EMAIL_RETRY_MAX_SECONDS) until
  EMAIL_MAX_AGE_SECONDS; 5xx replies fail at once. Every attempt lands in the log's `events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
import psycopg

from ticket_comms.context import AppContext
from ticket_comms.database import Database
from ticket_comms.email import builtin, templates
from ticket_comms.email.service import (
    bounce_address,
    build_message,
    build_signer,
    preferences_url,
    ticket_url,
    unsubscribe_url,
)
from ticket_comms.email.transports import OutgoingEmail, SendResult, Transport, build_transport
from ticket_comms.notifications.catalogue import ALWAYS_EMAILED

log = logging.getLogger(__name__)

# Session advisory locks taken by workers: (WORKER_LOCK_CLASS, worker id).
WORKER_LOCK_CLASS = 726_100_431
OUTBOX_CHANNEL = "email_outbox"
# Emails claimed and in progress at once (rendered, waiting for an SMTP session, or in one).
CONCURRENCY = 200
CLAIM_BATCH = 100
# A result write waits this long for others to join it (group commit), when few are waiting.
FLUSH_GATHER_SECONDS = 0.004
# Woken by a new email, wait this long for others to commit so they are claimed together.
CLAIM_GATHER_SECONDS = 0.005
NEXT_DUE_EVERY_SECONDS = 0.25
RECOVER_EVERY_SECONDS = 5.0
IDLE_POLL_SECONDS = 5.0
RESULT_BATCH = 500

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
    RETURNING l.id, l.template_name, l.recipient_id, l.recipient_email, l.recipient_name, l.message_id,
              l.attempts, l.created_at, e.type AS event_type, e.ticket_id, e.data
)
-- The current version of each template (and the layout), so unchanged ones are not read again.
SELECT c.*, t.updated_at AS template_version, lt.updated_at AS layout_version
FROM claimed c
LEFT JOIN email_templates t ON t.name = c.template_name
LEFT JOIN email_templates lt ON lt.name = %(layout)s
"""

# Claims held by workers whose session (and so advisory lock) is gone.
RECOVER = """
UPDATE email_logs
SET claimed_by = NULL, updated_at = now(),
    events = events || jsonb_build_array(jsonb_build_object(
        'type', 'recovered', 'at', now(), 'detail', jsonb_build_object('worker', claimed_by)))
WHERE claimed_by IS NOT NULL AND claimed_by <> ALL (
    SELECT k.objid::bigint FROM pg_locks k
    WHERE k.locktype = 'advisory' AND k.classid = %(cls)s AND k.objsubid = 2 AND k.granted
      AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
RETURNING id
"""

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


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


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


class ResultWriter:
    """Group commit: results that arrive while a write is running go together in the next one."""

    def __init__(self, db: Database, worker_id: int):
        self.db = db
        self.worker_id = worker_id
        self._pending: list[tuple[Result, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def put(self, result: Result) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((result, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            if len(self._pending) < RESULT_BATCH // 10:
                await asyncio.sleep(FLUSH_GATHER_SECONDS)
            batch, self._pending = self._pending[:RESULT_BATCH], self._pending[RESULT_BATCH:]
            results = [r for r, _ in batch]
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
            params = {"results": document, "worker": self.worker_id}
            while True:
                try:
                    async with self.db.connection() as conn:
                        await conn.execute(WRITE_RESULTS, params)
                    break
                except Exception as exc:
                    # The rows stay claimed by us, so nobody else sends them while we wait for the database.
                    log.warning(
                        "could not record email results; retrying", extra={"fields": {"error": str(exc)}}
                    )
                    await asyncio.sleep(1)
            for _, future in batch:
                if not future.done():
                    future.set_result(None)


class EmailSender:
    """Claims due email logs and sends them, `CONCURRENCY` at a time."""

    def __init__(self, ctx: AppContext, transport: Transport, *, concurrency: int = CONCURRENCY):
        self.ctx = ctx
        self.settings = ctx.settings
        self.transport = transport
        self.concurrency = concurrency
        self.worker_id = random.randint(1, 2**31 - 1)
        self.writer = ResultWriter(ctx.db, self.worker_id)
        self.signer = build_signer(ctx.settings)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._lock_conn: psycopg.AsyncConnection[Any] | None = None
        self._templates: dict[str, templates.Template] = {}
        self._next_due_at = 0.0
        self._next_due: float = IDLE_POLL_SECONDS
        self.sent = 0

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        self._lock_conn = await psycopg.AsyncConnection.connect(self.ctx.db.url, autocommit=True)
        listener: asyncio.Task[None] | None = None
        try:
            await self._lock_conn.execute(
                "SELECT pg_advisory_lock(%s, %s)", (WORKER_LOCK_CLASS, self.worker_id)
            )
            await self._lock_conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
            listener = asyncio.create_task(self._listen(self._lock_conn))
            log.info("email worker started", extra={"fields": {"worker": self.worker_id}})
            await self._loop(listener)
        finally:
            if self._inflight:
                await asyncio.wait(self._inflight, timeout=30)
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._lock_conn.close()

    async def _listen(self, conn: psycopg.AsyncConnection[Any]) -> None:
        async for _ in conn.notifies():
            self._wake.set()

    async def _loop(self, listener: asyncio.Task[None]) -> None:
        last_recover = 0.0
        while not self._stopping.is_set():
            if listener.done():
                # The lock session is gone: our claims may be taken by others now, so stop claiming.
                raise RuntimeError("the email worker lost its database session") from listener.exception()
            now = time.monotonic()
            if now - last_recover > RECOVER_EVERY_SECONDS:
                last_recover = now
                await self._recover()
            free = self.concurrency - len(self._inflight)
            full = False
            rows: list[dict[str, Any]] = []
            if free > 0:
                self._wake.clear()
                rows = await self._claim(min(free, CLAIM_BATCH))
                if rows:
                    await self._start(rows)
                full = len(rows) == min(free, CLAIM_BATCH)
            if full or free <= 0:
                # More work is waiting: claim again once a whole batch fits.
                while len(self._inflight) > self.concurrency - CLAIM_BATCH and not self._stopping.is_set():
                    await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            timeout = await self._idle_timeout(checked=not rows)
            waiters = [asyncio.ensure_future(self._wake.wait()), listener]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            waiters[0].cancel()
            if self._wake.is_set():
                await asyncio.sleep(CLAIM_GATHER_SECONDS)

    async def _idle_timeout(self, checked: bool) -> float:
        """How long to sleep when idle: until the next retry falls due (looked up at most every
        NEXT_DUE_EVERY_SECONDS while emails keep arriving), at most IDLE_POLL_SECONDS."""
        now = time.monotonic()
        if checked or now - self._next_due_at > NEXT_DUE_EVERY_SECONDS:
            self._next_due_at = now
            row = await self.ctx.db.fetch_one(NEXT_DUE)
            due = row["at"] if row else None
            wait = IDLE_POLL_SECONDS if due is None else (due - datetime.now(UTC)).total_seconds()
            self._next_due = now + max(0.01, min(IDLE_POLL_SECONDS, wait))
        return max(0.01, min(self._next_due - now, NEXT_DUE_EVERY_SECONDS))

    async def _recover(self) -> None:
        rows = await self.ctx.db.fetch_all(RECOVER, {"cls": WORKER_LOCK_CLASS})
        if rows:
            log.warning(
                "took back emails claimed by a worker that stopped", extra={"fields": {"count": len(rows)}}
            )

    async def _claim(self, limit: int) -> list[dict[str, Any]]:
        return await self.ctx.db.fetch_all(
            CLAIM, {"limit": limit, "worker": self.worker_id, "layout": templates.LAYOUT}
        )

    async def _start(self, rows: list[dict[str, Any]]) -> None:
        versions = {r["template_name"]: r["template_version"] for r in rows}
        versions[templates.LAYOUT] = rows[0]["layout_version"]
        stale = sorted(
            name
            for name, version in versions.items()
            if version is not None
            and (name not in self._templates or self._templates[name].updated_at != version)
        )
        if stale:
            loaded = await self.ctx.db.fetch_all(
                "SELECT * FROM email_templates WHERE name = ANY(%s)", (stale,)
            )
            for r in loaded:
                self._templates[r["name"]] = templates.Template.from_row(r)
        by_name = {
            name: self._templates[name]
            for name, v in versions.items()
            if v is not None and name in self._templates
        }
        for row in rows:
            task = asyncio.create_task(self._send_one(row, by_name))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    def context_for(self, row: dict[str, Any]) -> dict[str, Any]:
        settings = self.settings
        data = dict(row["data"] or {})
        links: dict[str, Any] = {"preferences": preferences_url(settings)}
        if row["ticket_id"] is not None:
            links["ticket"] = ticket_url(settings, row["ticket_id"])
        if row["event_type"] not in ALWAYS_EMAILED and row["recipient_id"]:
            links["unsubscribe"] = unsubscribe_url(settings, row["recipient_id"], row["event_type"])
        given_links: dict[str, Any] = data["links"] if isinstance(data.get("links"), dict) else {}
        data["links"] = {**given_links, **links}
        data["recipient"] = {
            "name": row["recipient_name"] or row["recipient_email"],
            "email": row["recipient_email"],
        }
        # Ours, whatever the event's data says: links and names in our emails come from our configuration.
        data["app"] = {"name": settings.app_name, "url": settings.base_url}
        return data

    async def _send_one(self, row: dict[str, Any], by_name: dict[str, templates.Template]) -> None:
        subject: str | None = None
        try:
            template = by_name.get(row["template_name"])
            if template is None:
                raise templates.TemplateRenderFailed(
                    f"There is no email template named {row['template_name']!r}."
                )
            if not template.is_active:
                raise templates.TemplateRenderFailed(f"The {template.name} template is switched off.")
            context = self.context_for(row)
            rendered = await templates.render_template(
                self.ctx, template, by_name.get(templates.LAYOUT), context
            )
            subject = rendered.subject
            raw = build_message(
                self.settings,
                message_id=row["message_id"],
                to_email=row["recipient_email"],
                to_name=row["recipient_name"],
                subject=rendered.subject,
                html=rendered.html,
                text=rendered.text,
                unsubscribe=context["links"].get("unsubscribe"),
                log_id=str(row["id"]),
            )
            if self.signer is not None:
                # RSA signing takes about a millisecond: off the event loop.
                raw = await asyncio.get_running_loop().run_in_executor(None, self.signer.sign, raw)
        except Exception as exc:
            reason = getattr(exc, "message", None) or f"{exc.__class__.__name__}: {exc}"
            if not isinstance(
                exc, templates.TemplateRenderFailed | templates.MissingVariables | templates.NotFound
            ):
                log.exception("could not compose an email", extra={"fields": {"emailLogId": str(row["id"])}})
            now = datetime.now(UTC)
            await self.writer.put(
                Result(
                    row["id"],
                    "Failed",
                    subject,
                    f"Could not compose the email: {reason}",
                    None,
                    None,
                    {"type": "failed", "at": now.isoformat(), "detail": {"reason": reason}},
                    now,
                )
            )
            return
        try:
            result = await self.transport.send(
                OutgoingEmail(str(row["id"]), bounce_address(self.settings), row["recipient_email"], raw)
            )
        except Exception as exc:
            # A transport bug must not strand the claimed row: record it as a transient failure.
            log.exception(
                "the transport failed unexpectedly", extra={"fields": {"emailLogId": str(row["id"])}}
            )
            result = SendResult(False, reply=f"{exc.__class__.__name__}: {exc}")
        await self.writer.put(outcome(self.settings, row, result, subject, datetime.now(UTC)))
        if result.ok:
            self.sent += 1


# ---------------------------------------------------------------------------------------------
# Running it: in-process (serve with WORKER=inline) or alone (`ticket-comms worker`)


class Worker:
    """The email sender plus the digest sweeper, supervised: restarted if they fail."""

    def __init__(self, ctx: AppContext, transport: Transport):
        self.ctx = ctx
        self.transport = transport
        self.sender: EmailSender | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="email-worker")

    async def _supervise(self) -> None:
        while not self._stopping:
            self.sender = EmailSender(self.ctx, self.transport)
            digests = asyncio.create_task(self._run_digests(), name="digest-sweeper")
            try:
                await self.sender.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("email worker failed; restarting in 2 s")
                await asyncio.sleep(2)
            finally:
                digests.cancel()
                await asyncio.gather(digests, return_exceptions=True)

    async def _run_digests(self) -> None:
        """Sweep due chat-message digests. Their rows are written with the message, so nothing is lost
        if a process dies; a sweep every fraction of MESSAGE_EMAIL_DELAY_SECONDS keeps them on time."""
        from ticket_comms.notifications import service as notifications

        interval = max(0.2, min(2.0, self.ctx.settings.message_email_delay_seconds / 4))
        while True:
            try:
                while await notifications.run_due_digests(self.ctx) > 0:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("digest sweep failed")
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        self._stopping = True
        if self.sender is not None:
            self.sender.stop()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=35)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.transport.close()


def relay_for(ctx: AppContext) -> str | None:
    mailbox = getattr(ctx, "dev_mailbox", None)
    if ctx.settings.smtp_url:
        return ctx.settings.smtp_url
    if mailbox is not None:
        return mailbox.url
    from ticket_comms.email.mailbox import relay_url

    return relay_url(ctx.settings)


async def start_inline(ctx: AppContext) -> Worker | None:
    """The worker inside `serve` (WORKER=inline)."""
    if ctx.settings.worker != "inline":
        return None
    worker = Worker(ctx, build_transport(ctx.settings, relay_for(ctx)))
    worker.start()
    return worker


async def _standalone(settings: Any) -> int:
    import socketio

    from ticket_comms.attachments.storage import build_storage
    from ticket_comms.auth.service import Users
    from ticket_comms.auth.tokens import TokenVerifier
    from ticket_comms.database import release_embedded_postgres, resolve_database_url
    from ticket_comms.realtime.broadcast import Broadcaster

    url = await asyncio.to_thread(resolve_database_url, settings)
    db = Database(url, max_size=max(4, min(settings.database_pool_size, 10)))
    await db.open()
    # In-app notifications raised here (digests) reach sockets through Redis when serve uses it.
    manager = socketio.AsyncRedisManager(settings.redis_url, write_only=True) if settings.redis_url else None
    sio = socketio.AsyncServer(client_manager=manager) if manager else socketio.AsyncServer()
    ctx = AppContext(
        settings=settings,
        db=db,
        verifier=TokenVerifier(settings),
        users=Users(db),
        broadcast=Broadcaster(sio),
        storage=build_storage(settings),
    )
    relay = relay_for(ctx)
    if settings.email_provider.lower() != "ses" and not relay:
        log.error("no SMTP relay: set SMTP_URL (or start `serve` with SMTP_URL unset for the dev mailbox)")
        await db.close()
        await asyncio.to_thread(release_embedded_postgres)
        return 2
    worker = Worker(ctx, build_transport(settings, relay))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker.start()
    log.info("ticket-comms worker running")
    try:
        await stop.wait()
        await worker.stop()
    finally:
        await db.close()
        # Detach from the embedded PostgreSQL (when DATABASE_URL is unset); the last process stops it.
        await asyncio.to_thread(release_embedded_postgres)
    return 0


def run(settings: Any) -> int:
    """`ticket-comms worker`."""
    try:
        import uvloop

        return uvloop.run(_standalone(settings))
    except ImportError:
        return asyncio.run(_standalone(settings))


__all__ = ["EmailSender", "Worker", "builtin", "run", "start_inline"]
