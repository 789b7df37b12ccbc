"""orjson as python-socketio's JSON module: the packet encoder runs once per emitted event."""

from __future__ import annotations

import json
from typing import Any

import orjson


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
