"""Sending pushes: drains the push outbox (encrypts, signs and POSTs each push, records every attempt)
and sends the chat-message pushes that fall due.

The discipline is the email worker's (email/worker.py), for the same reasons:
- The outbox rows are claimed in batches (`FOR UPDATE SKIP LOCKED`, so several workers share) and marked
  with the claiming worker's id; the worker holds a session advisory lock on that id. A worker that dies
  (SIGKILL included) loses its session and lock, and any worker puts its claims back within
  RECOVER_EVERY_SECONDS. So only pushes whose HTTP request was in flight at the crash can be sent twice.
- Results are written by a group commit before a push counts as done.
- 429/5xx/timeouts are retried with exponential backoff (PUSH_RETRY_BASE_SECONDS doubling, capped at
  PUSH_RETRY_MAX_SECONDS), or after the push service's `Retry-After`; never past the push's TTL.
  404/410 remove the subscription; other 4xx fail at once.
Specific to push: a slow or hanging push service must not stall the others. Requests time out, at most
PER_ORIGIN_SENDING requests go to one push service at once (over its own connection pool), and an
origin with PER_ORIGIN_IN_HAND pushes in hand is left out of the next claims, so the other push
services always keep most of the slots.

Longer than 400 lines because claiming, sending, retrying and recovering share one worker state
(the claim id, the per-origin slots); it mirrors email/outbox + email/sender and should be split the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import psycopg

from ticket_comms.config import Settings
from ticket_comms.database import Database
from ticket_comms.group_commit import GroupCommit
from ticket_comms.observability import Metrics
from ticket_comms.push import delivery
from ticket_comms.push.outbox import OUTBOX_CHANNEL
from ticket_comms.push.outcomes import Result, result_for, write_results
from ticket_comms.push.vapid import VapidSigner

log = logging.getLogger(__name__)

# Session advisory locks taken by push workers: (WORKER_LOCK_CLASS, worker id). Not the email
# workers' class, so the two recover only their own claims.
WORKER_LOCK_CLASS = 726_100_432
# Pushes in hand at once (claimed: encrypting, waiting for their origin's slot, or in an HTTP request).
CONCURRENCY = 400
# HTTP requests in flight to one push service, each on its own keep-alive connection. 64 connections
# carry 500 pushes/s to a push service answering within 120 ms (32 left bench/push_throughput.py
# waiting on answers from its loaded local endpoint).
PER_ORIGIN_SENDING = 64
# Each connection is an httpx client (pool) of its own, and a request takes an idle one: httpcore's pool
# checks every connection it holds (an extra-info lookup and a poll each) whenever a request starts or
# ends, so its CPU cost per request grows with the pool. In bench/push_throughput.py one pool of 400
# connections cost milliseconds per push; 4 pools of 8 used in turn 2.2-2.3 s of worker CPU per 1,000
# pushes, one idle client per request 1.8-1.9 s.
# Pushes in hand for one push service; one with this many is left out of the next claims, so a slow or
# hanging push service holds at most this many (plus one claim batch) of the CONCURRENCY slots.
PER_ORIGIN_IN_HAND = 150
CLAIM_BATCH = 100
CLAIM_GATHER_SECONDS = 0.005
NEXT_DUE_EVERY_SECONDS = 0.25
RECOVER_EVERY_SECONDS = 5.0
IDLE_POLL_SECONDS = 5.0

CLAIM = """
WITH due AS (
    SELECT o.id, s.endpoint, s.origin, s.p256dh, s.auth
    FROM push_outbox o
    LEFT JOIN push_subscriptions s ON s.id = o.subscription_id
    WHERE o.status = 'Pending' AND o.claimed_by IS NULL AND o.next_attempt_at <= now()
      AND (s.origin IS NULL OR s.origin <> ALL(%(busy)s::text[]))
    ORDER BY o.next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE push_outbox o
SET claimed_by = %(worker)s, attempts = o.attempts + 1, updated_at = now(),
    events = o.events || jsonb_build_array(jsonb_build_object(
        'type', 'attempt', 'at', now(), 'detail', jsonb_build_object('attempt', o.attempts + 1)))
FROM due
WHERE o.id = due.id
RETURNING o.id, o.subscription_id, o.payload, o.topic, o.urgency, o.ttl, o.attempts, o.created_at,
          due.endpoint, due.origin, due.p256dh, due.auth
"""

# Claims held by workers whose session (and so advisory lock) is gone.
RECOVER = """
UPDATE push_outbox
SET claimed_by = NULL, updated_at = now(),
    events = events || jsonb_build_array(jsonb_build_object(
        'type', 'recovered', 'at', now(), 'detail', jsonb_build_object('worker', claimed_by)))
WHERE claimed_by IS NOT NULL AND claimed_by <> ALL (
    SELECT k.objid::bigint FROM pg_locks k
    WHERE k.locktype = 'advisory' AND k.classid = %(cls)s AND k.objsubid = 2 AND k.granted
      AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
RETURNING id
"""

NEXT_DUE = (
    "SELECT min(next_attempt_at) AS at FROM push_outbox WHERE status = 'Pending' AND claimed_by IS NULL"
)


class PushSender:
    """Claims due pushes and sends them: CONCURRENCY in hand, PER_ORIGIN_SENDING per push service."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        signer: VapidSigner,
        clients: dict[str, list[httpx.AsyncClient]],
        metrics: Metrics | None = None,
        *,
        concurrency: int = CONCURRENCY,
    ):
        self.settings = settings
        self.db = db
        self.signer = signer
        # One client (connection pool) per push-service origin, kept across restarts by the Worker.
        self.clients = clients
        self.metrics = metrics
        self.concurrency = concurrency
        self.worker_id = random.randint(1, 2**31 - 1)
        self.writer = GroupCommit(self._write_results, "push results")
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._in_hand: Counter[str] = Counter()
        self._slots: dict[str, asyncio.Semaphore] = {}
        # Per origin, its clients not in a request; the origin's slot guarantees one is there.
        self._idle: dict[str, list[httpx.AsyncClient]] = {}
        self._next_due_at = 0.0
        self._next_due: float = IDLE_POLL_SECONDS
        self.sent = 0

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        lock_conn = await psycopg.AsyncConnection.connect(self.db.url, autocommit=True)
        listener: asyncio.Task[None] | None = None
        try:
            await lock_conn.execute("SELECT pg_advisory_lock(%s, %s)", (WORKER_LOCK_CLASS, self.worker_id))
            await lock_conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
            listener = asyncio.create_task(self._listen(lock_conn))
            log.info("push worker started", extra={"fields": {"worker": self.worker_id}})
            await self._loop(listener)
        finally:
            if self._inflight:
                await asyncio.wait(self._inflight, timeout=self.settings.push_timeout_seconds + 5)
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            with contextlib.suppress(Exception):
                await lock_conn.close()

    async def _listen(self, conn: psycopg.AsyncConnection[Any]) -> None:
        async for _ in conn.notifies():
            self._wake.set()

    async def _loop(self, listener: asyncio.Task[None]) -> None:
        last_recover = 0.0
        while not self._stopping.is_set():
            if listener.done():
                # The lock session is gone: our claims may be taken by others now, so stop claiming.
                raise RuntimeError("the push worker lost its database session") from listener.exception()
            now = time.monotonic()
            if now - last_recover > RECOVER_EVERY_SECONDS:
                last_recover = now
                await self._recover()
            free = self.concurrency - len(self._inflight)
            rows: list[dict[str, Any]] = []
            full = False
            if free > 0:
                self._wake.clear()
                limit = min(free, CLAIM_BATCH)
                rows = await self._claim(limit)
                for row in rows:
                    self._start(row)
                full = len(rows) == limit
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
        now = time.monotonic()
        if checked or now - self._next_due_at > NEXT_DUE_EVERY_SECONDS:
            self._next_due_at = now
            row = await self.db.fetch_one(NEXT_DUE)
            due = row["at"] if row else None
            wait = IDLE_POLL_SECONDS if due is None else (due - datetime.now(UTC)).total_seconds()
            self._next_due = now + max(0.01, min(IDLE_POLL_SECONDS, wait))
        return max(0.01, min(self._next_due - now, NEXT_DUE_EVERY_SECONDS))

    async def _recover(self) -> None:
        rows = await self.db.fetch_all(RECOVER, {"cls": WORKER_LOCK_CLASS})
        if rows:
            log.warning(
                "took back pushes claimed by a worker that stopped", extra={"fields": {"count": len(rows)}}
            )
            self._wake.set()

    async def _claim(self, limit: int) -> list[dict[str, Any]]:
        busy = [origin for origin, n in self._in_hand.items() if n >= PER_ORIGIN_IN_HAND]
        return await self.db.fetch_all(CLAIM, {"limit": limit, "worker": self.worker_id, "busy": busy})

    def _start(self, row: dict[str, Any]) -> None:
        origin = row["origin"] or ""
        self._in_hand[origin] += 1
        task = asyncio.create_task(self._send_one(row))
        self._inflight.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._inflight.discard(t)
            self._in_hand[origin] -= 1
            if self._in_hand[origin] <= 0:
                del self._in_hand[origin]

        task.add_done_callback(done)

    async def _send_one(self, row: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        if row["endpoint"] is None:
            # The subscription went (removed by its user, moved to another user, or expired) after queueing.
            await self.writer.put(
                Result(
                    row["id"],
                    None,
                    "Cancelled",
                    "The subscription was removed before the push was sent.",
                    None,
                    {"type": "cancelled", "at": now.isoformat(), "detail": {}},
                    now,
                )
            )
            return
        origin = row["origin"]
        slot = self._slots.get(origin)
        if slot is None:
            slot = self._slots[origin] = asyncio.Semaphore(PER_ORIGIN_SENDING)
        clients = self.clients.get(origin)
        if clients is None:
            clients = self.clients[origin] = [
                delivery.build_client(1, self.settings.push_timeout_seconds)
                for _ in range(PER_ORIGIN_SENDING)
            ]
        idle = self._idle.get(origin)
        if idle is None:
            idle = self._idle[origin] = list(clients)
        push = delivery.Push(
            endpoint=row["endpoint"],
            origin=row["origin"],
            p256dh=row["p256dh"],
            auth=row["auth"],
            payload=orjson.dumps(row["payload"]),
            ttl=row["ttl"],
            urgency=row["urgency"],
            topic=row["topic"],
        )
        async with slot:
            # Last in, first out: under a light load the same few connections stay warm.
            client = idle.pop()
            try:
                outcome = await delivery.send(client, self.signer, push, self.settings.push_timeout_seconds)
            except Exception as exc:
                # A bug here must not strand the claimed row: record it and retry later.
                log.exception(
                    "sending a push failed unexpectedly", extra={"fields": {"pushId": str(row["id"])}}
                )
                outcome = delivery.Outcome("retry", None, f"{exc.__class__.__name__}: {exc}")
            finally:
                idle.append(client)
        result = result_for(self.settings, row, outcome, datetime.now(UTC))
        await self.writer.put(result)
        self._count(result.status)

    def _count(self, status: str) -> None:
        if status == "Sent":
            self.sent += 1
        if self.metrics is None:
            return
        if status == "Sent":
            self.metrics.push_sent.inc()
        elif status == "Expired":
            self.metrics.push_expired.inc()
        elif status == "Failed":
            self.metrics.push_failed.inc()
        elif status == "Pending":
            self.metrics.push_retried.inc()

    async def _write_results(self, results: list[Result]) -> None:
        await write_results(self.db, self.worker_id, results)
