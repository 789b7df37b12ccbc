"""Socket.IO client managers: who is in which room, and how an emit reaches the sockets.

`LocalManager` serves one process. `RedisManager` is python-socketio's Redis manager (every emit is
published on a Redis channel and every `serve` process delivers it to its own sockets) plus one
operation of ours, membership by user: "every socket of user U enters (or leaves) room R". A
process only knows its own sockets, so each process applies the change to the sockets it holds.
The change travels on the same channel as the emits, published on the same connection, so every
process applies it before any event that was emitted after it (an added participant cannot miss
the System message announcing them; a removed one cannot receive the one announcing their removal).

`skip_sid` may also name rooms (`user:<id>`), whose sockets are skipped on every process.

Both managers send one encoded packet to every recipient without a task per recipient: the
fan-out of a chat message is the hottest path of the service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

log = logging.getLogger(__name__)

MEMBERSHIP = "ticket-comms:membership"
# A membership change that could not be published (Redis down) is retried this long, then dropped:
# by then every socket of the process has reconnected to a Redis-less process or the change is moot.
MEMBERSHIP_RETRY_SECONDS = 60.0
# Redis down: how long emits skip publishing after a failure, the longest pause between attempts to
# resubscribe, and how long connecting may take.
PUBLISH_PAUSE_SECONDS = 1.0
LISTEN_RETRY_MAX_SECONDS = 2.0
REDIS_CONNECT_TIMEOUT_SECONDS = 3.0


class _RoomIndex:
    """Which rooms each socket is in, kept beside python-socketio's room -> sockets map.

    The stock manager finds a socket's rooms by scanning every room of the namespace, so each
    disconnect costs O(all rooms): with 10,000 users and their tickets connected, a wave of
    reconnects becomes quadratic. With the index it costs O(the socket's own rooms).
    """

    rooms: dict[str, Any]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Lists, not sets: a socket is in a few dozen rooms at most, and a set of 20 names costs ~2 KB
        # per socket against ~0.2 KB for a list (measured with tracemalloc).
        self._rooms_of: dict[tuple[str, str], list[str | None]] = {}

    def basic_enter_room(
        self, sid: str, namespace: str, room: str | None, eio_sid: str | None = None
    ) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        joined = self._rooms_of.setdefault((namespace, sid), [])
        if room not in joined:
            joined.append(room)

    def basic_leave_room(self, sid: str, namespace: str, room: str | None) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        joined = self._rooms_of.get((namespace, sid))
        if joined is not None and room in joined:
            joined.remove(room)

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        for room in self._rooms_of.pop((namespace, sid), ()):
            super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[str]:
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]


class _FastEmit:
    """The emit of python-socketio's AsyncManager without a task per recipient.

    The stock emit wraps each recipient's send in `asyncio.create_task`; an Engine.IO socket's send
    only appends to that socket's unbounded queue, so it is done inline here, which removes most
    of the per-recipient cost. Emits with a callback keep the stock path (unique ids per recipient).
    """

    server: Any
    rooms: dict[str, Any]

    async def _local_emit(
        self, event: str, data: Any, namespace: str, room: Any, skip_sid: Any, callback: Any
    ) -> bool:
        if callback or namespace not in self.rooms:
            return False
        args = list(data) if isinstance(data, tuple) else ([data] if data is not None else [])
        if namespace == "/":
            # The Socket.IO EVENT packet, encoded once for every recipient. The stock Packet also
            # walks the whole payload looking for bytes to send as binary attachments; this
            # service's events are JSON only.
            encoded = [f"{packet.EVENT}{self.server.packet_class.json.dumps([event, *args])}"]
        else:
            built = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args]).encode()
            encoded = built if isinstance(built, list) else [built]
        eio_pkts = [eio_packet.Packet(eio_packet.MESSAGE, p) for p in encoded]
        skip: set[str] = set()
        for entry in skip_sid if isinstance(skip_sid, list) else [skip_sid]:
            if entry is None:
                continue
            if ":" in entry:
                # A room name (sids never contain ':'): skip that room's sockets held by this process.
                # `userTyping` skips the typer's `user:<id>` room this way, on every process.
                skip.update(sid for sid, _ in self.get_participants(namespace, entry))  # type: ignore[attr-defined]
            else:
                skip.add(entry)
        eio = self.server.eio
        for sid, eio_sid in self.get_participants(namespace, room):  # type: ignore[attr-defined]
            if sid in skip:
                continue
            socket = eio.sockets.get(eio_sid)
            if socket is None or socket.closed:
                continue
            for p in eio_pkts:
                # Engine.IO's AsyncSocket.send: queue the packet for the socket's writer task.
                socket.queue.put_nowait(p)
        return True


class LocalManager(_RoomIndex, _FastEmit, socketio.AsyncManager):
    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):  # type: ignore[no-untyped-def]
        if await self._local_emit(event, data, namespace, to or room, skip_sid, callback):
            return None
        return await super().emit(
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
        )

    async def apply_membership(self, op: str, room: str, user_room: str) -> None:
        await _apply(self, op, room, user_room)


class RedisManager(_RoomIndex, _FastEmit, socketio.AsyncRedisManager):
    def __init__(self, url: str, **kwargs: Any):
        # Without a connect timeout, a Redis host that stops answering holds every emit for minutes.
        kwargs.setdefault("redis_options", {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS})
        super().__init__(url, **kwargs)
        self._retries: set[asyncio.Task[None]] = set()
        self._publish_paused_until = 0.0
        self._dropped = 0
        # Called after the subscription comes back from an outage (realtime/resync.py).
        self.on_resubscribe: Callable[[], Awaitable[None]] | None = None

    # -- Redis down (tests/robustness/test_redis_outage.py) ---------------------------------------
    # Emits reach this process's sockets first (python-socketio handles them here, then publishes),
    # so a process keeps serving its own sockets. What other processes miss, clients get back with
    # `sync`; membership changes are retried (`_publish_later`) so none is lost.

    async def _publish(self, data: Any) -> None:
        """python-socketio's publish (two attempts), but after a failure emits skip Redis for
        PUBLISH_PAUSE_SECONDS instead of each paying two connection attempts and two error lines."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._publish_paused_until:
            self._dropped += 1
            return
        for _ in range(2):
            try:
                if not self.connected:  # type: ignore[has-type]
                    self._redis_connect()
                await self.redis.publish(self.channel, self.json.dumps(data))
                if self._dropped:
                    log.warning("Redis is back: %d emits did not reach the other processes", self._dropped)
                    self._dropped = 0
                return
            except Exception as exc:
                self.connected = False
                error = exc
        if not self._dropped:
            log.error("cannot publish to Redis, other processes miss emits until it is back: %s", error)
        self._dropped += 1
        self._publish_paused_until = loop.time() + PUBLISH_PAUSE_SECONDS

    async def _resubscribed(self) -> None:
        if self.on_resubscribe is not None:
            try:
                await self.on_resubscribe()
            except Exception:
                log.exception("could not recompute rooms after Redis came back")

    async def _redis_listen_with_retries(self):  # type: ignore[no-untyped-def]
        """python-socketio's listener, but the pause between resubscriptions is capped at
        LISTEN_RETRY_MAX_SECONDS (it doubles up to 60 s, so fan-out across processes stayed off for
        up to a minute after Redis was back), and an outage is logged once, not once per attempt."""
        retry_sleep = 0.25
        failures = 0
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                if failures:
                    log.warning("resubscribed to Redis after %d failed attempts", failures)
                    task = asyncio.create_task(self._resubscribed())
                    self._retries.add(task)
                    task.add_done_callback(self._retries.discard)
                failures = 0
                retry_sleep = 0.25
                async for message in self.pubsub.listen():
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failures:
                    log.error("lost the Redis subscription, retrying: %s", exc)
                failures += 1
                await asyncio.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, LISTEN_RETRY_MAX_SECONDS)

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        remote_callback = message.get("callback")
        if remote_callback is None and not message.get("binary"):
            data = message["data"]
            if isinstance(data, list):
                data = data[0] if len(data) == 1 else tuple(data)
            namespace = message.get("namespace") or "/"
            if await self._local_emit(
                message["event"], data, namespace, message.get("room"), message.get("skip_sid"), None
            ):
                return
        await super()._handle_emit(message)

    async def apply_membership(self, op: str, room: str, user_room: str) -> None:
        """Apply the change here at once, then tell the other processes."""
        await _apply(self, op, room, user_room)
        message = {
            "method": MEMBERSHIP,
            "op": op,
            "room": room,
            "userRoom": user_room,
            "host_id": self.host_id,
        }
        if not await self._try_publish(message):
            task = asyncio.create_task(self._publish_later(message))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)

    async def _try_publish(self, message: dict[str, Any]) -> bool:
        try:
            if not self.connected:  # type: ignore[has-type]
                self._redis_connect()
            await self.redis.publish(self.channel, self.json.dumps(message))
            return True
        except Exception as exc:
            log.warning("could not publish a membership change: %s", exc)
            self.connected = False
            return False

    async def _publish_later(self, message: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MEMBERSHIP_RETRY_SECONDS
        while loop.time() < deadline:
            await asyncio.sleep(0.5)
            if await self._try_publish(message):
                return
        log.error(
            "dropped a membership change after %.0f s without Redis: %s", MEMBERSHIP_RETRY_SECONDS, message
        )

    async def _listen(self):  # type: ignore[no-untyped-def]
        # Membership changes are handled here, in channel order, and never reach the stock dispatcher
        # (which ignores methods it does not know). Everything else is passed on already decoded.
        async for raw in super()._listen():
            try:
                data = self.json.loads(raw)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("method") == MEMBERSHIP:
                if data.get("host_id") != self.host_id:
                    try:
                        await _apply(self, data["op"], data["room"], data["userRoom"])
                    except Exception:
                        log.exception("could not apply a membership change")
                continue
            yield data

    async def close(self) -> None:
        """Stop listening and close the Redis connection (the app's shutdown)."""
        for task in list(self._retries):
            task.cancel()
        thread = getattr(self, "thread", None)
        if thread is not None:
            thread.cancel()
            try:
                await thread
            except (asyncio.CancelledError, Exception):  # noqa: S110 - shutting down
                pass
        if self.redis is not None:
            await self.redis.aclose()


async def _apply(manager: socketio.AsyncManager, op: str, room: str, user_room: str) -> None:
    """Put this process's sockets in `user_room` into `room` (op "join"), or take them out."""
    for sid, eio_sid in list(manager.get_participants("/", user_room)):
        if op == "join":
            await socketio.AsyncManager.enter_room(manager, sid, "/", room, eio_sid=eio_sid)
        else:
            await socketio.AsyncManager.leave_room(manager, sid, "/", room)
