"""Text the service stores must be storable: no NUL and no lone surrogate anywhere in a request's JSON.

JSON may spell both (`\\u0000`, `\\ud800`) and Python decodes them, but PostgreSQL refuses NUL in
text and jsonb and a lone surrogate cannot be encoded as UTF-8 at all: unchecked, either reached the
database as a 500. Every request model checks its whole input here (keys and values, at any depth),
so one rule covers every field, and the 422 names the field.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

# NUL, and UTF-16 surrogates, which only ever stand alone in a decoded Python string.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Deeper than any real payload; orjson cannot write more than 255 levels back out.
MAX_DEPTH = 32


def problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain the NUL character (U+0000)"
    return "must not contain a lone surrogate (invalid Unicode)"


def find_problem(data: Any) -> tuple[tuple[str | int, ...], str] | None:
    """The path to the first unstorable string in `data` (decoded JSON) and why, or None.

    Iterative, so a deeply nested document cannot exhaust the stack.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_DEPTH:
            return path, f"is nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, str):
            why = problem(value)
            if why:
                return path, why
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and (why := problem(key)):
                    return (*path, key[:40].encode("utf-8", "replace").decode()), f"name {why}"
                stack.append(((*path, key), item))
        elif isinstance(value, list | tuple):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
    return None


def check(data: Any, title: str) -> None:
    """Raise a pydantic ValidationError naming the field when `data` holds text that cannot be stored."""
    found = find_problem(data)
    if found is None:
        return
    path, why = found
    raise ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError(
                    "text_not_storable", "{field} {why}", {"field": _name(path), "why": why}
                ),
                loc=path,
                input="",
            )
        ],
    )


def _name(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) or "value"
