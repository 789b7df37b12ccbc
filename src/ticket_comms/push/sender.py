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
import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from ticket_comms.claim_loop import ClaimLoop, recover_statement
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
RECOVER = recover_statement("push_outbox")

NEXT_DUE = (
    "SELECT min(next_attempt_at) AS at FROM push_outbox WHERE status = 'Pending' AND claimed_by IS NULL"
)


class PushSender(ClaimLoop):
    """Claims due pushes and sends them: CONCURRENCY in hand, PER_ORIGIN_SENDING per push service."""

    what = "push"
    lock_class = WORKER_LOCK_CLASS
    channel = OUTBOX_CHANNEL

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
        super().__init__(db.url, concurrency, drain_seconds=settings.push_timeout_seconds + 5)
        self.settings = settings
        self.db = db
        self.signer = signer
        # One client (connection pool) per push-service origin, kept across restarts by the Worker.
        self.clients = clients
        self.metrics = metrics
        self.writer = GroupCommit(self._write_results, "push results")
        self._in_hand: Counter[str] = Counter()
        self._slots: dict[str, asyncio.Semaphore] = {}
        # Per origin, its clients not in a request; the origin's slot guarantees one is there.
        self._idle: dict[str, list[httpx.AsyncClient]] = {}

    async def _next_due(self) -> datetime | None:
        row = await self.db.fetch_one(NEXT_DUE)
        return row["at"] if row else None

    async def _take(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._start(row)

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
