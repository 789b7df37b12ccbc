"""uvicorn's WebSocket protocol, trimmed for thousands of long-lived, mostly idle connections.

The behaviour is uvicorn's (websockets' sans-I/O implementation); what changes is what each open
connection keeps in memory, and how a message reaches it:

- the inbox of received messages and the "writable" flag are the light versions of
  `realtime/queues.py` (about 4 KB less per connection);
- the parsed handshake (request and response, with their header maps) is emptied once the
  connection is accepted: nothing reads it afterwards (about 2 KB less);
- `send_now` writes a message synchronously when the transport can take it, so that Engine.IO's
  fan-out does not wake a task per recipient (realtime/engine.py), and builds a fan-out's frame once
  for all its recipients (`_text_frame`);
- WebSocket-level keepalive pings are off (`UVICORN_WEBSOCKET_OPTIONS`): Engine.IO already pings
  every client every 25 s and closes the ones that stop answering, so a second timer per
  connection bought nothing;
- per-message compression (permessage-deflate) is off unless SOCKETIO_COMPRESSION_THRESHOLD is set,
  and then only frames of at least that many bytes are compressed (docs/architecture.md says why).

`websocket_options(settings)` is what `ticket-comms serve` passes to uvicorn; the tests use the
default, `UVICORN_WEBSOCKET_OPTIONS`.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import BINARY, TEXT, Frame
from websockets.protocol import State

from ticket_comms.realtime import patches
from ticket_comms.realtime.queues import Flag, LightQueue


class _ThresholdDeflate(PerMessageDeflate):
    """permessage-deflate that sends whole messages under `threshold` bytes uncompressed.

    RFC 7692 lets a sender leave any message uncompressed (RSV1 clear) on a connection that
    negotiated the extension; the peer's inflater only sees the compressed ones, so its context
    stays consistent with ours."""

    threshold = 0

    def encode(self, frame: Frame) -> Frame:
        if frame.opcode in (TEXT, BINARY) and frame.fin and len(frame.data) < self.threshold:
            return frame
        return super().encode(frame)


# The last text frame built, by the identity of its message. A fan-out writes the same message
# object (Engine.IO caches a packet's encoding, and one packet goes to every recipient) to each
# socket in turn, and a server's frames are never masked: without extensions (per-message
# compression off, the default) the bytes are the same for every recipient, so they are built
# once per message instead of once per socket (UTF-8 encoding, header and frame objects). Holding
# the message keeps its identity from being reused.
_last_text_frame: tuple[str, bytes] = ("", b"")


def _text_frame(message: str) -> bytes:
    """What websockets' `send_text` would write for `message` on a server connection without extensions."""
    global _last_text_frame
    if message is not _last_text_frame[0]:
        _last_text_frame = (message, Frame(TEXT, message.encode()).serialize(mask=False, extensions=[]))
    return _last_text_frame[1]


class WebSocketProtocol(WebSocketsSansIOProtocol):
    # Every attribute uvicorn's protocol sets, as slots: uvicorn's class has no __slots__, and with
    # more than 30 attributes CPython gives each instance a dict of its own instead of one sharing the
    # class's keys (about 1.6 KB per connection, tracemalloc). A slot is 8 bytes. An attribute missing
    # here still works, in the instance's dict; tests/realtime/test_transport.py checks there is none.
    __slots__ = (
        "app", "app_state", "asgi_version", "client", "close_sent", "close_timeout", "close_timer",
        "config", "conn", "connections", "curr_msg_data_type", "default_headers", "disconnected",
        "frames", "handshake_complete", "handshake_initiated", "initial_response", "last_ping_rtt",
        "logger", "loop", "pending_ping_payload", "ping_interval", "ping_sent_at", "ping_timeout",
        "ping_timer", "pong_timer", "queue", "read_paused", "request", "response", "root_path",
        "scheme", "scope", "server", "tasks", "transport", "writable",
    )  # fmt: skip

    # Messages under this many bytes are not compressed when the client negotiated permessage-deflate
    # (only reached when compression is on, see `websocket_options`).
    compression_threshold = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = LightQueue()  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]

    def send_now(self, data: str | bytes) -> bool:
        """Write one message at once, as `send` would, when nothing has to wait: the handshake is
        done, the connection is open and the transport is below its high-water mark. False when the
        caller must go through `send` instead (which waits for the transport, or fails)."""
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.initial_response is not None
            or not self.writable.is_set()
            or self.transport.is_closing()
        ):
            return False
        conn = self.conn
        if isinstance(data, str) and not conn.extensions and conn.state is State.OPEN:
            if conn.expect_continuation_frame:
                return False
            self.transport.write(_text_frame(data))
            return True
        try:
            if isinstance(data, str):
                conn.send_text(data.encode())
            else:
                conn.send_binary(data)
        except InvalidState:
            return False
        self.transport.write(b"".join(conn.data_to_send()))
        return True

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            patches.forget_handshake(self)
            patches.compress_from(self, _ThresholdDeflate, self.compression_threshold)


# Frames over 1 MiB are refused by the WebSocket layer (close code 1009) before they are buffered:
# uvicorn's default would read up to 16 MiB per frame only for Engine.IO to refuse anything over
# 1,000,000 characters (its max_http_buffer_size, as Node's socket.io maxHttpBufferSize).
UVICORN_WEBSOCKET_OPTIONS: dict[str, Any] = {
    "ws": WebSocketProtocol,
    "ws_ping_interval": None,
    "ws_max_size": 1_048_576,
    "ws_per_message_deflate": False,
}


def websocket_options(compression_threshold: int | None) -> dict[str, Any]:
    """uvicorn's WebSocket options; with a threshold, permessage-deflate is offered to clients and
    used for messages of at least that many bytes."""
    if compression_threshold is None:
        return UVICORN_WEBSOCKET_OPTIONS
    protocol = type(
        "CompressingWebSocketProtocol", (WebSocketProtocol,), {"compression_threshold": compression_threshold}
    )
    return {**UVICORN_WEBSOCKET_OPTIONS, "ws": protocol, "ws_per_message_deflate": True}
