"""The only code that emits on Socket.IO. Services call it after their transaction has committed.

Rooms: `ticket:<id>` (the ticket's participants' sockets) and `user:<id>` (one user's sockets).
Room membership changes (a participant added or removed) must reach sockets held by any `serve`
process, so with Redis they travel on a channel of their own that every process applies locally.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

import orjson
import socketio

log = logging.getLogger(__name__)

MEMBERSHIP_CHANNEL = "ticket-comms:membership"


def ticket_room(ticket_id: UUID | str) -> str:
    return f"ticket:{ticket_id}"


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


class Broadcaster:
    def __init__(self, sio: socketio.AsyncServer, redis_url: str | None = None):
        self.sio = sio
        self.redis_url = redis_url
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self.redis_url:
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self.redis_url)
        self._listener = asyncio.create_task(self._listen(), name="membership-listener")

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            try:
                await self._listener
            except (asyncio.CancelledError, Exception):  # noqa: S110 - shutting down
                pass
        if self._redis is not None:
            await self._redis.aclose()

    async def _listen(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(MEMBERSHIP_CHANNEL)
                async for item in pubsub.listen():
                    if item.get("type") != "message":
                        continue
                    change = orjson.loads(item["data"])
                    await self._apply_membership(change["op"], change["ticketId"], change["userId"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("membership channel lost; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    async def _apply_membership(self, op: str, ticket_id: str, user_id: str) -> None:
        """Put this process's sockets of `user_id` into (or out of) the ticket's room."""
        room = ticket_room(ticket_id)
        for sid, _eio_sid in list(self.sio.manager.get_participants("/", user_room(user_id))):
            if op == "join":
                await self.sio.enter_room(sid, room)
            else:
                await self.sio.leave_room(sid, room)

    async def _membership(self, op: str, ticket_id: UUID, user_id: str) -> None:
        if self._redis is None:
            await self._apply_membership(op, str(ticket_id), user_id)
            return
        payload = orjson.dumps({"op": op, "ticketId": str(ticket_id), "userId": user_id})
        try:
            await self._redis.publish(MEMBERSHIP_CHANNEL, payload)
        except Exception:
            # Redis is down: still apply here; socket handlers re-check access on every event.
            log.warning("could not publish a membership change", exc_info=True)
            await self._apply_membership(op, str(ticket_id), user_id)

    async def _emit(self, event: str, data: dict[str, Any], room: str, skip_sid: str | None = None) -> None:
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
            "ticketUpdate", {"ticketId": str(ticket_id), "ticket": None, "event": "removed"}, user_room(user_id)
        )

    async def new_message(self, ticket_id: UUID, message: dict[str, Any]) -> None:
        await self._emit("newMessage", {"ticketId": str(ticket_id), "message": message}, ticket_room(ticket_id))

    async def message_updated(self, ticket_id: UUID, message: dict[str, Any]) -> None:
        await self._emit("messageUpdated", {"ticketId": str(ticket_id), "message": message}, ticket_room(ticket_id))

    async def messages_read(self, ticket_id: UUID, user_id: str, last_read_seq: int, at: str | None) -> None:
        await self._emit(
            "messagesRead",
            {"ticketId": str(ticket_id), "userId": user_id, "lastReadSeq": last_read_seq, "timestamp": at},
            ticket_room(ticket_id),
        )

    async def typing(self, ticket_id: UUID, user_id: str, is_typing: bool, skip_sids: list[str]) -> None:
        data = {"ticketId": str(ticket_id), "userId": user_id, "isTyping": is_typing}
        await self._emit("userTyping", data, ticket_room(ticket_id), skip_sid=skip_sids or None)  # type: ignore[arg-type]

    async def ticket_update(self, ticket_id: UUID, ticket: dict[str, Any], event: str) -> None:
        await self._emit(
            "ticketUpdate", {"ticketId": str(ticket_id), "ticket": ticket, "event": event}, ticket_room(ticket_id)
        )

    async def notification(self, user_id: str, notification: dict[str, Any]) -> None:
        await self._emit("notification", notification, user_room(user_id))
