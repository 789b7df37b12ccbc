"""WebSocket per-message compression: off by default, and a size threshold when it is turned on."""

from __future__ import annotations

import zlib

from websockets.asyncio.client import connect as ws_connect
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import TEXT, Frame

from tests.conftest import RunningApp
from ticket_comms.realtime.websocket import (
    UVICORN_WEBSOCKET_OPTIONS,
    WebSocketProtocol,
    _ThresholdDeflate,
    websocket_options,
)


async def test_the_server_declines_permessage_deflate_by_default(app: RunningApp) -> None:
    url = app.base_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    # websockets' client offers permessage-deflate, as browsers and socket.io-client do.
    async with ws_connect(url, compression="deflate") as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        assert ws.protocol.extensions == []
        assert (await ws.recv()).startswith("0{")  # the Engine.IO handshake, uncompressed


def test_a_threshold_turns_compression_on_for_large_messages_only() -> None:
    assert websocket_options(None) is UVICORN_WEBSOCKET_OPTIONS
    options = websocket_options(512)
    assert options["ws_per_message_deflate"] is True
    assert issubclass(options["ws"], WebSocketProtocol) and options["ws"].compression_threshold == 512

    extension = PerMessageDeflate(False, False, 15, 15)
    extension.__class__ = _ThresholdDeflate
    extension.threshold = 512  # type: ignore[attr-defined]
    small = extension.encode(Frame(TEXT, b'42["userTyping",{}]'))
    assert small.rsv1 is False and small.data == b'42["userTyping",{}]'
    large_data = b'42["newMessage",' + b"x" * 2000 + b"]"
    large = extension.encode(Frame(TEXT, large_data))
    assert large.rsv1 is True and len(large.data) < 200
    # A peer inflates the compressed message with its own context, unaffected by the skipped one.
    inflater = zlib.decompressobj(wbits=-15)
    assert inflater.decompress(bytes(large.data) + b"\x00\x00\xff\xff") == large_data
