"""Socket.IO client managers: who is in which room, and how an emit reaches the sockets.

`LocalManager` serves one process. `RedisManager` (realtime/redis_manager.py, imported only when
REDIS_URL is set: redis-py is ~6 MB a single process does not need) is python-socketio's Redis manager (every emit is
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

import logging
from typing import TYPE_CHECKING, Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ticket_comms.realtime.redis_manager import RedisManager


class RoomIndex:
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


class FastEmit:
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


class LocalManager(RoomIndex, FastEmit, socketio.AsyncManager):
    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):  # type: ignore[no-untyped-def]
        if await self._local_emit(event, data, namespace, to or room, skip_sid, callback):
            return None
        return await super().emit(
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
        )

    async def apply_membership(self, op: str, room: str, user_room: str) -> None:
        await apply(self, op, room, user_room)

    async def close(self) -> None:
        """Nothing to close: a local manager holds no connection (RedisManager's closes Redis)."""


async def apply(manager: socketio.AsyncManager, op: str, room: str, user_room: str) -> None:
    """Put this process's sockets in `user_room` into `room` (op "join"), or take them out."""
    for sid, eio_sid in list(manager.get_participants("/", user_room)):
        if op == "join":
            await socketio.AsyncManager.enter_room(manager, sid, "/", room, eio_sid=eio_sid)
        else:
            await socketio.AsyncManager.leave_room(manager, sid, "/", room)


def client_manager(redis_url: str | None, **redis_options: Any) -> LocalManager | RedisManager:
    """The Redis manager when REDIS_URL is set (`redis_options` go to it), else the local one."""
    if not redis_url:
        return LocalManager()
    from ticket_comms.realtime.redis_manager import RedisManager

    return RedisManager(redis_url, **redis_options)
