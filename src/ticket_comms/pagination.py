"""Keyset cursors: the sort key of a page's last row, as an opaque URL-safe string.

Lists are keyset-paginated (never OFFSET): the next page is "rows after this key" in the list's order.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson

from ticket_comms.errors import BadRequest


def encode_cursor(*key: Any) -> str:
    """Datetimes, UUIDs, numbers and strings; orjson writes datetimes as ISO 8601 and UUIDs as text."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str, *parsers: Callable[[Any], Any]) -> tuple[Any, ...]:
    """Parse a cursor made by encode_cursor, each part with its parser; anything else is a 400."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or len(parts) != len(parsers):
            raise ValueError("wrong shape")
        return tuple(parse(part) for parse, part in zip(parsers, parts, strict=True))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest("The cursor is not valid.", code="bad_cursor") from None
