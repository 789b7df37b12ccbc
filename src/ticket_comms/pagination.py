"""Keyset cursors: the sort key of a page's last row, as an opaque URL-safe string.

Lists are keyset-paginated (never OFFSET): the next page is "rows after this key" in the list's order.
A cursor comes back from the client, so it is untrusted input: anything that is not a cursor we made
(wrong shape, wrong types, NUL, values out of range) is a 400 `bad_cursor`, never a database error.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from ticket_comms import textcheck
from ticket_comms.errors import BadRequest

MAX_CURSOR = 500


def encode_cursor(*key: Any) -> str:
    """Datetimes, UUIDs, numbers and strings; orjson writes datetimes as ISO 8601 and UUIDs as text."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str, *parsers: Callable[[Any], Any]) -> tuple[Any, ...]:
    """Parse a cursor made by encode_cursor, each part with its parser; anything else is a 400.

    Parsers are the plain constructors (`UUID`, `float`, `datetime.fromisoformat`, ...); each part is
    first checked to be of the JSON type that parser takes, so a part of the wrong type is refused
    here instead of surfacing as whatever error that constructor happens to raise.
    """
    try:
        if not cursor or len(cursor) > MAX_CURSOR:
            raise ValueError("empty or too long")
        parts = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or len(parts) != len(parsers):
            raise ValueError("wrong shape")
        return tuple(_parse(parse, part) for parse, part in zip(parsers, parts, strict=True))
    except (ValueError, TypeError, OverflowError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest("The cursor is not valid.", code="bad_cursor") from None


def _parse(parse: Callable[[Any], Any], part: Any) -> Any:
    if parse is float or parse is int:
        if isinstance(part, bool) or not isinstance(part, int | float):
            raise TypeError("not a number")
        value = parse(part)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not finite")
        return value
    if not isinstance(part, str) or textcheck.problem(part):
        raise TypeError("not text")
    value = parse(part)
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("a cursor's time carries its offset")
    if isinstance(value, UUID | datetime | str):
        return value
    raise TypeError("unexpected parser")
