"""uvicorn's WebSocket protocol, trimmed for thousands of long-lived, mostly idle connections.

The behaviour is uvicorn's (websockets' sans-I/O implementation); what changes is what each open
connection keeps in memory:

- the inbox of received messages and the "writable" flag are the light versions of
  `realtime/queues.py` (about 4 KB less per connection);
- the parsed handshake (request and response, with their header maps) is emptied once the
  connection is accepted: nothing reads it afterwards (about 2 KB less);
- WebSocket-level keepalive pings are off (`UVICORN_WEBSOCKET_OPTIONS`): Engine.IO already pings
  every client every 25 s and closes the ones that stop answering, so a second timer per
  connection bought nothing.

`UVICORN_WEBSOCKET_OPTIONS` is what `ticket-comms serve` and the tests pass to uvicorn.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from ticket_comms.realtime.queues import Flag, LightQueue


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = LightQueue()  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            # websockets' parser generator keeps the request in a local for the connection's life,
            # so its headers are emptied rather than only unreferenced here.
            self.request.headers.clear()
            self.response.headers.clear()
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]


UVICORN_WEBSOCKET_OPTIONS: dict[str, Any] = {"ws": WebSocketProtocol, "ws_ping_interval": None}
