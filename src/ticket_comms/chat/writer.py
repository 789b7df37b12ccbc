"""Writing chat messages: the statement that inserts one, and the writer that puts plain messages sent at
the same moment into one statement.

A plain message (no reply, no attachment) is one statement in autocommit: the hottest write of the
product. When many sockets send at once, each statement costs a round trip, a wake-up of a backend and
its own execution of a nine-CTE plan, and the client's share of that (building the query, the send, the
wait, the result) is most of what a message costs the server. So the writer keeps at most
WRITES_AT_ONCE writes in flight: messages that arrive while they run go together in the next, one
statement for all of them (INSERT_MESSAGES). At a low rate nothing waits (a lone message takes the
one-row statement at once); under load the batches grow with it, so the cost per message falls as the
load rises. Measured with the official client (docs/benchmarks.md, session 9): 1-3 messages per
statement at 800 messages/s and 3-20 at 1,400; the server held 1,400 messages/s where the one-row
statements saturated it at 800 the same hour.

Two writes rather than one, so that one write waiting on a ticket's row lock (held by a ticket change,
say) does not hold up every message of every ticket. A batch locks its tickets in id order
(INSERT_MESSAGES' `locked`), so two batches never each hold a ticket the other waits for; everything
else locks one ticket only (INSERT_MESSAGE, replies, attachments, ticket changes), so it cannot close a
cycle with a batch either. The writes go through the database's connections for generic plans
(database.py says why a batch needs them).
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from ticket_comms.database import Connection, Database
from ticket_comms.notifications import digests
from ticket_comms.push import messages as push_messages

# Messages per statement, at most: a burst larger than this goes in several writes.
MAX_BATCH = 200
# Writes in flight at once, at most, each taking what is waiting when it starts.
WRITES_AT_ONCE = 2

# One round trip: check the sender may post, take the next seq under the ticket's row lock, insert
# the message, move the sender's read mark past it, and schedule the other participants' email
# digests (no email per message) and pushes (those with a device, after PUSH_MESSAGE_DELAY_SECONDS).
# No row comes back when the check fails.
INSERT_MESSAGE = f"""
WITH t AS (
    UPDATE tickets SET last_seq = last_seq + 1, last_activity_at = now()
    WHERE id = %(ticket_id)s
      AND (%(is_admin)s OR %(sender_id)s::text IS NULL OR EXISTS (
          SELECT 1 FROM ticket_participants p WHERE p.ticket_id = %(ticket_id)s AND p.user_id = %(sender_id)s))
    RETURNING id, last_seq
), m AS (
    INSERT INTO messages (ticket_id, seq, sender_id, type, content, attachment_id, attachment_name,
                          reply_to_id, client_id)
    SELECT t.id, t.last_seq, %(sender_id)s, %(type)s, %(content)s, %(attachment_id)s, %(attachment_name)s,
           %(reply_to_id)s, %(client_id)s
    FROM t
    RETURNING *
), r AS (
    UPDATE ticket_participants p SET last_read_seq = m.seq, last_read_at = m.created_at
    FROM m WHERE p.ticket_id = m.ticket_id AND p.user_id = m.sender_id AND p.last_read_seq < m.seq
), d AS (
    {digests.schedule_digests_cte("m")}
), pm AS (
    {push_messages.schedule_pushes_cte("m")}
)
SELECT m.id, m.ticket_id, m.seq, m.sender_id, m.type, m.content, m.reply_to_id, m.client_id,
       m.created_at, m.edited_at, m.deleted_at, NULL::uuid AS att_id, NULL::jsonb AS reactions
FROM m
"""

# INSERT_MESSAGE for several plain messages (of any tickets, any senders) in one statement. Each input
# row keeps its place (`ord`), which is also its order in its ticket: a ticket's seq moves past all of
# its messages at once, and they take the seqs in between in arrival order. A row whose sender may not
# post comes back with no message, as INSERT_MESSAGE does.
INSERT_MESSAGES = f"""
WITH i AS (
    SELECT * FROM unnest(%(ticket_ids)s::uuid[], %(sender_ids)s::text[], %(is_admins)s::bool[],
                         %(types)s::text[], %(contents)s::text[], %(client_ids)s::text[])
         WITH ORDINALITY AS i(ticket_id, sender_id, is_admin, type, content, client_id, ord)
), allowed AS (
    SELECT i.* FROM i
    WHERE i.is_admin OR EXISTS (
        SELECT 1 FROM ticket_participants p WHERE p.ticket_id = i.ticket_id AND p.user_id = i.sender_id)
), counts AS (
    SELECT ticket_id, count(*)::int AS n FROM allowed GROUP BY ticket_id
), locked AS (
    -- In id order, whatever the plan: two writes locking the same tickets never wait on each other
    -- in a cycle.
    SELECT id FROM tickets WHERE id IN (SELECT ticket_id FROM counts) ORDER BY id FOR NO KEY UPDATE
), t AS (
    UPDATE tickets SET last_seq = last_seq + counts.n, last_activity_at = now()
    FROM locked JOIN counts ON counts.ticket_id = locked.id WHERE tickets.id = locked.id
    RETURNING tickets.id, tickets.last_seq - counts.n AS seq_before
), numbered AS (
    SELECT allowed.*, t.seq_before + row_number() OVER (PARTITION BY allowed.ticket_id ORDER BY allowed.ord)
           AS seq
    FROM allowed JOIN t ON t.id = allowed.ticket_id
), m AS (
    INSERT INTO messages (ticket_id, seq, sender_id, type, content, client_id)
    SELECT ticket_id, seq, sender_id, type, content, client_id FROM numbered
    RETURNING *
), r AS (
    UPDATE ticket_participants p SET last_read_seq = x.seq, last_read_at = x.created_at
    FROM (SELECT ticket_id, sender_id, max(seq) AS seq, max(created_at) AS created_at
          FROM m GROUP BY ticket_id, sender_id) x
    WHERE p.ticket_id = x.ticket_id AND p.user_id = x.sender_id AND p.last_read_seq < x.seq
), d AS (
    {digests.schedule_digests_cte("m")}
), pm AS (
    {push_messages.schedule_pushes_cte("m")}
)
SELECT numbered.ord, m.id, m.ticket_id, m.seq, m.sender_id, m.type, m.content, m.reply_to_id, m.client_id,
       m.created_at, m.edited_at, m.deleted_at, NULL::uuid AS att_id, NULL::jsonb AS reactions
