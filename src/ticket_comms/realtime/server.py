"""The Socket.IO server: handshake authentication, rooms, and the client events of the contract.

Handlers are thin: parse the payload, check who is asking, call the chat service, shape the ack.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar
from uuid import UUID

import socketio
from pydantic import BaseModel, Field, ValidationError

from ticket_comms.auth.service import CurrentUser
from ticket_comms.chat import read_marks
from ticket_comms.chat import service as chat
from ticket_comms.chat.schemas import SendMessage
from ticket_comms.config import Settings
from ticket_comms.context import AppContext
from ticket_comms.errors import AppError, BadRequest, RateLimited, ValidationFailed
from ticket_comms.realtime import codec
from ticket_comms.realtime.broadcast import ticket_room, user_room, watch_room
from ticket_comms.realtime.engine import EngineServer
from ticket_comms.realtime.manager import LocalManager, client_manager
from ticket_comms.realtime.resync import reconcile_rooms
from ticket_comms.ticket_access import TicketNotFound, is_participant, require_access, ticket_ids_of
from ticket_comms.wire import CamelModel

log = logging.getLogger(__name__)

TYPING_TIMEOUT_SECONDS = 6.0
TYPING_EVENTS_PER_SECOND = 5
JOIN_HISTORY = 20
SYNC_MAX = 500

# Whether the event being handled asked for an acknowledgement (so errors go to the ack, or to an
# `error` event when there is none).
_ack_requested: contextvars.ContextVar[bool] = contextvars.ContextVar("ack_requested", default=True)


class Server(socketio.AsyncServer):
    def _engineio_server_class(self):  # type: ignore[no-untyped-def]
        return EngineServer

    async def _handle_event_internal(self, server, sid, eio_sid, data, namespace, id):  # type: ignore[no-untyped-def]
        _ack_requested.set(id is not None)
        return await super()._handle_event_internal(server, sid, eio_sid, data, namespace, id)

    async def _handle_eio_message(self, eio_sid, data):  # type: ignore[no-untyped-def]
        # A frame that is not a Socket.IO packet (bad JSON, an event without a name) is the client's
        # fault: answer with an `error` event and keep the connection, instead of a server traceback.
        try:
            return await super()._handle_eio_message(eio_sid, data)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            log.info("malformed socket.io packet from %s: %s", eio_sid, exc)
            sid = self.manager.sid_from_eio_sid(eio_sid, "/")
            if sid is not None:
                await self.emit(
                    "error", {"code": "bad_packet", "message": "The packet is malformed."}, to=sid
                )
            return None


class TicketRef(CamelModel):
    ticket_id: UUID = Field(alias="ticketId")


class SendPayload(SendMessage):
    ticket_id: UUID = Field(alias="ticketId")


class ReadPayload(TicketRef):
    up_to_seq: int | None = Field(default=None, alias="upToSeq", ge=0, le=2**62)


class TypingPayload(TicketRef):
    is_typing: bool = Field(alias="isTyping")


class SyncPayload(TicketRef):
    after_seq: int = Field(alias="afterSeq", ge=0, le=2**62)
    limit: int = Field(default=100, ge=1, le=SYNC_MAX)


M = TypeVar("M", bound=BaseModel)


class Background:
    """The tasks started outside a client event (typing timeouts, and ends of expired tokens' connections),
    one set per server.

    The event loop keeps only weak references to tasks: they are held here until done."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def _parse(model: type[M], payload: Any) -> M:
    if isinstance(payload, str) and "ticket_id" in model.model_fields:
        payload = {"ticketId": payload}  # `joinTicket "<id>"` and `markAsRead "<id>"` forms
    if not isinstance(payload, dict):
        raise BadRequest("The payload must be an object.", code="bad_payload")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise ValidationFailed("The payload is not valid.", details=details) from None


class Typing:
    """Who is typing where; a typer silent for TYPING_TIMEOUT_SECONDS is reported stopped."""

    def __init__(self, ctx: AppContext, spawn: Callable[[Coroutine[Any, Any, None]], None]):
        self.ctx = ctx
        self.spawn = spawn
        self.timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self.rate: dict[str, tuple[float, int]] = {}

    def allow(self, sid: str) -> bool:
        now = time.monotonic()
        window, count = self.rate.get(sid, (now, 0))
        if now - window >= 1.0:
            window, count = now, 0
        self.rate[sid] = (window, count + 1)
        return count < TYPING_EVENTS_PER_SECOND

    async def set(self, ticket_id: UUID, user_id: str, is_typing: bool) -> None:
        key = (str(ticket_id), user_id)
        timer = self.timers.pop(key, None)
        if timer:
            timer.cancel()
        was_typing = timer is not None
        if is_typing:
            loop = asyncio.get_running_loop()
            self.timers[key] = loop.call_later(
                TYPING_TIMEOUT_SECONDS, lambda: self.spawn(self._expire(key, ticket_id, user_id))
            )
        if is_typing != was_typing:
            await self.ctx.broadcast.typing(ticket_id, user_id, is_typing)

    async def _expire(self, key: tuple[str, str], ticket_id: UUID, user_id: str) -> None:
        self.timers.pop(key, None)
        await self.ctx.broadcast.typing(ticket_id, user_id, False)

    async def stop_all(self, user_id: str) -> None:
        for key in [k for k in self.timers if k[1] == user_id]:
            timer = self.timers.pop(key)
            timer.cancel()
            await self.ctx.broadcast.typing(UUID(key[0]), user_id, False)

    def forget(self, sid: str) -> None:
        self.rate.pop(sid, None)


def build_server(ctx_ref: Callable[[], AppContext], settings: Settings) -> Server:
    manager = client_manager(settings.redis_url, json=codec)
    sio = Server(
        async_mode="asgi",
        client_manager=manager,
        serializer=codec.JsonPacket,
        json=codec,
        # None is engine.io's same-origin check (the Origin must match the Host the request came to);
        # an empty list would switch the check off, so it never reaches engine.io.
        cors_allowed_origins=settings.socketio_origins or None,
        ping_interval=settings.socketio_ping_interval,
        ping_timeout=settings.socketio_ping_timeout,
        max_http_buffer_size=1_000_000,
        logger=False,
        engineio_logger=False,
    )
    if not isinstance(manager, LocalManager):
        manager.on_resubscribe = lambda: reconcile_rooms(manager, ctx_ref())
    typing_state: dict[str, Typing] = {}
    background = Background()
    engine: EngineServer = sio.eio

    def typing() -> Typing:
        if "t" not in typing_state:
            typing_state["t"] = Typing(ctx_ref(), background.spawn)
        return typing_state["t"]

    async def session_user(sid: str) -> CurrentUser:
        session = await sio.get_session(sid)
        return session["user"]

    def on(event: str) -> Callable[[Callable[[str, Any], Awaitable[dict[str, Any]]]], None]:
        return lambda fn: _register(event, fn)

    def _register(event: str, fn: Callable[[str, Any], Awaitable[dict[str, Any]]]) -> None:
        async def wrapped(sid: str, payload: Any = None, *_extra: Any) -> dict[str, Any] | None:
            try:
                result = await fn(sid, payload)
                return {"ok": True, **result}
            except AppError as exc:
                error = {"code": exc.code, "message": exc.message}
                if exc.details is not None:
                    error["details"] = exc.details
            except Exception:
                log.exception("socket event %s failed", event)
                error = {"code": "internal_error", "message": "Something went wrong."}
            if not _ack_requested.get():
                await sio.emit("error", error, to=sid)
                return None
            return {"ok": False, "error": error}

        sio.on(event, wrapped)

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        ctx = ctx_ref()
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            user = await ctx.users.sign_in(await ctx.verifier.authenticate(token))
        except AppError as exc:
            # Socket.IO clients see `err.message` and `err.data` on connect_error.
            raise socketio.exceptions.ConnectionRefusedError(
                exc.message, {"code": exc.code, "message": exc.message}
            ) from None
        await sio.save_session(sid, {"user": user})
        # In the user's room first: from here on, membership changes reach this socket.
        await sio.enter_room(sid, user_room(user.id))
        async with ctx.db.connection() as conn:
            entered = await ticket_ids_of(conn, user.id)
            for ticket_id in entered:
                await sio.enter_room(sid, ticket_room(ticket_id))
            # A removal committed between the listing and the entering found this socket outside
            # the room, so it had nothing to take away: look again, now that the socket is inside,
            # and leave what is gone. A removal committed after this look reaches the socket itself.
            still = set(await ticket_ids_of(conn, user.id))
        for ticket_id in entered:
            if ticket_id not in still:
                await sio.leave_room(sid, ticket_room(ticket_id))
        # A token that expires while connected ends the connection (the Engine.IO server's look).
        eio_sid = sio.manager.eio_sid_from_sid(sid, "/")
        if eio_sid is not None:
            engine.end_at(eio_sid, user.expires_at)

    def deadline_passed(eio_sid: str) -> None:
        sid = sio.manager.sid_from_eio_sid(eio_sid, "/")
        if sid is not None:
            background.spawn(token_expired(sid))

    engine.on_deadline = deadline_passed

    async def token_expired(sid: str) -> None:
        await sio.emit("error", {"code": "token_expired", "message": "The token has expired."}, to=sid)
        await sio.disconnect(sid)

    @sio.event
    async def disconnect(sid: str, *_: Any) -> None:
        typing().forget(sid)
        # A typer whose last socket went away stops typing now rather than after the timeout.
        user = (await sio.get_session(sid)).get("user")
        if user is not None and not any(
            s != sid for s, _ in sio.manager.get_participants("/", user_room(user.id))
        ):
            await typing().stop_all(user.id)

    @on("joinTicket")
    async def _join_ticket(sid: str, payload: Any) -> dict[str, Any]:
        ref = _parse(TicketRef, payload)
        user = await session_user(sid)
        room = ticket_room(ref.ticket_id)
        # Enter first, then check access: a removal that commits before the check is seen by it (and
        # the socket leaves again); one that commits after it finds the socket in the room and takes
        # it out. Checking first would let a removal slip between the check and the entering.
        was_in = room in sio.rooms(sid)
        await sio.enter_room(sid, room)
        try:
            latest = await chat.list_messages(
                ctx_ref(), user, ref.ticket_id, limit=JOIN_HISTORY, before_seq=None, after_seq=None
            )
        except TicketNotFound:
            await sio.leave_room(sid, room)
            raise
        except BaseException:
            if not was_in:
                await sio.leave_room(sid, room)
            raise
        if user.is_admin:
            # An admin watching a ticket they are not part of gets the room's copies without links.
            async with ctx_ref().db.connection() as conn:
                watching = not await is_participant(conn, user.id, ref.ticket_id)
            if watching:
                await sio.enter_room(sid, watch_room(ref.ticket_id))
        messages = latest["items"]
        await sio.emit("messages", {"ticketId": str(ref.ticket_id), "messages": messages}, to=sid)
        return {"messages": messages}

    @on("leaveTicket")
    async def _leave_ticket(sid: str, payload: Any) -> dict[str, Any]:
        ref = _parse(TicketRef, payload)
        await sio.leave_room(sid, ticket_room(ref.ticket_id))
        await sio.leave_room(sid, watch_room(ref.ticket_id))
        return {}

    @on("sendMessage")
    async def _send_message(sid: str, payload: Any) -> dict[str, Any]:
        body = _parse(SendPayload, payload)
        user = await session_user(sid)
        message, _ = await chat.send_message(ctx_ref(), user, body.ticket_id, body)
        # Sending ends the sender's typing indicator.
        if (str(body.ticket_id), user.id) in typing().timers:
            await typing().set(body.ticket_id, user.id, False)
        return {"message": message}

    @on("markAsRead")
    async def _mark_as_read(sid: str, payload: Any) -> dict[str, Any]:
        body = _parse(ReadPayload, payload)
        user = await session_user(sid)
        result = await read_marks.mark_read(ctx_ref(), user, body.ticket_id, body.up_to_seq)
        return {"lastReadSeq": result["lastReadSeq"]}

    @on("typing")
    async def _typing(sid: str, payload: Any) -> dict[str, Any]:
        body = _parse(TypingPayload, payload)
        if not typing().allow(sid):
            raise RateLimited("Too many typing events.")
        ctx = ctx_ref()
        user = await session_user(sid)
        async with ctx.db.connection() as conn:
            await require_access(conn, user, body.ticket_id)
        await typing().set(body.ticket_id, user.id, body.is_typing)
        return {}

    @on("sync")
    async def _sync(sid: str, payload: Any) -> dict[str, Any]:
        body = _parse(SyncPayload, payload)
        user = await session_user(sid)
        missed = await chat.list_messages(
            ctx_ref(), user, body.ticket_id, limit=body.limit, before_seq=None, after_seq=body.after_seq
        )
        return {"messages": missed["items"], "hasMore": missed["hasMore"]}

    return sio
