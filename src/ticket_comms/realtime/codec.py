"""orjson as python-socketio's JSON module (the packet encoder runs once per emitted event), and the
Socket.IO packet class of a JSON-only protocol."""

from __future__ import annotations

import json
from typing import Any

import orjson
from socketio import packet


def dumps(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_PASSTHROUGH_DATETIME, default=str).decode()


def loads(data: str | bytes, **_: Any) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits, which are valid JSON: let the payload reach the
        # handler's validation (an error ack) instead of failing the packet. Malformed JSON still
        # raises ValueError here.
        return json.loads(data)


class JsonPacket(packet.Packet):
    """Socket.IO packets whose payloads are JSON only.

    The stock packet walks every payload it is built with, looking for bytes to send as binary
    attachments: each `sendMessage` ack carries a whole message, so that walk was about 18 calls per
    message sent (cProfile under fan-out). This service's events never carry bytes (files go over
    HTTP, and `dumps` would turn bytes into text anyway), so there is nothing to find. Binary packets
    a client sends are still decoded: decoding does not use this check."""

    def data_is_binary(self, data: Any) -> bool:
        return False