FROM m JOIN numbered ON numbered.ticket_id = m.ticket_id AND numbered.seq = m.seq
"""


async def insert_message(conn: Connection, params: dict[str, Any]) -> dict[str, Any] | None:
    """INSERT_MESSAGE on `conn` (in the caller's transaction, if any): the row, or None."""
    cur = await conn.execute(INSERT_MESSAGE, params)
    return await cur.fetchone()


_Waiting = tuple[dict[str, Any], "asyncio.Future[dict[str, Any] | None]"]


def _batch_params(waiting: list[_Waiting]) -> dict[str, Any]:
    params = [p for p, _ in waiting]
    first = params[0]
    return {
        "ticket_ids": [p["ticket_id"] for p in params],
        "sender_ids": [p["sender_id"] for p in params],
        "is_admins": [p["is_admin"] for p in params],
        "types": [p["type"] for p in params],
        "contents": [p["content"] for p in params],
        "client_ids": [p["client_id"] for p in params],
        # Settings, alike for every plain message.
        "digest_delay": first["digest_delay"],
        "push_delay": first["push_delay"],
    }


def _answer(future: asyncio.Future[dict[str, Any] | None], row: dict[str, Any] | None) -> None:
    if not future.done():
        future.set_result(row)


def _refuse(future: asyncio.Future[dict[str, Any] | None], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class MessageWriter:
    """`await insert(params)` writes one plain message (INSERT_MESSAGE's parameters, with no reply and
    no attachment) and returns its row, or None when the sender may not post; it raises what
    INSERT_MESSAGE alone would (a repeated clientId: UniqueViolation, with nothing written), whatever
    the messages written with it."""

    def __init__(self, db: Database):
        self._db = db
        self._waiting: list[_Waiting] = []
        self._writing: set[asyncio.Task[None]] = set()

    async def insert(self, params: dict[str, Any]) -> dict[str, Any] | None:
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((params, future))
        if len(self._writing) < WRITES_AT_ONCE:
            task = asyncio.create_task(self._write_while_waiting())
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)
        return await future

    async def wait_idle(self) -> None:
        """Until what has been handed over is written (at shutdown, before the pool closes)."""
        while self._writing:
            await asyncio.wait(set(self._writing))

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                taken, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                # A sender that gave up (its socket closed) before the write began is not written:
                # it never got an answer, and its client sends again with the same clientId.
                taken = [w for w in taken if not w[1].done()]
                if len(taken) == 1:
                    await self._write_one(*taken[0])
                elif taken:
                    await self._write_together(taken)
        finally:
            # Now, in the same step that found nothing waiting, not only in the done callback (which
            # runs later): an insert in between would count this task as writing, and with every
            # writer counted its message would wait for the next insert to start a write.
            self._writing.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _write_one(self, params: dict[str, Any], future: asyncio.Future[dict[str, Any] | None]) -> None:
        try:
            async with self._db.connection(generic_plans=True) as conn:
                row = await insert_message(conn, params)
        except Exception as exc:
            _refuse(future, exc)
        else:
            _answer(future, row)

    async def _write_together(self, waiting: list[_Waiting]) -> None:
        try:
            async with self._db.connection(generic_plans=True) as conn:
                cur = await conn.execute(INSERT_MESSAGES, _batch_params(waiting))
                rows = await cur.fetchall()
        except psycopg.Error:
            # One message the statement refused (a clientId repeated by a retry racing its first
            # attempt, or any other error of a row) fails the whole statement, which wrote nothing.
            # Each goes alone, so only that one gets the error. (The database going away is not a
            # psycopg.Error here: Database.connection turns it into Unavailable, for all of them.)
            for params, future in waiting:
                if not future.done():
                    await self._write_one(params, future)
            return
        except Exception as exc:
            for _, future in waiting:
                _refuse(future, exc)
            return
        by_place = {row.pop("ord"): row for row in rows}
        for place, (_, future) in enumerate(waiting, start=1):
            _answer(future, by_place.get(place))
