"""orjson as python-socketio's JSON module: the packet encoder runs once per emitted event."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_PASSTHROUGH_DATETIME, default=str).decode()


def loads(data: str | bytes, **_: Any) -> Any:
    return orjson.loads(data)
