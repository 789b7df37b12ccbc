"""Plain messages sent at the same moment are written together (chat/writer.py), and each sender still
gets exactly what a write of its own would have given it.

`asyncio.gather` starts every send before the writer's first write begins, so the sends of one gather
are one batch: all of them have the same created_at (one statement, one transaction)."""

import asyncio
from uuid import UUID

import psycopg
import pytest

from tests.chat.helpers import register, ticket_with
from ticket_comms.auth.service import CurrentUser
from ticket_comms.chat import service, writer
from ticket_comms.chat.schemas import SendMessage


def _params(app, ticket_id, sender, content, client_id=None, is_admin=False):
    return {
        "ticket_id": UUID(ticket_id),
        "sender_id": sender,
        "is_admin": is_admin,
        "type": "Text",
        "content": content,
        "attachment_id": None,
        "attachment_name": None,
        "reply_to_id": None,
        "client_id": client_id,
        "digest_delay": app.ctx.settings.message_email_delay_seconds,
        "push_delay": app.ctx.settings.push_message_delay_seconds,
    }


async def _rows(app, sql, *args):
    async with app.ctx.db.connection() as conn:
        cur = await conn.execute(sql, args)
        return await cur.fetchall()


async def test_messages_sent_together_are_one_write_each_in_its_place(app, as_user):
    await register(app, "bob", "carol")
    alice = as_user("alice")
    first = (await ticket_with(alice, "bob", "carol"))["id"]
    second = (await ticket_with(alice, "bob"))["id"]
    async with app.ctx.db.connection() as conn:  # a device for carol: her pushes get scheduled
        await conn.execute(
            "INSERT INTO push_subscriptions (user_id, endpoint, origin, p256dh, auth) "
            "VALUES ('carol', 'https://push.invalid/carol', 'https://push.invalid', 'k', 'a')"
        )
    sends = [
        (first, "alice", "a1"),
        (second, "bob", "b1"),
        (first, "bob", "b2"),
        (first, "carol", "c1"),
        (second, "alice", "a2"),
        (first, "alice", "a3"),
    ]
    rows = await asyncio.gather(*(app.ctx.messages.insert(_params(app, t, s, c)) for t, s, c in sends))

    # Each sender has its own message back, in its place.
    assert [(str(r["ticket_id"]), r["sender_id"], r["content"]) for r in rows] == sends
    assert len({r["created_at"] for r in rows}) == 1  # one statement
    # Each ticket's seqs are gapless, in the order the messages were sent.
    assert [r["seq"] for r in rows if str(r["ticket_id"]) == first] == [1, 2, 3, 4]
    assert [r["seq"] for r in rows if str(r["ticket_id"]) == second] == [1, 2]
    history = await _rows(app, "SELECT seq, content FROM messages WHERE ticket_id = %s ORDER BY seq", first)
    assert [(h["seq"], h["content"]) for h in history] == [(1, "a1"), (2, "b2"), (3, "c1"), (4, "a3")]
    tickets = await _rows(
        app, "SELECT id::text, last_seq FROM tickets WHERE id = ANY(%s::uuid[])", [first, second]
    )
    assert {t["id"]: t["last_seq"] for t in tickets} == {first: 4, second: 2}

    # Each sender has read up to their own last message, and nobody else has.
    marks = await _rows(
        app,
        "SELECT user_id, last_read_seq FROM ticket_participants WHERE ticket_id = %s ORDER BY user_id",
        first,
    )
    assert [(m["user_id"], m["last_read_seq"]) for m in marks] == [("alice", 4), ("bob", 2), ("carol", 3)]
    r = await as_user("bob").get(f"/api/v1/tickets/{first}/messages")
    assert [m["content"] for m in r.json()["items"]] == ["a1", "b2", "c1", "a3"]

    # Several messages of one ticket in one write: each other participant still has one digest pending.
    digests = await _rows(
        app,
        "SELECT user_id, count(*) AS n FROM message_digests WHERE ticket_id = %s AND due_at IS NOT NULL "
        "GROUP BY user_id ORDER BY user_id",
        first,
    )
    assert [(d["user_id"], d["n"]) for d in digests] == [("alice", 1), ("bob", 1), ("carol", 1)]
    pushes = await _rows(
        app, "SELECT ticket_id::text, user_id FROM push_message_schedules WHERE due_at IS NOT NULL"
    )
    assert [(p["ticket_id"], p["user_id"]) for p in pushes] == [(first, "carol")]
    await _rows(app, "DELETE FROM push_subscriptions WHERE user_id = 'carol' RETURNING 1")


async def test_a_sender_who_may_not_post_is_refused_without_a_gap_for_the_others(app, as_user):
    await register(app, "bob", "mallory", "admin1")
    alice = as_user("alice")
    tid = (await ticket_with(alice, "bob"))["id"]
    rows = await asyncio.gather(
        app.ctx.messages.insert(_params(app, tid, "alice", "one")),
        app.ctx.messages.insert(_params(app, tid, "mallory", "not mine to post")),
        app.ctx.messages.insert(_params(app, tid, "bob", "two")),
        app.ctx.messages.insert(_params(app, tid, "admin1", "an admin may", is_admin=True)),
    )
    assert rows[1] is None
    assert [r["seq"] for r in (rows[0], rows[2], rows[3])] == [1, 2, 3]
    assert len({r["created_at"] for r in (rows[0], rows[2], rows[3])}) == 1
    contents = await _rows(app, "SELECT content FROM messages WHERE ticket_id = %s ORDER BY seq", tid)
    assert [c["content"] for c in contents] == ["one", "two", "an admin may"]


