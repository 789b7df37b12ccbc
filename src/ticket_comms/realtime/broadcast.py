"""The only code that emits on Socket.IO. Services call it after their transaction has committed.

Rooms: `ticket:<id>` (the ticket's participants' sockets) and `user:<id>` (one user's sockets).
Room membership changes (a participant added or removed) must reach sockets held by any `serve`
process: the client manager (realtime/manager.py) applies them here and, with Redis, on every
other process, in order with the emits.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any
from uuid import UUID

import socketio

from ticket_comms.realtime import heap
from ticket_comms.realtime.manager import LocalManager

if TYPE_CHECKING:
    from ticket_comms.realtime.redis_manager import RedisManager

log = logging.getLogger(__name__)


def ticket_room(ticket_id: UUID | str) -> str:
    # Interned: every socket in a ticket's room then shares one name string instead of holding its own
    # copy (measured ~1.8 KB per socket for a user in 20 tickets).
    return sys.intern(f"ticket:{ticket_id}")


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def watch_room(ticket_id: UUID | str) -> str:
    """Sockets in a ticket's room that are not a participant's: admins watching a ticket they joined."""
    return f"watch:{ticket_id}"


class Broadcaster:
    def __init__(self, sio: socketio.AsyncServer, redis_url: str | None = None):
        self.sio = sio
        self.redis_url = redis_url
        self.manager: LocalManager | RedisManager = sio.manager
        self._collector: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Settle the garbage collector for long-lived sockets (realtime/heap.py), and start the
        manager now rather than at the first connection, so that a process listens on the Redis
        channel (and can fail loudly) from the moment it serves."""
        heap.settle()
        self._collector = asyncio.create_task(heap.collect_on_a_clock(), name="garbage-collection")
        if not self.sio.manager_initialized:
            self.sio.manager_initialized = True
            self.sio.manager.initialize()

    async def stop(self) -> None:
        if self._collector is not None:
            self._collector.cancel()
            await asyncio.gather(self._collector, return_exceptions=True)
        await self.manager.close()

    async def _membership(self, op: str, ticket_id: UUID, user_id: str) -> None:
        try:
            await self.manager.apply_membership(op, ticket_room(ticket_id), user_room(user_id))
        except Exception:
            # Socket handlers re-check access on every client event, whatever the rooms say.
            log.warning("could not apply a membership change", exc_info=True)

    async def _emit(
        self, event: str, data: dict[str, Any], room: str, skip_sid: str | list[str] | None = None
    ) -> None:
        try:
            await self.sio.emit(event, data, room=room, skip_sid=skip_sid)
        except Exception:
            # The state is committed; a client that missed the event recovers it with `sync`.
            log.warning("emit of %s to %s failed", event, room, exc_info=True)

    async def participant_added(self, ticket_id: UUID, user_id: str) -> None:
        await self._membership("join", ticket_id, user_id)

    async def participant_removed(self, ticket_id: UUID, user_id: str) -> None:
        await self._membership("leave", ticket_id, user_id)
        await self._emit(
            "ticketUpdate",
            {"ticketId": str(ticket_id), "ticket": None, "event": "removed"},
            user_room(user_id),
        )

    async def new_message(
        self, ticket_id: UUID, message: dict[str, Any], bound: dict[str, dict[str, Any]] | None = None
    ) -> None:
        for copy, room, skip in _copies(ticket_id, message, bound):
            await self._emit("newMessage", {"ticketId": str(ticket_id), "message": copy}, room, skip_sid=skip)

    async def message_updated(
        self, ticket_id: UUID, message: dict[str, Any], bound: dict[str, dict[str, Any]] | None = None
    ) -> None:
        for copy, room, skip in _copies(ticket_id, message, bound):
            await self._emit(
                "messageUpdated", {"ticketId": str(ticket_id), "message": copy}, room, skip_sid=skip
            )

    async def messages_read(self, ticket_id: UUID, user_id: str, last_read_seq: int, at: str | None) -> None:
        await self._emit(
            "messagesRead",
            {"ticketId": str(ticket_id), "userId": user_id, "lastReadSeq": last_read_seq, "timestamp": at},
            ticket_room(ticket_id),
        )

    async def typing(self, ticket_id: UUID, user_id: str, is_typing: bool) -> None:
        """To the ticket's participants except the typer's own sockets (on any process)."""
        data = {"ticketId": str(ticket_id), "userId": user_id, "isTyping": is_typing}
        await self._emit("userTyping", data, ticket_room(ticket_id), skip_sid=user_room(user_id))

    async def ticket_update(self, ticket_id: UUID, ticket: dict[str, Any], event: str) -> None:
        await self._emit(
            "ticketUpdate",
            {"ticketId": str(ticket_id), "ticket": ticket, "event": event},
            ticket_room(ticket_id),
        )

    async def notification(self, user_id: str, notification: dict[str, Any]) -> None:
        await self._emit("notification", notification, user_room(user_id))


def _copies(
    ticket_id: UUID, message: dict[str, Any], bound: dict[str, dict[str, Any]] | None
) -> list[tuple[dict[str, Any], str, list[str] | None]]:
    """(copy, room, skip) for each emit of a message to the ticket's room. One with an attachment carries
    download links bound to each participant (`bound`: user id -> that user's copy), so a link works only
    for the person it was given to: each participant's sockets get their own copy (the room minus every
    other participant's sockets and the watchers). Other sockets in the room (admins watching) get
    `message` as is, which then has no links: they fetch the message over HTTP."""
    room = ticket_room(ticket_id)
    if not bound:
        return [(message, room, None)]
    rooms = {user_id: user_room(user_id) for user_id in bound}
    watchers = watch_room(ticket_id)
    copies: list[tuple[dict[str, Any], str, list[str] | None]] = [
        (copy, room, [r for u, r in rooms.items() if u != user_id] + [watchers])
        for user_id, copy in bound.items()
    ]
    copies.append((message, room, list(rooms.values())))
    return copies
