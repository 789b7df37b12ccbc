"""The sender: claims due emails from the outbox, composes and sends them `CONCURRENCY` at a time, and
hands each result to the outbox's group commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

from ticket_comms.catalogue import REDACTED, SECRET_VARIABLES, redact, secret_values
from ticket_comms.context import AppContext
from ticket_comms.email import outbox, templates
from ticket_comms.email.addresses import bounce_address_for
from ticket_comms.email.composer import Composer
from ticket_comms.email.outbox import OUTBOX_CHANNEL, WORKER_LOCK_CLASS, Result, result_writer
from ticket_comms.email.retry_policy import outcome, withdrawn_result
from ticket_comms.email.transports import OutgoingEmail, SendResult, Transport
from ticket_comms.errors import NotFound

log = logging.getLogger(__name__)

# Emails claimed and in progress at once (rendered, waiting for an SMTP session, or in one).
CONCURRENCY = 200
CLAIM_BATCH = 100
# Woken by a new email, wait this long for others to commit so they are claimed together.
CLAIM_GATHER_SECONDS = 0.005
NEXT_DUE_EVERY_SECONDS = 0.25
RECOVER_EVERY_SECONDS = 5.0
IDLE_POLL_SECONDS = 5.0


# Asked just before sending a batch: which claimed emails the recipient no longer wants (unsubscribed,
# muted, suppressed since the email was queued), by log id, with the reason. Given by the process that
# builds the worker (the rules are notifications').
Recheck = Callable[[AppContext, list[dict[str, Any]]], Coroutine[Any, Any, dict[UUID, str]]]


class EmailSender:
    """Claims due email logs and sends them, `CONCURRENCY` at a time."""

    def __init__(
        self,
        ctx: AppContext,
        transport: Transport,
        *,
        concurrency: int = CONCURRENCY,
        recheck: Recheck | None = None,
    ):
        self.ctx = ctx
        self.recheck = recheck
        self.settings = ctx.settings
        self.transport = transport
        self.concurrency = concurrency
        self.worker_id = random.randint(1, 2**31 - 1)
        self.writer = result_writer(ctx.db, self.worker_id)
        self.composer = Composer(ctx)
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
            due = await outbox.next_due(self.ctx.db)
            wait = IDLE_POLL_SECONDS if due is None else (due - datetime.now(UTC)).total_seconds()
            self._next_due = now + max(0.01, min(IDLE_POLL_SECONDS, wait))
        return max(0.01, min(self._next_due - now, NEXT_DUE_EVERY_SECONDS))

    async def _recover(self) -> None:
        await outbox.recover(self.ctx.db)

    async def _claim(self, limit: int) -> list[dict[str, Any]]:
        return await outbox.claim(self.ctx.db, self.worker_id, limit, templates.LAYOUT)

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
        if self.recheck is not None:
            withdrawn = await self.recheck(self.ctx, rows)
            if withdrawn:
                rows = [r for r in rows if r["id"] not in withdrawn]
                now = datetime.now(UTC)
                for log_id, reason in withdrawn.items():
                    task = asyncio.create_task(self.writer.put(withdrawn_result(log_id, reason, now)))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
        for row in rows:
            task = asyncio.create_task(self._send_one(row, by_name))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _send_one(self, row: dict[str, Any], by_name: dict[str, templates.Template]) -> None:
        subject: str | None = None
        # Secrets (a one-time code) go into the email but never into what is kept: the log's subject
        # is redacted now, the event's data once no attempt needs it any more.
        secrets = secret_values(row["event_type"], row["data"])
        try:
            rendered, unsubscribe = await self.composer.render(row, by_name)
            subject = redact(rendered.subject, secrets)
            raw = await self.composer.message(row, rendered, unsubscribe)
        except Exception as exc:
            reason = getattr(exc, "message", None) or f"{exc.__class__.__name__}: {exc}"
            if not isinstance(exc, templates.TemplateRenderFailed | templates.MissingVariables | NotFound):
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
                    {"type": "failed", "at": now.isoformat(), "detail": {"reason": redact(reason, secrets)}},
                    now,
                )
            )
            await self._forget_secrets(row, secrets)
            return
        try:
            result = await self.transport.send(
                OutgoingEmail(
                    str(row["id"]), bounce_address_for(self.settings, row["id"]), row["recipient_email"], raw
                )
            )
        except Exception as exc:
            # A transport bug must not strand the claimed row: record it as a transient failure.
            log.exception(
                "the transport failed unexpectedly", extra={"fields": {"emailLogId": str(row["id"])}}
            )
            result = SendResult(False, reply=f"{exc.__class__.__name__}: {exc}")
        done = outcome(self.settings, row, result, subject, datetime.now(UTC))
        await self.writer.put(done)
        if result.ok:
            self.sent += 1
        if done.status != "Pending":
            await self._forget_secrets(row, secrets)

    async def _forget_secrets(self, row: dict[str, Any], secrets: list[str]) -> None:
        if secrets:
            await outbox.redact_event(
                self.ctx.db, row["event_id"], SECRET_VARIABLES[row["event_type"]], REDACTED
            )