async def test_a_repeated_client_id_in_a_write_is_answered_with_the_first_message(app, as_user):
    await register(app, "bob")
    alice = as_user("alice")
    tid = (await ticket_with(alice, "bob"))["id"]
    bob = CurrentUser("bob", "member")
    body = SendMessage.model_validate({"content": "only once", "clientId": "retry-1"})
    other = SendMessage.model_validate({"content": "another"})
    results = await asyncio.gather(
        service.send_message(app.ctx, bob, UUID(tid), body),
        service.send_message(app.ctx, bob, UUID(tid), other),
        service.send_message(app.ctx, bob, UUID(tid), body),
    )
    (first, first_created), (_second, second_created), (again, again_created) = results
    assert (first_created, second_created, again_created) == (True, True, False)
    assert again["id"] == first["id"] and again["seq"] == first["seq"]
    seqs = await _rows(app, "SELECT seq, content FROM messages WHERE ticket_id = %s ORDER BY seq", tid)
    assert [(s["seq"], s["content"]) for s in seqs] == [(1, "only once"), (2, "another")]

    # The writer itself answers a repeat as the one-row statement would: with the violation.
    with pytest.raises(psycopg.errors.UniqueViolation):
        await app.ctx.messages.insert(_params(app, tid, "bob", "only once", client_id="retry-1"))


async def test_a_message_the_database_refuses_fails_alone(app, as_user):
    """Any error of one row fails the whole statement; the others are then written one by one."""
    await register(app, "bob")
    alice = as_user("alice")
    tid = (await ticket_with(alice, "bob"))["id"]
    results = await asyncio.gather(
        app.ctx.messages.insert(_params(app, tid, "alice", "one")),
        # An admin who is not a user: the sender's foreign key refuses the row.
        app.ctx.messages.insert(_params(app, tid, "nobody-admin", "refused", is_admin=True)),
        app.ctx.messages.insert(_params(app, tid, "bob", "two")),
        return_exceptions=True,
    )
    assert isinstance(results[1], psycopg.errors.ForeignKeyViolation)
    assert [r["seq"] for r in (results[0], results[2])] == [1, 2]
    contents = await _rows(app, "SELECT content FROM messages WHERE ticket_id = %s ORDER BY seq", tid)
    assert [c["content"] for c in contents] == ["one", "two"]


async def test_a_sender_who_gave_up_before_the_write_is_not_written(app, as_user):
    await register(app, "bob")
    alice = as_user("alice")
    tid = (await ticket_with(alice, "bob"))["id"]
    kept = asyncio.create_task(app.ctx.messages.insert(_params(app, tid, "alice", "kept")))
    dropped = asyncio.create_task(app.ctx.messages.insert(_params(app, tid, "bob", "dropped")))
    await asyncio.sleep(0)  # both are waiting; the write has not begun
    dropped.cancel()
    row = await kept
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert row["seq"] == 1
    await app.ctx.messages.wait_idle()
    contents = await _rows(app, "SELECT content FROM messages WHERE ticket_id = %s", tid)
    assert [c["content"] for c in contents] == ["kept"]


async def _until_waiting_on_locks(app, count):
    for _ in range(400):
        waiting = await _rows(
            app,
            "SELECT count(*) AS n FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
        if waiting[0]["n"] >= count:
            break
        await asyncio.sleep(0.025)
    assert waiting[0]["n"] == count


async def test_writes_in_flight_together_lock_their_tickets_in_one_order(app, as_user):
    """Two writes at once, each of two tickets, while another transaction holds the lower ticket: both
    wait for it before taking the higher one, so no two writes can each hold what the other needs."""
    await register(app, "bob")
    alice = as_user("alice")
    low, high = sorted([(await ticket_with(alice, "bob"))["id"], (await ticket_with(alice, "bob"))["id"]])
    async with app.ctx.db.transaction() as holder:
        await holder.execute("SELECT 1 FROM tickets WHERE id = %s FOR UPDATE", (low,))
        first = asyncio.gather(
            app.ctx.messages.insert(_params(app, high, "alice", "h1")),
            app.ctx.messages.insert(_params(app, low, "alice", "l1")),
        )
        await _until_waiting_on_locks(app, 1)  # the first write has taken both, and waits
        second = asyncio.gather(
            app.ctx.messages.insert(_params(app, low, "bob", "l2")),
            app.ctx.messages.insert(_params(app, high, "bob", "h2")),
        )
        await _until_waiting_on_locks(app, 2)
        # Neither holds the higher ticket meanwhile.
        free = await _rows(app, "SELECT id FROM tickets WHERE id = %s FOR UPDATE NOWAIT", high)
        assert len(free) == 1
    rows = [*(await first), *(await second)]
    seqs = {(str(r["ticket_id"]), r["content"]): r["seq"] for r in rows}
    assert sorted(s for (t, _), s in seqs.items() if t == low) == [1, 2]
    assert sorted(s for (t, _), s in seqs.items() if t == high) == [1, 2]
    assert seqs[(low, "l1")] == 1 and seqs[(high, "h1")] == 1  # the first write went first


async def test_a_message_sent_as_a_write_ends_is_written(app, as_user, monkeypatch):
    """The sender of a write's last message is resumed by its answer before that write's task has
    ended; a message it sends at once must still get a write."""
    monkeypatch.setattr(writer, "WRITES_AT_ONCE", 1)
    await register(app, "bob")
    alice = as_user("alice")
    tid = (await ticket_with(alice, "bob"))["id"]
    first = await app.ctx.messages.insert(_params(app, tid, "alice", "first"))
    async with asyncio.timeout(10):
        second = await app.ctx.messages.insert(_params(app, tid, "bob", "second"))
    assert (first["seq"], second["seq"]) == (1, 2)
