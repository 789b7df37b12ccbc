"""Shared wire building blocks every domain uses: the camelCase request model, time formatting, JSON text.

They live here, outside any domain, so no domain imports another only for these: `CamelModel` is the
base of every request body, `iso` writes every timestamp of every answer, `dumps` is the one JSON
encoder for text stored or sent (orjson: UUIDs and datetimes natively), `jsonb` the same for a JSONB
parameter of a statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, model_validator

from ticket_comms import textcheck


class CamelModel(BaseModel):
    """A request body: camelCase aliases (snake_case accepted too), unknown keys ignored, strings bounded."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_max_length=100_000)

    @model_validator(mode="wrap")
    @classmethod
    def _storable_text(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # The outermost model sees the whole input, so the error's path is the field's full path.
        textcheck.check(data, cls.__name__)
        return handler(data)


def iso(value: datetime | None) -> str | None:
    """A timestamp as the contract writes it (ISO 8601 with offset); None stays None."""
    return value.isoformat() if value is not None else None


def dumps(value: Any) -> str:
    """JSON text of `value` (orjson)."""
    return orjson.dumps(value).decode()


def jsonb(value: Any) -> Jsonb:
    """`value` as a JSONB statement parameter, encoded by orjson."""
    return Jsonb(value, dumps=dumps)
