"""Where the realtime transport reaches into python-engineio, python-socketio and uvicorn internals.

The idle-socket memory and fan-out figures of docs/architecture.md come from replacing parts of
those libraries that are not public API: private methods overridden in our subclasses
(`engine.py`, `websocket.py`, `server.py`, `manager.py`), one module attribute swapped, and
library objects altered in place. None of it is covered by the libraries' compatibility promises,
so this module makes the contract explicit:

- `VALIDATED`: the exact versions every patch below was read against and measured with;
  `apply()` (run by `build_server`, so by every app start) refuses any other installed version
  with `UnvalidatedLibraries`, which says what to do, instead of failing obscurely on the first
  connection or silently losing the gain;
- `PATCHES`: one entry per patched library name, saying what upstream does and why we differ;
  tests/realtime/test_patches.py checks every entry still names something that exists, and that
  every library method our subclasses override is listed here;
- the in-place alterations themselves are the functions below, so they are found in one place.

websockets (under uvicorn) is not in VALIDATED: what we call of it (`ServerProtocol.send_text`,
`data_to_send`, `PerMessageDeflate.encode`) is its documented sans-I/O and extension API, not internals.

To move to a new library version: read each listed upstream name in it, adjust our version, measure
`bench/realtime_idle.py` and `bench/realtime_fanout.py`, then update VALIDATED (and pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

VALIDATED: dict[str, str] = {
    "python-engineio": "4.15.1",
    "python-socketio": "5.18.1",
    "uvicorn": "0.54.0",
}


class UnvalidatedLibraries(RuntimeError):
    """An installed realtime library is not the version realtime/patches.py was validated against."""


def installed_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in VALIDATED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def check_versions(installed: Mapping[str, str | None] | None = None) -> None:
    """Raise `UnvalidatedLibraries` unless every library of VALIDATED is installed at that version."""
    found = installed_versions() if installed is None else installed
    wrong = [
        f"{name}=={found.get(name) or '(not installed)'} (validated: {version})"
        for name, version in VALIDATED.items()
        if found.get(name) != version
    ]
    if wrong:
        raise UnvalidatedLibraries(
            "ticket_comms.realtime patches internals of these libraries and was validated only against "
            f"{', '.join(f'{n}=={v}' for n, v in VALIDATED.items())}; installed: {', '.join(wrong)}. "
            "Install the pinned versions (pip install -e .), or re-validate every entry of "
            "realtime/patches.py PATCHES against the new versions and update VALIDATED."
        )


@dataclass(frozen=True)
class Patch:
    target: str  # the library's dotted name we replace or alter
    ours: str  # where our version lives (ticket_comms.realtime.<module>.<name>)
    upstream: str  # what the library does there
    why: str  # why we differ


_ENGINE_SOCKET = "engineio.async_socket.AsyncSocket"
_ENGINE_SERVER = "engineio.async_server.AsyncServer"
_SIO_SERVER = "socketio.async_server.AsyncServer"
_BASE_MANAGER = "socketio.base_manager.BaseManager"
_PUBSUB = "socketio.async_pubsub_manager.AsyncPubSubManager"
_UVICORN_WS = "uvicorn.protocols.websockets.websockets_sansio_impl.WebSocketsSansIOProtocol"

PATCHES: tuple[Patch, ...] = (
    # python-engineio
    Patch(
        "engineio.async_server.async_socket",
        "patches.apply",
        "AsyncServer creates every socket as `async_socket.AsyncSocket(self, sid)`, with no hook for a "
        "subclass.",
        "Replaced by a namespace whose AsyncSocket is our EngineSocket: the only way to have the server "
        "create light sockets.",
    ),
    Patch(
        f"{_ENGINE_SERVER}.create_queue",
        "engine.EngineServer.create_queue",
        "An asyncio.Queue per socket (four deques, about 3.3 KB).",
        "An Outbox (LightQueue) that keeps nothing while empty and writes to an idle WebSocket directly.",
    ),
    Patch(
        f"{_ENGINE_SERVER}._service_task",
        "engine.EngineServer._service_task",
        "Checks one socket at a time, an `asyncio.wait_for` (a task, two futures, a timer) between two: "
        "400 a second with 8,000 sockets.",
        "One look over every socket a second, in slices: it also sends the pings that are due and ends "
        "connections whose deadline (token expiry) passed; closes at most CLOSES_PER_LOOK per look.",
    ),
    Patch(
        "engineio.base_server.BaseServer.__init__",
        "engine.EngineServer.__init__ (via patches.drop_websocket_body_reader)",
        "`_async['translate_request']` builds an environ with a body reader class per request, kept as "
        "long as the connection.",
        "A WebSocket has no body: the reader is dropped at once (about 2 KB per socket).",
    ),
    Patch(
        f"{_ENGINE_SOCKET}.schedule_ping",
        "engine.EngineSocket.schedule_ping",
        "Starts a task that sleeps ping_interval and then sends a PING.",
        "Records when the next ping is due; the server's look sends it (no task, no timer per socket).",
    ),
    Patch(
        f"{_ENGINE_SOCKET}.close",
        "engine.EngineSocket.close",
        "Queues CLOSE and relies on its readers' and writer's timeouts to notice the end.",
        "Our waits have no timeouts: close wakes the outbox's waiter.",
    ),
    Patch(
        f"{_ENGINE_SOCKET}._upgrade_websocket",
        "engine.EngineSocket._upgrade_websocket",
        "Keeps the request environ (all HTTP headers) for the connection's life.",
        "Headers are dropped once the upgrade is decided (about 1 KB per socket).",
    ),
    Patch(
        f"{_ENGINE_SOCKET}._websocket_handler",
        "engine.EngineSocket._websocket_handler",
        "A reader loop with a task per pending read (with a timeout) and a writer task waiting on the "
        "queue with a timeout.",
        "For sockets that open as a WebSocket: one writer task, reads without timeout, direct writes "
        "when the writer is idle. Upgrades from long-polling keep upstream's path.",
    ),
    # python-socketio
    Patch(
        "socketio.packet.Packet.data_is_binary",
        "codec.JsonPacket.data_is_binary",
        "Walks the whole payload of every packet built (each ack carries a whole message) for bytes.",
        "False: this service's events are JSON only (files go over HTTP).",
    ),
    Patch(
        f"{_SIO_SERVER}._engineio_server_class",
        "server.Server._engineio_server_class",
        "Returns engineio.AsyncServer.",
        "Returns our EngineServer.",
    ),
    Patch(
        f"{_SIO_SERVER}._handle_event_internal",
        "server.Server._handle_event_internal",
        "Runs the handler; whether an ack was requested is not visible to it.",
        "Records it in a context variable so errors go to the ack, or to an `error` event.",
    ),
    Patch(
        f"{_SIO_SERVER}._handle_eio_message",
        "server.Server._handle_eio_message",
        "A malformed packet raises out of the handler (a server traceback).",
        "Answers the client with an `error` event (bad_packet) and keeps the connection.",
    ),
    Patch(
        f"{_BASE_MANAGER}.basic_enter_room",
        "manager.RoomIndex.basic_enter_room",
        "Adds the socket to the room -> sockets map only.",
        "Also to our socket -> rooms index, so a disconnect is O(own rooms).",
    ),
    Patch(
        f"{_BASE_MANAGER}.basic_leave_room",
        "manager.RoomIndex.basic_leave_room",
        "Removes the socket from the room -> sockets map only.",
        "Keeps our socket -> rooms index in step.",
    ),
    Patch(
        f"{_BASE_MANAGER}.basic_disconnect",
        "manager.RoomIndex.basic_disconnect",
        "Scans every room of the namespace for the socket (O(all rooms) per disconnect).",
        "Leaves only the socket's own rooms, from our index.",
    ),
    Patch(
        f"{_BASE_MANAGER}.get_rooms",
        "manager.RoomIndex.get_rooms",
        "Scans every room of the namespace.",
        "Reads our index.",
    ),
    Patch(
        "socketio.async_manager.AsyncManager.emit",
        "manager.LocalManager.emit",
        "Encodes the packet and creates a task per recipient to queue it.",
        "Encodes once and queues inline (`FastEmit._local_emit`); emits with a callback keep upstream's path.",
    ),
    Patch(
        f"{_PUBSUB}._handle_emit",
        "redis_manager.RedisManager._handle_emit",
        "Emits a message from Redis through the task-per-recipient path.",
        "The inline fan-out of FastEmit; messages with callbacks or binary data keep upstream's path.",
    ),
    Patch(
        "socketio.async_redis_manager.AsyncRedisManager.__init__",
        "redis_manager.RedisManager.__init__",
        "Connects lazily; keeps no tasks of ours.",
        "Adds the set of membership changes waiting for Redis to come back (cancelled by close()).",
    ),
    Patch(
        "socketio.async_redis_manager.AsyncRedisManager._listen",
        "redis_manager.RedisManager._listen",
        "Yields every raw message of the channel to the dispatcher.",
        "Applies our membership changes in channel order (so they are ordered with emits) and passes "
        "the rest on decoded.",
    ),
    Patch(
        "socketio.async_redis_manager.AsyncRedisManager._publish",
        "redis_manager.RedisManager._publish",
        "Two publish attempts per emit, each reconnecting and logging an error when Redis is down.",
        "After a failure, emits skip Redis for PUBLISH_PAUSE_SECONDS (local sockets still get them; "
        "other processes' sockets catch up with `sync`) and the outage is logged once, not per emit.",
    ),
    Patch(
        "socketio.async_redis_manager.AsyncRedisManager._redis_listen_with_retries",
        "redis_manager.RedisManager._redis_listen_with_retries",
        "Resubscribes after a doubling pause of up to 60 s, logging every failed attempt.",
        "The pause is capped at LISTEN_RETRY_MAX_SECONDS, so cross-process fan-out resumes within "
        "seconds of Redis coming back; rooms are recomputed after resubscribing (realtime/resync.py).",
    ),
    # uvicorn
    Patch(
        f"{_UVICORN_WS}.__init__",
        "websocket.WebSocketProtocol.__init__",
        "An asyncio.Queue inbox and an asyncio.Event 'writable' per connection.",
        "LightQueue and Flag, which keep nothing while idle (about 4 KB per connection).",
    ),
    Patch(
        f"{_UVICORN_WS}.send",
        "websocket.WebSocketProtocol.send (via patches.forget_handshake)",
        "Keeps the parsed handshake (request, response and their headers) for the connection's life.",
        "Emptied after accept (about 2 KB per connection); and the negotiated permessage-deflate becomes "
        "our threshold version (patches.compress_from).",
    ),
    Patch(
        "websockets.extensions.permessage_deflate.PerMessageDeflate.encode",
        "websocket._ThresholdDeflate.encode",
        "Compresses every data frame.",
        "Leaves frames under SOCKETIO_COMPRESSION_THRESHOLD uncompressed (RFC 7692 allows it).",
    ),
)

# What `engineio.async_server` reads its socket class from after `apply()`.
_socket_namespace: Any = None


def apply(socket_class: type) -> None:
    """Check the library versions, then have Engine.IO create its sockets as `socket_class`."""
    global _socket_namespace
    check_versions()
    from engineio import async_server

    if _socket_namespace is None or _socket_namespace.AsyncSocket is not socket_class:
        _socket_namespace = type("_Sockets", (), {"AsyncSocket": socket_class})
    async_server.async_socket = _socket_namespace


def drop_websocket_body_reader(translate: Callable[..., Any]) -> Callable[..., Any]:
    """Engine.IO's ASGI request translation, without the body reader for WebSocket requests.

    The reader is a class defined per request (a reference cycle); dropped at once, before it
    outlives the young collections (measured: 3 KB more per socket when dropped later)."""

    async def translate_request(scope: dict[str, Any], receive: Any, send: Any) -> dict[str, Any]:
        environ: dict[str, Any] = await translate(scope, receive, send)
        if environ and scope.get("type") == "websocket":
            environ["wsgi.input"] = None
        return environ

    return translate_request


def drop_headers(environ: dict[str, Any]) -> None:
    """Empty an upgraded WebSocket's environ of its HTTP headers (and the ASGI scope's)."""
    # A dict keeps its table when keys are deleted, so the environ is rebuilt in place.
    kept = {k: v for k, v in environ.items() if not k.startswith("HTTP_")}
    environ.clear()
    environ.update(kept)
    scope = environ.get("asgi.scope")
    if isinstance(scope, dict):
        scope["headers"] = []


def forget_handshake(protocol: Any) -> None:
    """Empty uvicorn's parsed handshake once a connection is accepted."""
    # websockets' parser generator keeps the request in a local for the connection's life, so its
    # headers are emptied rather than only unreferenced here.
    protocol.request.headers.clear()
    protocol.response.headers.clear()
    protocol.request = None
    protocol.response = None


def compress_from(protocol: Any, deflate_class: type, threshold: int) -> None:
    """Make the connection's negotiated permessage-deflate leave messages under `threshold` bytes
    uncompressed: websockets builds the extension itself during the handshake, so its class is
    swapped on the instance."""
    from websockets.extensions.permessage_deflate import PerMessageDeflate

    for extension in protocol.conn.extensions:
        if type(extension) is PerMessageDeflate:
            extension.__class__ = deflate_class
            extension.threshold = threshold  # type: ignore[attr-defined]
